"""Load: a backfill of many workflows from an API that answers 5% 429s and 2% 500s.

A simulator HTTP server (in this process, on a free loopback port, with the sandbox's token)
serves `workflows` workflows with those faults; one `stuut-pipeline run` discovers them all and
runs each. Every run must succeed and every workflow's published `calls` must be exact: the same
call ids and the same sum of invoice totals as a fault-free simulator of the same seed serves
(read from its store and summed here in Python, independently of the pipeline). Reports the wall
time and the peak RSS of the runner's process tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from stuut_pipeline import settings
from stuut_pipeline.simulator import FaultConfig, SimulatorServer, StuutSimulator
from stuut_pipeline.simulator.generator import GeneratorConfig

from . import helpers as h

RATE_429, RATE_500 = 0.05, 0.02
RETRY_AFTER_S = 0.2
SEED = 7  # its fault draws put both 429s and 500s in the quick size's ~35 requests


@dataclass(frozen=True)
class LoadSize:
    workflows: int
    calls_per_workflow: int


FULL = LoadSize(workflows=50, calls_per_workflow=600)
QUICK = LoadSize(workflows=6, calls_per_workflow=500)


def simulator(size: LoadSize, faults: FaultConfig | None = None) -> StuutSimulator:
    """The account the backfill reads (with `faults`), or its fault-free reference."""
    return StuutSimulator(
        GeneratorConfig(seed=SEED, n_workflows=size.workflows),
        n_calls=size.workflows * size.calls_per_workflow,
        token=h.API_TOKEN,
        faults=faults,
    )


@dataclass(frozen=True)
class Expected:
    """What one workflow's `calls` must hold: its ids, and the sum of its invoices' totals."""

    ids: frozenset[str]
    invoice_total: Decimal


def _money(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def reference(size: LoadSize) -> dict[str, Expected]:
    """Per workflow, from a fault-free simulator's records (plain Python, not the pipeline)."""
    store = simulator(size).store
    return {
        wf: Expected(
            frozenset(r["id"] for r in records),
            sum(
                (
                    _money(inv.get("total_amount"))
                    for r in records
                    for inv in r.get("invoices") or []
                ),
                Decimal(0),
            ),
        )
        for wf in store.workflow_ids()
        for records in [store.records(wf)]
    }


def published(data: Path, workflow: str) -> Expected | None:
    """What the pipeline published for `workflow` (None when a table is missing)."""
    part = f"workflow_id={workflow}/part-0.parquet"
    calls, invoices = data / "parquet/calls" / part, data / "parquet/call_invoices" / part
    if not (calls.is_file() and invoices.is_file()):
        return None
    con = duckdb.connect()
    try:
        ids = con.execute("SELECT call_id FROM read_parquet(?)", [str(calls)]).fetchall()
        total = con.execute(
            "SELECT coalesce(sum(total_amount), 0) FROM read_parquet(?)", [str(invoices)]
        ).fetchone()[0]
    finally:
        con.close()
    return Expected(frozenset(i for (i,) in ids), Decimal(total))


def compare(data: Path, expected: dict[str, Expected]) -> list[str]:
    """What differs between each workflow's published calls and `expected` (empty: exact)."""
    problems = []
    for wf, want in sorted(expected.items()):
        got = published(data, wf)
        if got is None:
            problems.append(f"{wf}: calls or call_invoices not published")
        elif got.ids != want.ids:
            problems.append(
                f"{wf}: {len(want.ids - got.ids)} calls missing, {len(got.ids - want.ids)} extra"
            )
        elif got.invoice_total != want.invoice_total:
            problems.append(f"{wf}: invoice total {got.invoice_total} != {want.invoice_total}")
    return problems


def rows_lost(data: Path, expected: dict[str, Expected]) -> int:
    """Calls expected but not published (a missing workflow counts all of its calls)."""
    return sum(len(e.ids) for e in expected.values()) - sum(
        len(p.ids) for wf in expected if (p := published(data, wf)) is not None
    )


@dataclass(frozen=True)
class Served:
    """One `stuut-pipeline run` against the simulator over HTTP, and what it was served."""

    outcome: h.RunOutcome
    faults: dict[str, int]
    requests: int


def serve_and_run(
    sandbox: h.Sandbox,
    size: LoadSize,
    faults: FaultConfig | None,
    workflow_ids: list[str],
    *,
    timeout: float = 3600,
    sampler: h.RssSampler | None = None,
) -> Served:
    """Run the pipeline for `workflow_ids` (all when empty) against `size`'s simulator, served
    over HTTP on a loopback port with the sandbox's token and `faults`."""
    with SimulatorServer(simulator(size, faults)) as server:
        env = {**sandbox.env(calls=0), settings.ENV_BASE_URL: server.url}
        outcome = h.run_pipeline(env, workflow_ids, timeout=timeout, sampler=sampler)
        return Served(outcome, dict(server.simulator.faults_injected), server.simulator.requests)


def run(root: Path, size: LoadSize = FULL) -> h.Result:
    result = h.Result(f"load (backfill of {size.workflows} workflows, 5% 429s + 2% 500s)")
    faults = FaultConfig(rate_429=RATE_429, rate_500=RATE_500, retry_after_s=RETRY_AFTER_S)
    expected = reference(size)
    sandbox = h.Sandbox.create(root)
    sampler = h.RssSampler()
    backfill = serve_and_run(sandbox, size, faults, [], sampler=sampler)
    outcome, served, requests = backfill.outcome, backfill.faults, backfill.requests
    wall = outcome.seconds
    lines = h.summary_lines(outcome.output)
    ok_runs = [line for line in lines if ": ok" in line]
    failed = [line for line in lines if "FAILED" in line]
    problems = compare(sandbox.data, expected)
    result.trials = len(lines)
    result.failed_runs = len(failed)
    result.rows_lost = rows_lost(sandbox.data, expected)
    result.partial_visible = len(h.stray_files(sandbox.data))
    result.notes += [
        f"{size.workflows} workflows x {size.calls_per_workflow} calls; exit {outcome.returncode};"
        f" runs ok {len(ok_runs)}/{size.workflows}, failed {len(failed)}",
        f"API: {requests} requests, {served.get('429', 0)} answered 429 and"
        f" {served.get('500', 0)} answered 500 (Retry-After {RETRY_AFTER_S} s)",
        f"wall time {wall:.1f} s ({wall / size.workflows:.1f} s per workflow); peak RSS of the"
        f" runner's process tree {sampler.peak_kib / 1024:.0f} MiB",
        f"outputs exact (call ids, sum of invoice totals vs a fault-free simulator):"
        f" {size.workflows - len(problems)}/{size.workflows}",
    ]
    result.notes += problems[:10]
    if outcome.returncode != 0:
        result.notes.append(f"runner output: {outcome.output[-800:]}")
    met_faults = served.get("429", 0) > 0 and served.get("500", 0) > 0
    if not met_faults:
        result.notes.append("the backfill met no 429 or no 500: it proves nothing")
    result.survived = (
        met_faults
        and outcome.returncode == 0
        and len(ok_runs) == size.workflows
        and not failed
        and not problems
        and result.partial_visible == 0
    )
    result.error_clear = "n/a (every fault must be retried away)"
    return result

"""The API misbehaving, through `stuut-pipeline run` against the simulator over HTTP.

- **flaky**: a backfill while the simulator answers 200s with an HTML body, resets connections
  halfway through a body, trickles bodies in small chunks, and sends 429s without
  `Retry-After`. Every run must succeed and every workflow's calls must be exact (the same ids
  and invoice total as a fault-free simulator, summed in plain Python).
- **cycle**: after a clean publish, a refresh from an API whose last page's `next_page` points
  back to page 0. The refresh must end in bounded time with an error naming `next_page`, and no
  published byte may change.
"""

from __future__ import annotations

from pathlib import Path

from stuut_pipeline.simulator import FaultConfig

from . import helpers as h
from . import load

FLAKY = FaultConfig(
    rate_html=0.08,
    rate_reset=0.08,
    rate_trickle=0.05,
    trickle_delay_s=0.02,
    trickle_chunk_bytes=16_384,
    rate_429=0.05,
    omit_retry_after=True,
)
CYCLE = FaultConfig(next_page_cycle_to=0)


def run(root: Path, size: load.LoadSize) -> h.Result:
    result = h.Result(f"API misbehaving ({size.workflows} workflows: flaky, then a cycle)")
    expected = load.reference(size)
    ids = sorted(expected)
    sandbox = h.Sandbox.create(root)

    backfill = load.serve_and_run(sandbox, size, FLAKY, [], timeout=1800)
    flaky, served = backfill.outcome, backfill.faults
    lines = h.summary_lines(flaky.output)
    problems = load.compare(sandbox.data, expected)
    result.failed_runs = sum("FAILED" in line for line in lines)
    result.rows_lost = load.rows_lost(sandbox.data, expected)
    result.notes.append(
        f"flaky: exit {flaky.returncode}, {len(lines)} runs, {result.failed_runs} failed,"
        f" {flaky.seconds:.0f} s; faults served: {served}; exact: {len(ids) - len(problems)}"
        f"/{len(ids)}"
    )
    result.notes += [f"flaky: {p}" for p in problems]

    before = h.file_digests(sandbox.data)
    cycle = load.serve_and_run(sandbox, size, CYCLE, ids[:1], timeout=1800).outcome
    cycle_s = cycle.seconds
    changed = h.changed_files(sandbox.data, before)
    cycle_lines = h.summary_lines(cycle.output)
    clear = bool(cycle_lines) and "next_page" in cycle_lines[0]
    result.notes.append(
        f"cycle: exit {cycle.returncode} after {cycle_s:.0f} s; published files changed:"
        f" {changed or 0}; summary: {cycle_lines[0][:300] if cycle_lines else '-'}"
    )
    result.trials = len(lines) + 1
    result.partial_visible = len(h.stray_files(sandbox.data)) + len(changed)
    result.error_clear = ("yes: " if clear else "no: ") + (
        cycle_lines[0][:240] if cycle_lines else "-"
    )
    result.survived = (
        flaky.returncode == 0
        and result.failed_runs == 0
        and not problems
        and cycle.returncode != 0
        and clear
        and not changed
        and sum(served.values()) > 0
    )
    return result

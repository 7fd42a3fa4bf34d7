"""Hostile inputs, run as a user would: `stuut-pipeline run` on the embedded simulator.

- **hostile**: the simulator serves a share of every workflow's calls as hostile JSON
  (`STUUT_SIM_HOSTILE_FRACTION`: lone surrogate escapes, missing or null ids, wrong types,
  200 KB strings, deep nesting, duplicate keys). Every run must succeed; per workflow the raw
  landing must hold exactly the served records, byte for byte; the calls published plus the
  records quarantined must equal the records received.
- **shrink**: a workflow is published, then refreshed from an API that returns under half of
  its calls. The refresh must fail naming both counts and `allow_shrink`, and no published byte
  may change.

The expected figures come from the simulator's store and Python's `json`, never from the
pipeline's own code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import zstandard

from stuut_pipeline import settings
from stuut_pipeline.layout import quarantine_key, raw_calls_key, table_key

from . import helpers as h

HOSTILE_FRACTION = 0.05


def _served(calls: int, workflows: int) -> dict[str, list[bytes]]:
    """Workflow -> the bodies the embedded simulator serves (what the runs will receive)."""
    from stuut_pipeline.simulator.store import CallFilter

    sim = settings.embedded_simulator(
        settings.SimulatorSettings(
            calls=calls, workflows=workflows, seed=0, hostile_fraction=HOSTILE_FRACTION
        )
    )
    return {
        wf: [c.body for c in sim.store.select(CallFilter(workflow=wf))]
        for wf in sim.store.workflow_ids()
    }


def _keyable(body: bytes) -> bool:
    record = json.loads(body)  # Python's json takes lone surrogates and duplicate keys
    return isinstance(record, dict) and isinstance(record.get("id"), str) and bool(record["id"])


def _lines(path: Path) -> list[bytes]:
    if not path.is_file():
        return []
    with open(path, "rb") as f:
        data = zstandard.ZstdDecompressor().stream_reader(f).read()
    return [line for line in data.split(b"\n") if line]


def hostile(root: Path, calls: int, workflows: int = 2) -> h.Result:
    result = h.Result(f"hostile records ({HOSTILE_FRACTION:.0%} of {workflows} workflows)")
    served = _served(calls, workflows)
    sandbox = h.Sandbox.create(root)
    env = sandbox.env(calls, workflows)
    env[settings.ENV_SIM_HOSTILE_FRACTION] = str(HOSTILE_FRACTION)
    outcome = h.run_pipeline(env, sorted(served))
    result.trials = len(served)
    result.failed_runs = sum("FAILED" in line for line in h.summary_lines(outcome.output))
    result.rows_lost = 0
    exact = True
    for wf, bodies in sorted(served.items()):
        landed = _lines(sandbox.data / raw_calls_key(wf))
        quarantined = len(_lines(sandbox.data / quarantine_key(wf)))
        calls_file = sandbox.data / table_key("calls", wf)
        published = pq.read_metadata(calls_file).num_rows if calls_file.is_file() else 0
        keyable = sum(map(_keyable, bodies))
        byte_exact = sorted(landed) == sorted(bodies)
        exact &= byte_exact and published == keyable and published + quarantined == len(bodies)
        result.rows_lost += max(keyable - published, 0)
        result.notes.append(
            f"{wf}: received {len(bodies)} ({len(bodies) - keyable} without a usable id), published"
            f" {published}, quarantined {quarantined}; landing byte-exact: {byte_exact}"
        )
    result.partial_visible = len(h.stray_files(sandbox.data))
    result.survived = outcome.returncode == 0 and result.failed_runs == 0 and exact
    result.error_clear = "n/a (no run may fail)"
    return result


def shrink(root: Path, sizes: tuple[int, int]) -> h.Result:
    small, large = sizes
    result = h.Result(f"shrink guard (a refresh from {large} to {small} simulated calls)")
    ids = h.workflow_ids_for(large)
    sandbox = h.Sandbox.create(root)
    h.require_ok(h.run_pipeline(sandbox.env(large), ids), "the full version")
    before = h.file_digests(sandbox.data)
    outcome = h.run_pipeline(sandbox.env(small), ids)
    lines = h.summary_lines(outcome.output)
    result.trials = len(ids)
    changed = h.changed_files(sandbox.data, before)
    clear = bool(lines) and all(
        "no_shrink" in line and "allow_shrink" in line and "published" in line for line in lines
    )
    result.partial_visible = len(changed)
    result.rows_lost = 0
    result.notes += [f"summary: {line[:300]}" for line in lines]
    result.notes.append(f"exit {outcome.returncode}; published files changed: {changed or 0}")
    result.survived = outcome.returncode != 0 and not changed and clear
    result.error_clear = ("yes: " if clear else "no: ") + (lines[0][:240] if lines else "-")
    return result

"""Readers during a refresh: a reader process reads everything in a loop while runs replace it.

Two workflows are published, then a reader process (reader_loop.py) reads every published
Parquet and raw file and queries the catalog, in a loop, during sequential refresh runs of both
workflows whose data differ (every refresh grows). Every read through one open file and every
catalog query must succeed, and every run must succeed. Reads that open a file twice (pyarrow by
path, a DuckDB scan of every column) are measured as torn reads: a figure, not a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import helpers as h


def run(root: Path, refreshes: int, sizes: tuple[int, int]) -> h.Result:
    result = h.Result(f"readers during {refreshes} refreshes of 2 workflows")
    small, large = sizes
    # every refresh holds more calls than the last, so every file really changes (a refresh to
    # fewer than half the published calls would be refused by the `no_shrink` check)
    steps = [small + (large - small) * (i + 1) // refreshes for i in range(refreshes)]
    ids = h.workflow_ids_for(small)
    if any(h.workflow_ids_for(calls) != ids for calls in steps):
        raise RuntimeError("the simulator's workflow ids differ between the sizes")
    sandbox = h.Sandbox.create(root)
    h.require_ok(h.run_pipeline(sandbox.env(small), ids), "first version")
    stop, out = root / "stop", root / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "reliability.reader_loop", str(sandbox.data), str(stop), str(out)],
        cwd=h.PROJECT_ROOT,
        start_new_session=True,
    )
    failed = 0
    try:
        for i, calls in enumerate(steps):
            outcome = h.run_pipeline(sandbox.env(calls), ids)
            result.trials += 1
            if outcome.returncode != 0:
                failed += 1
                result.notes.append(f"refresh {i} failed: {h.summary_lines(outcome.output)}")
    finally:
        stop.touch()
        try:
            reader.wait(timeout=120)
        except subprocess.TimeoutExpired:
            h.kill_group(reader)
            reader.wait()
    stats = json.loads(out.read_text()) if out.is_file() else None
    if stats is None:
        result.notes.append(f"the reader died (exit {reader.returncode})")
        result.partial_visible = None
        return result
    result.partial_visible = stats["errors"]
    result.rows_lost = None
    result.notes.append(
        f"reader: {stats['rounds']} rounds, {stats['files_read']} files read,"
        f" {stats['catalog_reads']} catalog queries, {stats['errors']} errors;"
        f" failed runs: {failed}"
    )
    result.notes += [f"reader error: {e}" for e in stats["first_errors"]]
    result.notes.append(
        f"reads opening a file twice (pyarrow by path, DuckDB scans of every column):"
        f" {stats['torn_reads']} torn of {stats['multi_open_reads']}"
    )
    result.notes += [f"torn read: {e}" for e in stats["first_torn"][:2]]
    result.failed_runs = failed
    result.survived = stats["errors"] == 0 and failed == 0 and stats["rounds"] > 0
    result.error_clear = "n/a (no fault)"
    return result

"""kill -9 during a refresh: SIGKILL the whole `stuut-pipeline run` at a random moment.

A first version of one workflow is published (small), then each trial starts a refresh of the
same workflow with more calls (a slow embedded API, so kills land mid-fetch as well as during the
flattening, the rollups and the report) and kills its process group at a random moment,
stratified so that both halves are hit however loaded the machine is: even trials uniformly over
[0, the moment the reference refresh published its tables] (start-up, fetch, landing,
flattening); odd trials once the trial's own run has published its calls table, uniformly over
the rest of the reference refresh (rollups, catalog, report). After each kill the data is
checked as a reader would; a trial that got past the publish of the tables resets the data to
the first version, so that every trial refreshes data that differ from what is published (the
final run then removes the orphaned staging of the trials since the last reset).
"""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

from . import helpers as h

BASE_CALLS = 300
REFRESH_CALLS = 2400
LATENCY_MS = 200


def run(
    root: Path, trials: int, sizes: tuple[int, int] = (BASE_CALLS, REFRESH_CALLS), seed: int = 13
) -> h.Result:
    result = h.Result("kill -9 during a refresh (ingest, rollups)")
    rng = random.Random(seed)
    base_calls, refresh_calls = sizes
    ids = h.workflow_ids_for(base_calls)
    if ids != h.workflow_ids_for(refresh_calls):
        raise RuntimeError("the simulator's workflow ids differ between the two sizes")
    workflow = ids[0]

    # The complete newer version, and the duration of one refresh, from an undisturbed run.
    ref = h.Sandbox.create(root / "reference")
    h.require_ok(h.run_pipeline(ref.env(base_calls), [workflow]), "first version")
    sandbox = h.Sandbox.create(root / "trials")
    base = root / "base"
    shutil.copytree(ref.data, base)
    shutil.copytree(base, sandbox.data, dirs_exist_ok=True)
    started = time.time()
    refresh = h.require_ok(
        h.run_pipeline(ref.env(refresh_calls, latency_ms=LATENCY_MS), [workflow]), "refresh"
    )
    newer = h.snapshot(ref.data)
    duration = refresh.seconds
    calls_key = f"parquet/calls/workflow_id={workflow}/part-0.parquet"
    tables_at = os.stat(ref.data / calls_key).st_mtime - started
    tables_at = min(max(tables_at, 0.1 * duration), 0.9 * duration)
    result.notes.append(
        f"one refresh takes {duration:.1f} s, its tables published at {tables_at:.1f} s; kills"
        f" uniform over [0, {tables_at:.1f}] s (even trials), or over"
        f" [0, {duration - tables_at:.1f}] s after the trial's tables were published (odd trials)"
    )

    env = sandbox.env(refresh_calls, latency_ms=LATENCY_MS)

    def published_since(moment: float):
        def calls_published() -> bool:
            try:
                return os.stat(sandbox.data / calls_key).st_mtime >= moment
            except FileNotFoundError:
                return False

        return calls_published

    one_run = finished_early = landed_in_ingest = restored = 0
    for trial in range(trials):
        previous = h.snapshot(sandbox.data)
        after, once = h.stratified_kill(rng, trial, tables_at, duration, published_since)
        finished, _ = h.run_and_kill(env, [workflow], after, root / "kill.log", once)
        finished_early += finished
        verdict = h.judge(sandbox.data, previous, newer)
        result.partial_visible += verdict.partial_visible
        result.rows_lost += verdict.rows_lost
        result.notes += [f"trial {trial}: {p}" for p in verdict.problems]
        consistent, why = h.tables_from_one_run(sandbox.data, workflow)
        one_run += consistent
        if not consistent:
            result.notes.append(f"trial {trial}: tables from different runs: {why}")
        refreshed = h.tables_refreshed(sandbox.data, workflow, newer)
        landed_in_ingest += not refreshed
        if refreshed and trial < trials - 1:  # the next trial refreshes data that differ again
            shutil.rmtree(sandbox.data)
            shutil.copytree(base, sandbox.data)
            restored += 1
        result.trials += 1

    final = h.run_pipeline(env, [workflow])
    final_ok, orphans = h.judge_final_run(result, final, sandbox.data, newer)
    result.notes.insert(
        0,
        f"tables from one run: {one_run}/{trials}; kills before the tables were refreshed:"
        f" {landed_in_ingest}/{trials}; runs that finished before their kill: {finished_early};"
        f" data reset to the first version after {restored} trials that refreshed the tables",
    )
    return h.settle_kill(result, one_run, trials, final_ok, orphans)

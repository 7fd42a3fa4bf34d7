"""`stuut-pipeline run` under real signals: SIGTERM stops it within seconds with its run marked
failed; a run SIGKILLed mid-way (in the fetch, or once a rollup has started) is released by the
next run, which then completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import dagster as dg
import pyarrow.parquet as pq
import pytest

from .. import factories
from ..processes import CLI, run_status, start_run, step_events, wait_started, wait_step_started

CALLS, WORKFLOWS = 1200, 2


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get():  # its storage created here, not raced by two processes
        pass
    return dict(
        os.environ,
        DAGSTER_HOME=str(home),
        STUUT_DATA_DIR=str(tmp_path / "data"),
        STUUT_AUTOMATION_DEFAULT="stopped",
        STUUT_SIM_CALLS=str(CALLS),
        STUUT_SIM_WORKFLOWS=str(WORKFLOWS),
        STUUT_SIM_LATENCY_MS="400",  # a slow API: the run is still fetching when signalled
    )


def _workflows() -> list[str]:
    return factories.simulator(calls=CALLS, workflows=WORKFLOWS).store.workflow_ids()


def test_sigterm_stops_a_run_within_seconds_marked_failed(env, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    proc = start_run(env, _workflows()[0], tmp_path)
    try:
        run_id = wait_started(env["DAGSTER_HOME"], proc)
        time.sleep(1.0)  # inside the fetch
        signalled = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out + err
    assert stopped_in < 10, stopped_in
    assert "interrupted" in err
    assert run_status(env["DAGSTER_HOME"], run_id) in (
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    )


def test_a_killed_run_is_released_and_later_runs_complete(env, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    first, second = _workflows()[:2]
    proc = start_run(env, first, tmp_path)
    try:
        run_id = wait_started(env["DAGSTER_HOME"], proc)
        time.sleep(1.0)  # inside the fetch
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert (
        run_status(env["DAGSTER_HOME"], run_id) == dg.DagsterRunStatus.STARTED
    )  # nobody told the instance
    fast = {**env, "STUUT_SIM_LATENCY_MS": "0"}
    again = subprocess.run(
        [CLI, "run", "--workflow", first, "--workflow", second],
        env=fast,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"marked failed 1 runs whose process had died: {run_id}" in again.stdout
    assert again.stdout.count(": ok;") == 2
    assert run_status(env["DAGSTER_HOME"], run_id) == dg.DagsterRunStatus.FAILURE


def test_a_second_run_of_a_workflow_waits_for_the_first(env, tmp_path, monkeypatch) -> None:
    """Two `stuut-pipeline run` of one workflow at once: the second waits, never interleaves."""
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    workflow = _workflows()[0]
    first = start_run(env, workflow, tmp_path)
    try:
        first_id = wait_started(env["DAGSTER_HOME"], first)
        second = start_run({**env, "STUUT_SIM_LATENCY_MS": "0"}, workflow, tmp_path)
        out2, err2 = second.communicate(timeout=300)
        out1, err1 = first.communicate(timeout=300)
    finally:
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert first.returncode == 0 and second.returncode == 0, out1 + err1 + out2 + err2
    assert f"{workflow}: waiting for run {first_id} of the same workflow to finish" in out2
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": workflow}))
    by_id = {r.dagster_run.run_id: r for r in runs}
    assert len(by_id) == 2
    later = next(r for run_id, r in by_id.items() if run_id != first_id)
    assert later.start_time >= by_id[first_id].end_time  # one after the other


TABLES = ("calls", "call_classifications", "call_tasks", "call_invoices")


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _table_run_ids(data: str, workflow: str) -> set[str]:
    """The `stuut.run_id` metadata of the four published table files of `workflow`."""
    ids = set()
    for table in TABLES:
        path = f"{data}/parquet/{table}/workflow_id={workflow}/part-0.parquet"
        ids.add(pq.read_metadata(path).metadata[b"stuut.run_id"].decode())
    return ids


def _slot_holders(instance) -> set[str]:
    """Runs holding or waiting for any concurrency slot in the instance."""
    storage = instance.event_log_storage
    holders = set(storage.get_concurrency_run_ids())
    for key in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(key)
        holders |= info.active_run_ids | info.pending_run_ids | info.assigned_run_ids
    return holders


def test_a_run_killed_inside_a_rollup_is_released(env, tmp_path, monkeypatch) -> None:
    """SIGKILL once a rollup step has started: the next runs of it and of another workflow
    complete, the dead run is marked failed, holds no slot, and the tables are one run's."""
    home = env["DAGSTER_HOME"]
    monkeypatch.setenv("DAGSTER_HOME", home)
    first, other = _workflows()[:2]
    proc = start_run({**env, "STUUT_SIM_LATENCY_MS": "0"}, first, tmp_path)
    try:
        dead_id = wait_started(home, proc)
        in_flight = wait_step_started(home, proc, dead_id, "rollup")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _kill_group(proc)
    assert "rollup" in in_flight
    assert run_status(home, dead_id) == dg.DagsterRunStatus.STARTED  # nobody told the instance
    events = step_events(home, dead_id)
    assert set(events["STEP_START"]) - set(events.get("STEP_SUCCESS", [])), events  # mid-run

    fast = {**env, "STUUT_SIM_LATENCY_MS": "0"}
    again = [start_run(fast, first, tmp_path), start_run(fast, other, tmp_path)]
    try:
        outputs = [p.communicate(timeout=300) for p in again]  # a hang fails the test
    finally:
        for p in again:
            _kill_group(p)
    for p, (out, err) in zip(again, outputs, strict=True):
        assert p.returncode == 0, out + err
        assert ": ok;" in out, out
    assert run_status(home, dead_id) == dg.DagsterRunStatus.FAILURE
    with dg.DagsterInstance.get() as instance:
        assert dead_id not in _slot_holders(instance)
        assert not _slot_holders(instance)
        done = instance.get_runs(
            dg.RunsFilter(tags={"dagster/partition": first}, statuses=[dg.DagsterRunStatus.SUCCESS])
        )
    assert len(done) == 1
    assert _table_run_ids(env["STUUT_DATA_DIR"], first) == {done[0].run_id}

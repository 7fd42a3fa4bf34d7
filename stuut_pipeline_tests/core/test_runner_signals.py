"""`stuut-pipeline run` under real signals: SIGTERM stops it within seconds with its run marked
failed; a run SIGKILLed mid-way is released by the next run, which then completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import dagster as dg
import pytest

from .. import factories
from ..processes import CLI, run_status, start_run, wait_started

CALLS, WORKFLOWS = 1200, 2


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
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

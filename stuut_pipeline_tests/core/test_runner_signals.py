"""`stuut-pipeline run` under real signals: SIGTERM stops it within seconds with its run marked
failed; a run SIGKILLed mid-way is released by the next run, which then completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from .. import factories

CLI = str(Path(sys.executable).with_name("stuut-pipeline"))
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


def _start(env: dict[str, str], workflow: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, "run", "--workflow", workflow],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_started(env: dict[str, str], proc: subprocess.Popen, timeout: float = 120) -> str:
    """The id of the run `proc` started, once the instance records it as STARTED."""
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.get() as instance:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            if runs:
                time.sleep(1.0)  # inside the fetch
                return runs[0].run_id
            time.sleep(0.2)
    raise TimeoutError("the run never started")


def _status(env: dict[str, str], run_id: str) -> dg.DagsterRunStatus:
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    with dg.DagsterInstance.get() as instance:
        return instance.get_run_by_id(run_id).status


def test_sigterm_stops_a_run_within_seconds_marked_failed(env, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    proc = _start(env, _workflows()[0], tmp_path)
    try:
        run_id = _wait_started(env, proc)
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
    assert _status(env, run_id) in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def test_a_killed_run_is_released_and_later_runs_complete(env, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    first, second = _workflows()[:2]
    proc = _start(env, first, tmp_path)
    try:
        run_id = _wait_started(env, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert _status(env, run_id) == dg.DagsterRunStatus.STARTED  # nobody told the instance
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
    assert _status(env, run_id) == dg.DagsterRunStatus.FAILURE

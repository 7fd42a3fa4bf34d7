"""Helpers for tests that run `stuut-pipeline` as a real process and signal it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

CLI = str(Path(sys.executable).with_name("stuut-pipeline"))


def start_run(env: dict[str, str], workflow: str, cwd: Path) -> subprocess.Popen:
    """`stuut-pipeline run --workflow <workflow>` in its own session (to signal its group)."""
    return subprocess.Popen(
        [CLI, "run", "--workflow", workflow],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_started(home: str, proc: subprocess.Popen, timeout: float = 120) -> str:
    """The id of the run `proc` started, once the instance in `home` records it as STARTED."""
    os.environ["DAGSTER_HOME"] = home
    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.get() as instance:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            if runs:
                return runs[0].run_id
            time.sleep(0.1)
    raise TimeoutError("the run never started")


def run_status(home: str, run_id: str) -> dg.DagsterRunStatus:
    """The status of `run_id` in the instance in `home`."""
    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        return instance.get_run_by_id(run_id).status


def step_events(home: str, run_id: str) -> dict[str, list[str]]:
    """Step keys by event type name (STEP_START, STEP_SUCCESS, ...) of `run_id` in `home`."""
    os.environ["DAGSTER_HOME"] = home
    out: dict[str, list[str]] = {}
    with dg.DagsterInstance.get() as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is not None and event.step_key:
                out.setdefault(event.event_type_value, []).append(event.step_key)
    return out


def wait_step_started(
    home: str, proc: subprocess.Popen, run_id: str, word: str, timeout: float = 240
) -> str:
    """The first step of `run_id` whose key contains `word`, once its STEP_START is recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        started = [k for k in step_events(home, run_id).get("STEP_START", []) if word in k]
        if started:
            return started[0]
        time.sleep(0.05)
    raise TimeoutError(f"no step matching {word!r} started in {timeout:.0f} s")

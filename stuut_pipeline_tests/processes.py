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

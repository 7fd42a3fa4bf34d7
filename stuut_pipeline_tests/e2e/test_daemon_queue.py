"""Two runs of one workflow through the daemon (`dagster dev`, the project's instance config).

Runs are launched through GraphQL like the UI does; the queued run coordinator with the tag
limit `dagster/partition` 1 per value must keep the second run of a partition QUEUED while the
first is STARTED, without blocking another partition, and the two must never interleave steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import dagster as dg
import pytest

from .. import factories
from .web_ui import DagsterUI, start_dagster_ui

SIM = {"calls": 400, "workflows": 2, "seed": 3}
#: A slow API (per request), so that the first run of a partition lasts a while.
SIM_ENV = {
    "STUUT_SIM_CALLS": str(SIM["calls"]),
    "STUUT_SIM_WORKFLOWS": str(SIM["workflows"]),
    "STUUT_SIM_SEED": str(SIM["seed"]),
    "STUUT_SIM_LATENCY_MS": "1500",
}
JOB = "stuut_pipeline_job"
TIMEOUT_S = 600
RUNNING = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}
WAITING = {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED}

LAUNCH_RUN = """
mutation($p: ExecutionParams!) {
  launchRun(executionParams: $p) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> Iterator[DagsterUI]:
    server = start_dagster_ui(tmp_path_factory.mktemp("daemon-queue"), SIM_ENV)
    try:
        yield server
    finally:
        server.stop()


def launch(ui: DagsterUI, workflow: str) -> str:
    """Launch one run of the job for `workflow` through GraphQL; its run id."""
    params = {
        "selector": {**ui.repository_selector, "jobName": JOB},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": workflow}]},
    }
    result = ui.graphql(LAUNCH_RUN, p=params)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def poll_statuses(
    instance: dg.DagsterInstance, run_ids: list[str]
) -> list[dict[str, dg.DagsterRunStatus]]:
    """Snapshots of the runs' statuses every 0.3 s until all have ended (bounded)."""
    snapshots = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        snap = {r: instance.get_run_by_id(r).status for r in run_ids}
        snapshots.append(snap)
        if all(s.value in ("SUCCESS", "FAILURE", "CANCELED") for s in snap.values()):
            return snapshots
        time.sleep(0.3)
    raise TimeoutError(f"runs not finished in {TIMEOUT_S} s: {snapshots[-1]}")


def step_window(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """(first STEP_START, last STEP_SUCCESS) timestamps of a run."""
    starts, ends = [], []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts.append(entry.timestamp)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            ends.append(entry.timestamp)
    assert starts and ends, run_id
    return min(starts), max(ends)


def test_second_run_of_a_partition_waits_in_the_queue(ui: DagsterUI, monkeypatch) -> None:
    workflow, other = factories.simulator(**SIM).store.workflow_ids()[:2]
    for key in (workflow, other):
        ui.add_workflow_partition(key)
    first, second, elsewhere = launch(ui, workflow), launch(ui, workflow), launch(ui, other)

    monkeypatch.setenv("DAGSTER_HOME", str(ui.home))
    with dg.DagsterInstance.get() as instance:
        snapshots = poll_statuses(instance, [first, second, elsewhere])
        final = snapshots[-1]
        assert set(final.values()) == {dg.DagsterRunStatus.SUCCESS}, (
            final,
            ui.log.read_text()[-3000:],
        )
        windows = {r: step_window(instance, r) for r in (first, second)}
    # Whenever one run of the partition is running, the other waits in the queue.
    for snap in snapshots:
        for a, b in ((first, second), (second, first)):
            if snap[a] in RUNNING:
                assert snap[b] not in RUNNING, snap
    assert any(s[first] in RUNNING and s[second] in WAITING for s in snapshots), snapshots
    # The other partition's run ran while the first run of `workflow` did: not blocked by it.
    assert any(s[first] in RUNNING and s[elsewhere] in RUNNING for s in snapshots), snapshots
    # Step windows of the two runs of the partition never overlap.
    (start_a, end_a), (start_b, end_b) = sorted(windows.values())
    assert end_a <= start_b, windows

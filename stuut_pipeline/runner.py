"""`stuut-pipeline run`: discover workflows, register partitions, run the job for each in-process.

Runs go to the Dagster instance in `$DAGSTER_HOME` (default: the project's `dagster_home/`), so the
web UI started from the README shows them. The headline KPIs printed per workflow are read from
the warehouse with the same function that feeds the assets' metadata.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import settings
from .layout import REPORT_INDEX_KEY, checked_workflow_id
from .storage import DataLocation

PIPELINE_TRIGGER_TAG = {"stuut/trigger": "cli"}
HOST_TAG, PID_TAG = "stuut/host", "stuut/pid"
PARTITION_TAG = "dagster/partition"
#: How long a run waits for another run of the same workflow to finish before giving up.
WAIT_FOR_WORKFLOW_SECONDS = 600.0


class WorkflowBusyError(RuntimeError):
    """Another run of the workflow is still in progress after the wait."""


@dataclass
class WorkflowOutcome:
    """What one workflow's run produced."""

    workflow_id: str
    success: bool
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    kpis: dict[str, float | int | str] = field(default_factory=dict)
    error: str | None = None


def discover_workflow_ids(out: Callable[[str], None]) -> list[str]:
    """Every workflow id in the account's calls (a full scan), reporting calls with none."""
    from .stuut_api.discovery import scan_workflows

    with settings.make_client(settings.ApiSettings.from_env()) as client:
        scan = scan_workflows(client)
    out(
        f"discovered {len(scan.workflows)} workflows in {scan.calls_scanned} calls"
        f" ({scan.pages_scanned} pages); {scan.calls_without_workflow} calls have no workflow"
        " and belong to no partition"
        + (
            f"; {scan.calls_unreadable} calls whose workflow could not be read"
            if scan.calls_unreadable
            else ""
        )
    )
    if scan.invalid_ids:
        out(f"refused invalid workflow ids: {', '.join(sorted(scan.invalid_ids))}")
    return sorted(scan.workflows)


def add_partitions(workflow_ids: Sequence[str]) -> list[str]:
    """Register workflow ids as `workflow` partitions by hand; return the ones that were new."""
    settings.dagster_home()
    import dagster as dg

    from .defs.partitions import workflow_partitions

    checked = [checked_workflow_id(w) for w in workflow_ids]
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(workflow_partitions.name))
    new = [w for w in dict.fromkeys(checked) if w not in known]
    if new:
        instance.add_dynamic_partitions(workflow_partitions.name, new)
    return new


def list_partitions() -> list[str]:
    """The registered workflow partitions."""
    settings.dagster_home()
    import dagster as dg

    from .defs.partitions import workflow_partitions

    return list(dg.DagsterInstance.get().get_dynamic_partitions(workflow_partitions.name))


def latest_kpis(workflow_id: str) -> dict[str, float | int | str]:
    """The headline figures of `workflow_kpis` for one workflow, read from the catalog."""
    from .warehouse import open_catalog
    from .warehouse.report import headline_figures

    try:
        with open_catalog(settings.data_location(), settings.warehouse_path()) as con:
            return headline_figures(con, "workflow_kpis", workflow_id)
    except FileNotFoundError:
        return {}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def release_dead_runs(instance) -> list[str]:
    """Mark failed the runs of `stuut-pipeline run` on this host whose process is gone (kill -9,
    OOM): they hold nothing any more. Returns their run ids."""
    from dagster import DagsterRunStatus, RunsFilter

    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    released = []
    for run in instance.get_runs(RunsFilter(statuses=in_progress, tags=PIPELINE_TRIGGER_TAG)):
        if run.tags.get(HOST_TAG) != socket.gethostname():
            continue  # another machine's process: its daemon or operator decides
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid and not _process_alive(pid):
            instance.report_run_failed(
                run, f"process {pid} of `stuut-pipeline run` died (killed or out of memory)"
            )
            released.append(run.run_id)
    return released


def wait_for_workflow(instance, workflow_id: str, timeout: float, out) -> None:
    """Wait until no other run of `workflow_id` is in progress (at most `timeout` seconds)."""
    from dagster import DagsterRunStatus, RunsFilter

    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        release_dead_runs(instance)
        holders = instance.get_runs(
            RunsFilter(statuses=in_progress, tags={PARTITION_TAG: workflow_id})
        )
        if not holders:
            return
        holder = holders[0]
        if time.monotonic() >= deadline:
            raise WorkflowBusyError(
                f"workflow {workflow_id} is held by run {holder.run_id} ({holder.status.value}),"
                f" still in progress after {timeout:.0f} s: wait for it, or terminate it in the"
                " web UI (Runs) and try again"
            )
        if not announced:
            out(f"{workflow_id}: waiting for run {holder.run_id} of the same workflow to finish")
            announced = True
        time.sleep(1.0)


@contextmanager
def _sigterm_interrupts(received: list[int]) -> Iterator[None]:
    """SIGTERM stops a run like Ctrl-C does (Dagster marks the interrupted run failed); the
    signal is appended to `received`."""

    def interrupt(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(result) -> bool:
    """Whether Dagster stopped the run on an interrupt (Ctrl-C reaches its own handler)."""
    failure = None if result.success else result.get_run_failure_event()
    return bool(failure and "interrupted" in (failure.message or ""))


def _outcome(result, workflow_id: str) -> WorkflowOutcome:  # result: ExecuteInProcessResult
    outcome = WorkflowOutcome(workflow_id, result.success, result.run_id)
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        row_count = mat.metadata.get("dagster/row_count")
        if row_count is not None:
            outcome.rows[mat.asset_key.to_user_string()] = int(row_count.value)
    for evaluation in result.get_asset_check_evaluations():
        status = "passed" if evaluation.passed else evaluation.severity.value.lower()
        outcome.checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = status
    if result.success:
        outcome.kpis = latest_kpis(workflow_id)
    else:
        outcome.error = _failure_text(result)
    return outcome


def _failure_text(result) -> str:
    """The failed steps, each with what its error said (the step's own message, not the run's)."""
    reasons = []
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        user = data.user_failure_data.description if data.user_failure_data else None
        error = data.error
        while error is not None and error.cause is not None:  # the error the step raised
            error = error.cause
        message = error.message.strip() if error is not None else None
        reasons.append(f"{event.step_key}: {user or message or 'failed'}")
    if reasons:
        return "failed steps: " + "; ".join(reasons)
    failure = result.get_run_failure_event()
    return f"failed ({failure.message})" if failure and failure.message else "failed"


def run(
    workflow_ids: Sequence[str] | None = None,
    *,
    out: Callable[[str], None] = print,
    wait_seconds: float = WAIT_FOR_WORKFLOW_SECONDS,
) -> list[WorkflowOutcome]:
    """Materialise the whole graph for each workflow (discovered when none are given).

    Runs whose `stuut-pipeline run` process died are marked failed first; a workflow with a run
    still in progress elsewhere is waited for (bounded; `WorkflowBusyError` names the run).
    Ctrl-C or SIGTERM stops the run at once, marked failed, and raises KeyboardInterrupt.
    """
    home = settings.dagster_home()
    import dagster as dg

    from .definitions import defs
    from .defs.jobs import PIPELINE_JOB_NAME

    if workflow_ids:
        workflow_ids = [checked_workflow_id(w) for w in workflow_ids]
    else:
        workflow_ids = discover_workflow_ids(out)
    new = add_partitions(workflow_ids)
    if new:
        out(f"registered {len(new)} new workflow partitions")
    instance = dg.DagsterInstance.get()
    released = release_dead_runs(instance)
    if released:
        out(f"marked failed {len(released)} runs whose process had died: {', '.join(released)}")
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    tags = {**PIPELINE_TRIGGER_TAG, HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    outcomes = []
    for workflow_id in workflow_ids:
        wait_for_workflow(instance, workflow_id, wait_seconds, out)
        received: list[int] = []
        with _sigterm_interrupts(received):
            result = job.execute_in_process(
                instance=instance,
                partition_key=workflow_id,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                tags=tags,
            )
        outcome = _outcome(result, workflow_id)
        outcomes.append(outcome)
        out(summary_line(outcome))
        if received or _interrupted(result):
            raise KeyboardInterrupt(f"run {result.run_id} of {workflow_id} was interrupted")
    location = settings.data_location()
    out(f"outputs under {location.uri()}; runs in the Dagster instance at {home}")
    out(f"reports: {reports_uri(location)}")
    return outcomes


def reports_uri(location: DataLocation) -> str:
    """Where the index of the KPI reports is: a `file://` URL locally, else its `s3://` URI."""
    uri = location.uri(REPORT_INDEX_KEY)
    return Path(uri).as_uri() if location.is_local else uri


def _kpi_line(o: WorkflowOutcome) -> str | None:
    from .warehouse.report import KPI_RATES

    if "latest_week" not in o.kpis:
        return None
    rates = ", ".join(
        f"{name.removesuffix('_rate').removesuffix('_share')} {float(o.kpis[name]):.0%}"
        for name in KPI_RATES
        if o.kpis.get(name) is not None
    )
    return f"    KPIs {o.kpis['latest_week']} ({o.kpis.get('calls', '?')} calls): {rates}"


def summary_line(o: WorkflowOutcome) -> str:
    """The lines printed for one workflow: state, rows, checks, run id, then its latest KPIs."""
    checks = list(o.checks.values())
    passed = checks.count("passed")
    warned = checks.count("warn")
    failed = len(checks) - passed - warned
    rows = ", ".join(f"{k}={v}" for k, v in o.rows.items())
    state = "ok" if o.success else f"FAILED ({o.error})"
    line = (
        f"{o.workflow_id}: {state}; rows: {rows or '-'}; checks: {passed} passed, {warned} warn,"
        f" {failed} failed; run {o.run_id}"
    )
    kpis = _kpi_line(o)
    return f"{line}\n{kpis}" if kpis else line

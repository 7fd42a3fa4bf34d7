"""`stuut-pipeline run`: discover workflows, register partitions, materialise through Dagster.

Runs go to the Dagster instance in `$DAGSTER_HOME` (default: the project's `dagster_home/`), so the
web UI started from the README shows them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .paths import PROJECT_ROOT, checked_workflow_id, default_data_dir

DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"


@dataclass
class WorkflowOutcome:
    """What one workflow's run produced."""

    workflow_id: str
    success: bool
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)
    error: str | None = None


def ensure_dagster_home() -> Path:
    """Use `$DAGSTER_HOME`, or the project's own instance directory."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def discover_workflow_ids(out: Callable[[str], None]) -> list[str]:
    """Every workflow id in the account's calls (a full scan), reporting calls with none."""
    from .settings import client_from_env
    from .stuut_api.discovery import scan_workflows

    with client_from_env() as client:
        scan = scan_workflows(client)
    out(
        f"discovered {len(scan.workflows)} workflows in {scan.calls_scanned} calls"
        f" ({scan.pages_scanned} pages); {scan.calls_without_workflow} calls have no workflow"
        " and belong to no partition"
    )
    if scan.invalid_ids:
        out(f"refused invalid workflow ids: {', '.join(sorted(scan.invalid_ids))}")
    return sorted(scan.workflows)


def add_partitions(workflow_ids: Sequence[str]) -> list[str]:
    """Register workflow ids as `workflow` partitions by hand; return the ones that were new."""
    ensure_dagster_home()
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
    ensure_dagster_home()
    import dagster as dg

    from .defs.partitions import workflow_partitions

    return list(dg.DagsterInstance.get().get_dynamic_partitions(workflow_partitions.name))


def run(
    workflow_ids: Sequence[str] | None = None, *, out: Callable[[str], None] = print
) -> list[WorkflowOutcome]:
    """Materialise the whole graph for each workflow (discovered when none are given)."""
    ensure_dagster_home()
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
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    outcomes = []
    for workflow_id in workflow_ids:
        result = job.execute_in_process(
            instance=instance,
            partition_key=workflow_id,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={"stuut/trigger": "cli"},
        )
        outcome = WorkflowOutcome(workflow_id, result.success, result.run_id)
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            name = mat.asset_key.to_user_string()
            meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            outcome.metadata[name] = meta
            if "dagster/row_count" in meta:
                outcome.rows[name] = int(meta["dagster/row_count"])
        for evaluation in result.get_asset_check_evaluations():
            status = "passed" if evaluation.passed else evaluation.severity.value.lower()
            outcome.checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = (
                status
            )
        if not result.success:
            failure = result.get_run_failure_event()
            steps = ", ".join(result.get_failed_step_keys()) or "?"
            outcome.error = f"failed steps: {steps}" + (
                f" ({failure.message})" if failure and failure.message else ""
            )
        outcomes.append(outcome)
        out(_summary_line(outcome))
    out(
        f"outputs under {default_data_dir()};"
        f" runs in the Dagster instance at {os.environ['DAGSTER_HOME']}"
    )
    return outcomes


def _kpi_line(o: WorkflowOutcome) -> str | None:
    from .warehouse.report import KPI_RATES

    kpis = o.metadata.get("workflow_kpis", {})
    if "latest_week" not in kpis:
        return None
    rates = ", ".join(
        f"{name.removesuffix('_rate').removesuffix('_share')} {float(kpis[name]):.0%}"
        for name in KPI_RATES
        if kpis.get(name) is not None
    )
    return f"    KPIs {kpis['latest_week']} ({kpis.get('calls', '?')} calls): {rates}"


def _summary_line(o: WorkflowOutcome) -> str:
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

"""Workflow discovery: new workflow ids become `workflow` partitions (and get a first run)."""

import json

import dagster as dg

from stuut_pipeline.settings import ENV_WORKFLOW_IDS, configured_workflow_ids
from stuut_pipeline.stuut_api.discovery import is_valid_workflow_id, scan_workflows

from ..automation import default_sensor_status
from ..jobs import stuut_pipeline_job
from ..partitions import workflow_partitions
from .resources import StuutApiResource

PAGES_PER_TICK = 5


def discover(
    context: dg.SensorEvaluationContext, stuut_api: StuutApiResource, *, run_new: bool = True
) -> dg.SensorResult:
    """One discovery tick: scan at most PAGES_PER_TICK pages from the cursor, add new ids."""
    state = json.loads(context.cursor) if context.cursor else {}
    start = int(state.get("next_page", 0))
    with stuut_api.client() as client:
        scan = scan_workflows(client, start_page=start, max_pages=PAGES_PER_TICK)
    found = dict(scan.workflows)
    invalid = dict(scan.invalid_ids)
    for workflow_id in configured_workflow_ids():
        if is_valid_workflow_id(workflow_id):
            found.setdefault(workflow_id, None)
        else:
            invalid[repr(workflow_id)] = invalid.get(repr(workflow_id), 0) + 1
    known = set(context.instance.get_dynamic_partitions(workflow_partitions.name))
    new = sorted(set(found) - known)
    wrapped = scan.next_page is None
    cursor = json.dumps(
        {
            "next_page": 0 if wrapped else scan.next_page,
            "calls_without_workflow": scan.calls_without_workflow,
            "calls_unreadable": scan.calls_unreadable,
        }
    )
    summary = (
        f"scanned pages {start}..{start + scan.pages_scanned - 1} ({scan.calls_scanned} calls of"
        f" {scan.total_records}); {len(found)} workflows seen, {len(new)} new;"
        f" {scan.calls_without_workflow} calls have no workflow (not ingested: they belong to no"
        f" partition)"
    )
    if scan.calls_unreadable:
        summary += f"; {scan.calls_unreadable} calls whose workflow could not be read"
    context.log.info(summary)
    if invalid:
        context.log.warning(
            f"refused {sum(invalid.values())} calls with invalid workflow ids (never used as"
            f" partition keys or paths): {', '.join(sorted(invalid))}"
        )
        summary += f"; refused invalid workflow ids: {', '.join(sorted(invalid))}"
    run_requests = (
        [
            dg.RunRequest(
                partition_key=wf, run_key=f"discovered:{wf}", tags={"stuut/trigger": "discovery"}
            )
            for wf in new
        ]
        if run_new
        else []
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[workflow_partitions.build_add_request(new)] if new else [],
        cursor=cursor,
        skip_reason=None if new else summary,
    )


@dg.sensor(
    name="workflow_discovery_sensor",
    job=stuut_pipeline_job,
    minimum_interval_seconds=300,
    default_status=default_sensor_status(),
    description=(
        "Finds outreach workflow ids in the calls (a bounded number of pages per tick, resuming"
        f" from a cursor) and in ${ENV_WORKFLOW_IDS}; adds new ones as `workflow` partitions and"
        " requests a first run of the pipeline for each."
    ),
)
def workflow_discovery_sensor(
    context: dg.SensorEvaluationContext, stuut_api: StuutApiResource
) -> dg.SensorResult:
    """Discover workflow ids and add them as partitions."""
    return discover(context, stuut_api)

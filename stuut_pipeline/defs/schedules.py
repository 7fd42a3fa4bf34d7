"""The nightly schedule: one run of the whole graph per known workflow partition."""

import dagster as dg

from .automation import default_schedule_status
from .jobs import stuut_pipeline_job
from .partitions import workflow_partitions

NIGHTLY_CRON = "0 2 * * *"


@dg.schedule(
    cron_schedule=NIGHTLY_CRON,
    job=stuut_pipeline_job,
    name="nightly_pipeline_schedule",
    execution_timezone="UTC",
    default_status=default_schedule_status(),
    description=(
        "Every night at 02:00 UTC: one run of the whole graph (fetch, land, flatten, roll up) per"
        " known `workflow` partition. Run keys are the date and the partition, so a tick is never"
        " launched twice."
    ),
)
def nightly_pipeline_schedule(context: dg.ScheduleEvaluationContext):
    """A run request per workflow partition, keyed by date and partition."""
    workflows = context.instance.get_dynamic_partitions(workflow_partitions.name)
    if not workflows:
        return dg.SkipReason(
            "no workflow partitions yet: the discovery sensor (or `stuut-pipeline run`) adds them"
        )
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return [
        dg.RunRequest(
            run_key=f"nightly:{day}:{workflow}",
            partition_key=workflow,
            tags={"stuut/trigger": "nightly"},
        )
        for workflow in sorted(workflows)
    ]

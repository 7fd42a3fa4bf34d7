"""Jobs over the whole graph, one run per workflow partition, and the executor of their steps."""

import dagster as dg

from stuut_pipeline import settings

PIPELINE_JOB_NAME = "stuut_pipeline_job"

stuut_pipeline_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Fetch, land, flatten and roll up the calls of one outreach workflow.",
)


def celery_step_executor() -> dg.ExecutorDefinition:
    """Dagster's Celery executor on the broker (and backend) the environment names; the URLs stay
    `env:` references, so they never show in the run's config."""
    from dagster_celery import celery_executor  # the `deploy` extra

    return celery_executor.configured(
        {
            "broker": {"env": settings.ENV_CELERY_BROKER},
            "backend": {"env": settings.celery_backend_variable()},
        },
        name="celery",
    )


@dg.definitions
def executor() -> dg.Definitions:
    """Every job's executor: Dagster's default; Celery when `STUUT_EXECUTOR=celery` (each step a
    task on a `dagster-celery` worker); in-process when `STUUT_EXECUTOR=in_process` (the run is
    one Celery task, launched by the instance's `CeleryRunLauncher`: its steps stay in it)."""
    chosen = settings.executor()
    if chosen == "celery":
        return dg.Definitions(executor=celery_step_executor())
    if chosen == "in_process":
        return dg.Definitions(executor=dg.in_process_executor)
    return dg.Definitions()

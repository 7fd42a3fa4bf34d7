"""Jobs over the whole graph, one run per workflow partition."""

import dagster as dg

PIPELINE_JOB_NAME = "stuut_pipeline_job"

stuut_pipeline_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Fetch, land, flatten and roll up the calls of one outreach workflow.",
)

"""Ingest assets: `raw_calls` (the API's records as received) and the flattened call tables."""

from collections.abc import Iterator

import dagster as dg

from stuut_pipeline.paths import checked_workflow_id
from stuut_pipeline.raw_landing import RawCallsLanding
from stuut_pipeline.stuut_api import CallsQuery

from ..partitions import workflow_partitions
from .checks import total_records_reconciled, total_records_result
from .resources import DataDirResource, StuutApiResource

OWNERS = ["team:ar-analytics"]


@dg.asset(
    partitions_def=workflow_partitions,
    group_name="ingest",
    kinds={"python", "json"},
    owners=OWNERS,
    check_specs=[total_records_reconciled],
    description=(
        "Every call of one outreach workflow, fetched from `GET /v1/calls?workflow=<id>` with"
        " concurrent paging and retries, deduplicated by id (latest `modified_at` wins), landed"
        " exactly as received as zstd NDJSON under `raw/calls/workflow_id=<id>/`. The flattened"
        " tables are rebuilt from this file without calling the API again."
    ),
)
def raw_calls(
    context: dg.AssetExecutionContext, stuut_api: StuutApiResource, data_dir: DataDirResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Fetch one workflow's calls and land them raw, atomically."""
    workflow_id = checked_workflow_id(context.partition_key)
    query = CallsQuery(limit=stuut_api.page_size, workflow=workflow_id)
    with stuut_api.client() as client, RawCallsLanding(data_dir.root, workflow_id) as landing:
        fetch = client.fetch_calls(query)
        for page in fetch:
            landing.write(page.records)
        path = landing.publish()
    report = fetch.report
    context.log.info(
        f"{workflow_id}: {report.records} calls in {report.pages} pages ({report.passes} passes),"
        f" {report.duplicates_dropped} duplicates dropped, {report.retries} retries,"
        f" total_records={report.total_records} matched={report.total_records_matched}"
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.records,
            "dagster/uri": str(path),
            "bytes_compressed": path.stat().st_size,
            "bytes_raw": landing.bytes_raw,
            **{f"fetch/{k}": v for k, v in report.as_dict().items() if k not in ("query",)},
            "fetch/query": report.query,
        }
    )
    yield total_records_result(report)

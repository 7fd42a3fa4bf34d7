"""Ingest assets: `raw_calls` (the API's records as received) and the flattened call tables."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from stuut_pipeline.flatten import (
    TABLES,
    PartitionWriter,
    TableContract,
    duckdb_source,
    flatten_raw,
    validate_partition,
)
from stuut_pipeline.flatten.contract import table_markdown
from stuut_pipeline.paths import checked_workflow_id
from stuut_pipeline.raw_landing import RawCallsLanding, iter_raw_batches, raw_calls_path
from stuut_pipeline.stuut_api import CallsQuery, StuutRetriesExhausted

from ..automation import NIGHTLY_FRESHNESS
from ..metadata import OWNERS, column_schema
from ..partitions import workflow_partitions
from .checks import (
    table_check_results,
    table_check_specs,
    total_records_reconciled,
    total_records_result,
)
from .resources import DataDirResource, StuutApiResource


@dg.asset(
    partitions_def=workflow_partitions,
    group_name="ingest",
    kinds={"python", "json"},
    owners=OWNERS,
    check_specs=[total_records_reconciled],
    freshness_policy=NIGHTLY_FRESHNESS,
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
    try:
        with stuut_api.client() as client, RawCallsLanding(data_dir.root, workflow_id) as landing:
            fetch = client.fetch_calls(query)
            for page in fetch:
                landing.write(page.records)
            path = landing.publish()
    except StuutRetriesExhausted as exc:
        # the API is down or rate-limiting: try the step again later (a bad token is not retried)
        raise dg.RetryRequested(
            max_retries=stuut_api.outage_step_retries,
            seconds_to_wait=stuut_api.outage_retry_wait_seconds,
        ) from exc
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


# --- flattened tables -------------------------------------------------------------------------

BATCH_SIZE = 1000
PREVIEW_ROWS = 5


def contract_version() -> str:
    """A short hash of every table's schema: the flattened assets' code version."""
    text = "\n".join(str(t.arrow_schema()) for t in TABLES.values())
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _table_spec(table: TableContract) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table.name,
        deps=[raw_calls],
        group_name="ingest",
        kinds={"parquet", "pandas"},
        owners=OWNERS,
        partitions_def=workflow_partitions,
        code_version=contract_version(),
        freshness_policy=NIGHTLY_FRESHNESS,
        description=table_markdown(table),
        metadata={
            "dagster/column_schema": column_schema(table.columns, primary_key=table.primary_key),
            "primary_key": ", ".join(table.primary_key),
            "duckdb": f"SELECT * FROM {duckdb_source(Path('data'), table.name)}",
        },
    )


def _preview(path: Path, table: TableContract) -> dg.MetadataValue:
    """A markdown table of the first rows (the narrow columns only, so it stays readable)."""
    narrow = [c.name for c in table.columns if c.kind != "json" and c.name != "extra_fields"][:8]
    parquet = pq.ParquetFile(path)
    if parquet.metadata.num_rows == 0:
        return dg.MetadataValue.md("_no rows in this partition_")
    frame = parquet.read_row_group(0, columns=narrow).slice(0, PREVIEW_ROWS)
    return dg.MetadataValue.md(frame.to_pandas().to_markdown(index=False))


@dg.multi_asset(
    specs=[_table_spec(t) for t in TABLES.values()],
    check_specs=[spec for t in TABLES.values() for spec in table_check_specs(t)],
    name="flattened_calls",
    description=(
        "Flatten one workflow's raw calls into the four typed tables: typed msgspec decoding of"
        " only the contract's fields (deep objects kept as raw JSON text), column-wise assembly"
        " with pandas/pyarrow, written in row groups as batches arrive, validated, then"
        " published atomically (a failed blocking check leaves the previous files untouched)."
    ),
)
def flattened_calls(
    context: dg.AssetExecutionContext, data_dir: DataDirResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Flatten the raw landing of one workflow into typed Parquet."""
    workflow_id = checked_workflow_id(context.partition_key)
    source = raw_calls_path(data_dir.root, workflow_id)
    if not source.is_file():
        raise dg.Failure(
            f"no raw landing for workflow {workflow_id} at {source}: materialise `raw_calls` for"
            " this partition first (or run the whole job)."
        )
    with PartitionWriter(data_dir.root, workflow_id) as writer:
        for batch in iter_raw_batches(source, BATCH_SIZE):
            writer.write(flatten_raw(batch))
        report = validate_partition(writer.seal())
        results = [r for t in TABLES.values() for r in table_check_results(t, report)]
        if not report.passed:
            yield from results
            failures = "; ".join(f"{c.name}: {c.message}" for c in report.blocking_failures)
            raise dg.Failure(
                f"blocking checks failed for workflow {workflow_id}; nothing was published and"
                f" the previous files are intact. {failures}",
                metadata={"failed_checks": [c.name for c in report.blocking_failures]},
            )
        published = writer.publish()
        drift = writer.drift
    if not drift.is_empty:
        context.log.warning(f"{workflow_id}: schema drift seen: {drift.as_dict()}")
    for name, table in TABLES.items():
        path = published[name]
        metadata: dict[str, object] = {
            "dagster/row_count": writer.rows[name],
            "dagster/uri": str(path),
            "dagster/column_schema": column_schema(table.columns, primary_key=table.primary_key),
            "bytes": path.stat().st_size,
            "preview": _preview(path, table),
        }
        if name == "calls":
            metadata["drift"] = dg.MetadataValue.json(drift.as_dict())
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    yield from results


# each asset's page links to the file and line of its code
raw_calls, flattened_calls = dg.with_source_code_references([raw_calls, flattened_calls])

"""Rollup assets: per workflow partition, build a rollup in memory, check it, publish its mart.

Each build reads only its workflow's Parquet files in its own in-memory DuckDB: no file is locked,
so rollups of different workflows run in parallel and no reader can block them. After the mart
is published, the analysts' catalog is rebuilt if its definition changed (asked first of this
workflow's files only, so the check costs the same however many workflows there are).
"""

from collections.abc import Iterator

import dagster as dg

from stuut_pipeline import warehouse as wh
from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.layout import PART_FILE, WAREHOUSE_FILE, checked_workflow_id
from stuut_pipeline.model import DATA_DICTIONARY_NOTE, duckdb_type
from stuut_pipeline.storage import DataLocation

from ..metadata import check_results, check_specs, column_schema, worker_metadata
from ..partitions import workflow_partitions
from ..resources import StorageResource, storage_faults
from .resources import DuckDBWarehouse

GROUP = "rollups"
#: The flattened tables every rollup reads (a multi_asset of the ingest domain).
SOURCE_TABLES = [dg.AssetKey(name) for name in TABLES]


def rollup_column_schema(rollup: wh.Rollup) -> dg.TableSchema:
    """Dagster column metadata of a rollup's DuckDB table, from its contract."""
    return column_schema(rollup.db_columns, type_name=duckdb_type)


def _description(rollup: wh.Rollup, extra: str = "") -> str:
    return (
        f"{rollup.contract.description}{extra}\n\n"
        "Built per workflow in an in-memory DuckDB over that workflow's Parquet files, checked,"
        f" and published to `marts/{rollup.name}/workflow_id=<id>/{PART_FILE}` after its blocking"
        f" checks pass; the view `{rollup.name}` of `{WAREHOUSE_FILE}` reads every workflow's"
        f" mart.\n\n{DATA_DICTIONARY_NOTE}"
    )


def _kpi_definitions(rollup: wh.Rollup) -> str:
    lines = [
        f"- `{c.name}`: {c.description}"
        for c in rollup.contract.columns
        if c.name not in ("week_start", "iso_week")
    ]
    return "\n\nKPIs:\n" + "\n".join(lines)


def _asset_kwargs(rollup: wh.Rollup, extra_description: str = "") -> dict:
    return {
        "name": rollup.name,
        "partitions_def": workflow_partitions,
        "group_name": GROUP,
        "kinds": {"duckdb", "parquet"},
        "deps": SOURCE_TABLES,
        "check_specs": check_specs(rollup.name, wh.checks_for(rollup)),
        "metadata": {"dagster/column_schema": rollup_column_schema(rollup)},
        "description": _description(rollup, extra_description),
    }


def _number(value: float | int | str) -> dg.MetadataValue:
    if isinstance(value, bool | int):
        return dg.MetadataValue.int(int(value))
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    return dg.MetadataValue.text(str(value))


def materialize_rollup(
    context: dg.AssetExecutionContext,
    rollup: wh.Rollup,
    warehouse: DuckDBWarehouse,
    storage: StorageResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Build one workflow partition of a rollup; on a failed blocking check, report and raise."""
    with storage_faults():
        yield from _materialize(context, rollup, warehouse, storage.location())


def _materialize(
    context: dg.AssetExecutionContext,
    rollup: wh.Rollup,
    warehouse: DuckDBWarehouse,
    location: DataLocation,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    workflow_id = checked_workflow_id(context.partition_key)
    limits = {"memory_limit": warehouse.memory_limit, "threads": warehouse.threads}
    with wh.partition_db(location, workflow_id, **limits) as (con, views):
        for table, columns in views.missing_columns.items():
            context.log.warning(f"{table}: no Parquet file has columns {list(columns)} (null)")
        wh.ensure_tables(con)
        try:
            build = wh.build_rollup(con, rollup, workflow_id, location)
        except wh.RollupCheckError as err:
            yield from check_results(rollup.name, err.checks)
            raise dg.Failure(
                description=str(err),
                metadata={"failed_checks": [c.name for c in err.checks if not c.passed]},
            ) from err
        preview = wh.latest_figures_markdown(con, rollup, workflow_id)
        headline = wh.headline_figures(con, rollup, workflow_id)
        chart = (
            wh.sentiment_chart_markdown(con, workflow_id)
            if rollup.name == "sentiment_rollup"
            else None
        )
    catalog = wh.publish_catalog(location, warehouse.catalog_path(), workflow_id=workflow_id)
    if catalog.rebuilt:
        context.log.info(f"rebuilt the analysts' catalog {catalog.where}")
    mart = location.uri(build.mart_key)
    context.log.info(f"{rollup.name} of {workflow_id}: {build.rows} rows -> {mart}")
    metadata: dict[str, object] = {
        "dagster/row_count": build.rows,
        "dagster/uri": mart,
        "dagster/column_schema": rollup_column_schema(rollup),
        "duckdb_path": dg.MetadataValue.path(catalog.where),
        "duckdb_view": rollup.name,
        "mart_bytes": location.size(build.mart_key),
        "source_files": dg.MetadataValue.json(views.files),
        "preview": dg.MetadataValue.md(preview),
        **{key: _number(value) for key, value in headline.items()},
        **worker_metadata(),
    }
    if chart is not None:
        metadata["sentiment_mix"] = dg.MetadataValue.md(chart)
    yield dg.MaterializeResult(
        metadata=metadata, check_results=check_results(rollup.name, build.checks)
    )


@dg.asset(**_asset_kwargs(wh.get_rollup("sentiment_rollup")))
def sentiment_rollup(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, storage: StorageResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Calls per workflow, UTC day, direction and sentiment."""
    yield from materialize_rollup(context, wh.get_rollup("sentiment_rollup"), warehouse, storage)


@dg.asset(**_asset_kwargs(wh.get_rollup("classification_rollup")))
def classification_rollup(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, storage: StorageResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Classifications per workflow and classification value."""
    yield from materialize_rollup(
        context, wh.get_rollup("classification_rollup"), warehouse, storage
    )


@dg.asset(
    **_asset_kwargs(
        wh.get_rollup("workflow_kpis"), _kpi_definitions(wh.get_rollup("workflow_kpis"))
    )
)
def workflow_kpis(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, storage: StorageResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """AR KPIs per workflow and ISO week."""
    yield from materialize_rollup(context, wh.get_rollup("workflow_kpis"), warehouse, storage)

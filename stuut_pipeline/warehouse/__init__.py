"""DuckDB warehouse over the flattened Parquet tables: rollups, AR KPIs and Parquet marts.

A plain library (no Dagster). `contract` declares the rollups once; `sql/` holds every query;
`views` builds one workflow's in-memory database (`partition_db`) over its Parquet files; `db`
holds the SQL helpers and rebuilds a rollup partition; `validate` checks rollups against the
source tables and the contract; `export` publishes the marts atomically; `build` runs one
partition end to end; `catalog` publishes the analysts' DuckDB file of views over every table
and mart; `report` renders what people look at; `dictionary` generates docs/data-dictionary.md.
"""

from .build import RollupBuild, RollupCheckError, build_rollup
from .catalog import CatalogPublish, catalog_statements, open_catalog, publish_catalog
from .contract import ROLLUPS, WORKFLOW_ID_COLUMN, Rollup, get_rollup
from .db import (
    WarehouseLockedError,
    connect,
    connection,
    count_rows,
    ensure_tables,
    fetch_rollup,
    load_sql,
    rebuild_rollup,
    rollup_transaction,
    run_sql,
)
from .export import MartValidationError, export_mart, publish_mart, stage_mart
from .report import headline_figures, latest_figures_markdown, sentiment_chart_markdown
from .validate import (
    CHECKS,
    checks_for,
    reconciliation_outcomes,
    run_checks,
    validate_mart_file,
    validate_table_rows,
    validate_table_schema,
)
from .views import CALL_FACTS_VIEW, SOURCE_VIEWS, ViewsReport, partition_db

__all__ = [
    "CALL_FACTS_VIEW",
    "CHECKS",
    "ROLLUPS",
    "SOURCE_VIEWS",
    "WORKFLOW_ID_COLUMN",
    "CatalogPublish",
    "MartValidationError",
    "Rollup",
    "RollupBuild",
    "RollupCheckError",
    "ViewsReport",
    "WarehouseLockedError",
    "build_rollup",
    "catalog_statements",
    "checks_for",
    "connect",
    "connection",
    "count_rows",
    "ensure_tables",
    "export_mart",
    "fetch_rollup",
    "get_rollup",
    "headline_figures",
    "latest_figures_markdown",
    "load_sql",
    "open_catalog",
    "partition_db",
    "publish_catalog",
    "publish_mart",
    "rebuild_rollup",
    "reconciliation_outcomes",
    "rollup_transaction",
    "run_checks",
    "run_sql",
    "sentiment_chart_markdown",
    "stage_mart",
    "validate_mart_file",
    "validate_table_rows",
    "validate_table_schema",
]

"""The data layout: every directory, file name, glob and partition column under the data root.

    raw/calls/workflow_id=<id>/calls.ndjson.zst       the API's records as received
    parquet/<table>/workflow_id=<id>/part-0.parquet   the four flattened tables
    marts/<rollup>/workflow_id=<id>/part-0.parquet    the rollups
    reports/workflow_id=<id>/kpi_report.html          the analysts' report pages
    warehouse/stuut.duckdb                            the analysts' catalog (views only)
    .staging/<label>-<token>/                         files being written (no published glob
                                                      matches a dot-directory's `*.staged`)

Every location is a key: a relative POSIX path under the data root, a local directory or an
`s3://bucket/prefix` alike (`storage.DataLocation` turns keys into filesystem paths).

`workflow_id` is a Hive directory, never a column of the files. `parquet_scan` is the one
DuckDB expression that reads a table or a mart.
"""

from __future__ import annotations

from .stuut_api.discovery import is_valid_workflow_id

#: Hive partition column of every dataset: a directory name, never a column of the files.
PARTITION_COLUMN = "workflow_id"
#: The one file of every published table or mart partition, replaced whole on each publish.
PART_FILE = "part-0.parquet"
#: The one file of a workflow's raw landing.
RAW_FILE = "calls.ndjson.zst"
#: Beside the raw landing: the records that could not be keyed as a call, with the reason.
QUARANTINE_FILE = "quarantine.ndjson.zst"
RAW_DIR = "raw/calls"
TABLES_DIR = "parquet"
MARTS_DIR = "marts"
STAGING_DIR = ".staging"
WAREHOUSE_FILE = "warehouse/stuut.duckdb"


class InvalidWorkflowIdError(ValueError):
    """A workflow id that must not become a partition key or a path."""


def checked_workflow_id(workflow_id: str) -> str:
    """Return the id if it is safe as a partition key and path part, else raise a clear error."""
    if not is_valid_workflow_id(workflow_id):
        raise InvalidWorkflowIdError(
            f"invalid workflow id {workflow_id!r}: ids must be 1-128 letters, digits, '_' or '-'"
            " (e.g. otwfl_abc123), as the API sends them in a call's `workflow.id`."
        )
    return workflow_id


def partition_dir(workflow_id: str) -> str:
    """`workflow_id=<id>`: the Hive directory of one workflow partition."""
    return f"{PARTITION_COLUMN}={checked_workflow_id(workflow_id)}"


def raw_calls_dir(workflow_id: str) -> str:
    """Key prefix of one workflow's raw landing."""
    return f"{RAW_DIR}/{partition_dir(workflow_id)}"


def raw_calls_key(workflow_id: str) -> str:
    """Key of the published raw file of one workflow."""
    return f"{raw_calls_dir(workflow_id)}/{RAW_FILE}"


def quarantine_key(workflow_id: str) -> str:
    """Key of the published quarantine file of one workflow (present only when one was)."""
    return f"{raw_calls_dir(workflow_id)}/{QUARANTINE_FILE}"


def table_dir(table: str) -> str:
    """Key prefix of one flattened table's Hive-partitioned dataset."""
    return f"{TABLES_DIR}/{table}"


def table_key(table: str, workflow_id: str) -> str:
    """Key of the published file of one table and workflow."""
    return f"{table_dir(table)}/{partition_dir(workflow_id)}/{PART_FILE}"


def mart_dir(rollup: str) -> str:
    """Key prefix of one rollup's Hive-partitioned mart."""
    return f"{MARTS_DIR}/{rollup}"


def mart_key(rollup: str, workflow_id: str) -> str:
    """Key of the published mart file of one rollup and workflow."""
    return f"{mart_dir(rollup)}/{partition_dir(workflow_id)}/{PART_FILE}"


def dataset_glob(dataset_dir: str, workflow_id: str | None = None) -> str:
    """Glob of the published Parquet files of a table or mart (of every workflow, or one)."""
    part = f"{PARTITION_COLUMN}=*" if workflow_id is None else partition_dir(workflow_id)
    return f"{dataset_dir}/{part}/*.parquet"


def staging_label(kind: str, workflow_id: str) -> str:
    """Staging label of one partition's write: its orphans are found and removed by this name."""
    return f"{kind}-{checked_workflow_id(workflow_id)}"


def parquet_scan(pattern: str) -> str:
    """The DuckDB `read_parquet(...)` expression over a Hive-partitioned glob.

    `workflow_id` comes from the directory names, typed VARCHAR (without `hive_types`, DuckDB
    would cast all-digit ids to integers); `union_by_name` lets files written before a column was
    added be read beside newer ones.
    """
    literal = "'" + pattern.replace("'", "''") + "'"
    return (
        f"read_parquet({literal}, hive_partitioning = true, "
        f"hive_types = {{'{PARTITION_COLUMN}': VARCHAR}}, union_by_name = true)"
    )


def table_scan(root: object, table: str) -> str:
    """`parquet_scan` of every partition of a flattened table under `root` (a path or URL)."""
    return parquet_scan(f"{str(root).rstrip('/')}/{dataset_glob(table_dir(table))}")


#: The published HTML reports: `reports/workflow_id=<id>/kpi_report.html` and the index.
REPORTS_DIR = "reports"
REPORT_FILE = "kpi_report.html"
#: The index has a directory of its own: a publish replaces its target directory whole.
REPORT_INDEX_DIR = f"{REPORTS_DIR}/index"
REPORT_INDEX_FILE = "index.html"
REPORT_INDEX_KEY = f"{REPORT_INDEX_DIR}/{REPORT_INDEX_FILE}"


def report_dir(workflow_id: str) -> str:
    """`reports/workflow_id=<id>`: the key prefix of one workflow's report (relative POSIX)."""
    return f"{REPORTS_DIR}/{partition_dir(workflow_id)}"


def report_key(workflow_id: str) -> str:
    """`reports/workflow_id=<id>/kpi_report.html`: the key of one workflow's report page."""
    return f"{report_dir(workflow_id)}/{REPORT_FILE}"

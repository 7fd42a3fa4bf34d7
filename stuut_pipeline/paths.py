"""Where every output lives under the data directory. The one place that knows the layout."""

from __future__ import annotations

import os
from pathlib import Path

from .stuut_api.discovery import is_valid_workflow_id

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PARTITION_COLUMN = "workflow_id"


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


def default_data_dir() -> Path:
    """`$STUUT_DATA_DIR`, else `<project>/data`."""
    configured = os.environ.get("STUUT_DATA_DIR")
    return Path(configured).resolve() if configured else PROJECT_ROOT / "data"


def raw_calls_dir(data_dir: Path, workflow_id: str) -> Path:
    """Directory of one workflow's raw NDJSON landing."""
    return (
        Path(data_dir) / "raw" / "calls" / f"{PARTITION_COLUMN}={checked_workflow_id(workflow_id)}"
    )


def table_dir(data_dir: Path, table: str) -> Path:
    """Root of one flattened table's Hive-partitioned Parquet dataset."""
    return Path(data_dir) / "parquet" / table


def table_glob(data_dir: Path, table: str) -> str:
    """Glob of every Parquet file of a table (for `read_parquet(..., hive_partitioning=true)`)."""
    return str(table_dir(data_dir, table) / "*" / "*.parquet")


def staging_root(data_dir: Path) -> Path:
    """Where partitions are written before they are validated and moved into place."""
    return Path(data_dir) / ".staging"

"""Hive-partitioned Parquet datasets on a `DataLocation`, for pyarrow and DuckDB.

DuckDB scans a `pyarrow.dataset.Dataset` registered with `con.register(name, dataset)` with
projection and filter pushdown, so S3 data needs no DuckDB extension.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds

from ..layout import PARTITION_COLUMN
from .location import DataLocation, check_key


def hive_partitioning() -> ds.Partitioning:
    """`workflow_id=<id>` directories, the id always a string."""
    return ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive")


def dataset(
    location: DataLocation,
    key_prefix: str,
    *,
    schema: pa.Schema | None = None,
    partition: str = "*=*",
) -> ds.Dataset:
    """The Parquet files under `key_prefix` as one dataset with a `workflow_id` column.

    `partition` globs the Hive directories (default: all; `workflow_id=<id>` for one). Files and
    dirs starting with `.` or `_` are ignored. Without `schema`, the first file's schema is the
    dataset's (no other footer is read until a scan needs it). With no file yet, the dataset is
    empty (with `schema` if given).
    """
    keys = location.list_files(check_key(key_prefix), f"{key_prefix}/{partition}/*.parquet")
    if not keys:
        return ds.dataset([], schema=schema or pa.schema([(PARTITION_COLUMN, pa.string())]))
    with location.errors(f"reading the dataset {location.uri(key_prefix)}"):
        return ds.dataset(
            [location.path(k) for k in keys],
            schema=schema,
            filesystem=location.filesystem,
            format="parquet",
            partitioning=hive_partitioning(),
            partition_base_dir=location.path(key_prefix),
        )


def file_dataset(location: DataLocation, key: str) -> ds.Dataset:
    """One Parquet file (no partitioning) as a dataset, e.g. a staged file to validate."""
    with location.errors(f"reading {location.uri(key)}"):
        return ds.dataset(location.path(key), filesystem=location.filesystem, format="parquet")

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
    dirs starting with `.` or `_` are ignored. Without `schema`, the files' schemas are unified
    (a column missing from older files reads as null). With no file yet, the dataset is empty
    (with `schema` if given).
    """
    keys = location.list_files(check_key(key_prefix), f"{key_prefix}/{partition}/*.parquet")
    if not keys:
        return ds.dataset([], schema=schema or pa.schema([(PARTITION_COLUMN, pa.string())]))
    with location.errors(f"reading the dataset {location.uri(key_prefix)}"):
        found = ds.dataset(
            [location.path(k) for k in keys],
            schema=schema,
            filesystem=location.filesystem,
            format="parquet",
            partitioning=hive_partitioning(),
            partition_base_dir=location.path(key_prefix),
        )
        if schema is None and len(keys) > 1:
            files = [f.physical_schema for f in found.get_fragments()]
            found = found.replace_schema(pa.unify_schemas([*files, found.schema]))
        return found


def file_dataset(location: DataLocation, keys: list[str]) -> ds.Dataset:
    """The Parquet files `keys` (no partitioning) as one dataset, with their unified schema."""
    with location.errors(f"reading {', '.join(location.uri(k) for k in keys)}"):
        dataset = ds.dataset(
            [location.path(k) for k in keys], filesystem=location.filesystem, format="parquet"
        )
        schemas = [f.physical_schema for f in dataset.get_fragments()]
        if len(schemas) > 1:
            dataset = dataset.replace_schema(pa.unify_schemas(schemas))
        return dataset

"""Let DuckDB read `s3://` URLs of a location without its `httpfs` extension.

DuckDB 2.x downloads `httpfs` on first use of an `s3://` path, which a machine without the
internet cannot do. Registering the location's pyarrow `S3FileSystem` (wrapped for fsspec) under
the protocol `s3` makes DuckDB read through pyarrow instead. Used where a view over `s3://` globs
must be created or queried by the pipeline (the analysts' catalog); the heavy scans of a build go
through pyarrow datasets instead.
"""

from __future__ import annotations

import duckdb
from fsspec.implementations.arrow import ArrowFSWrapper

from .location import DataLocation


class _S3Wrapper(ArrowFSWrapper):
    protocol = "s3"
    cachable = False  # one instance per location's filesystem, never shared by fsspec's cache


def register_location(con: duckdb.DuckDBPyConnection, location: DataLocation) -> None:
    """Make `con` read this location's `s3://` URLs through pyarrow (nothing to do when local)."""
    if location.is_local:
        return
    con.register_filesystem(_S3Wrapper(location.filesystem))

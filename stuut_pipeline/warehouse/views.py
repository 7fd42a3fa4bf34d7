"""Views over Parquet datasets: the four tables (and `call_facts`) for one partition's in-memory
build, and every table and mart for the analysts' catalog.

A view selects every contract column (null when no file has it yet, so files written before a
column was added stay readable), then columns the contract does not know, then `workflow_id`
from the Hive directory. A dataset with no file yet is an empty view with the contract's types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.layout import (
    PARTITION_COLUMN,
    checked_workflow_id,
    dataset_glob,
    parquet_scan,
    partition_dir,
    table_dir,
)
from stuut_pipeline.model import Column, duckdb_type
from stuut_pipeline.storage import DataLocation, as_location, dataset

from .db import comment_sql, load_sql, quote_ident

#: Views an analyst sees: the four flattened tables, and the per-call KPI flags.
SOURCE_VIEWS: tuple[str, ...] = tuple(TABLES)
CALL_FACTS_VIEW = "call_facts"
CALL_FACTS_DESCRIPTION = (
    "One row per call with the per-call KPI flags (connected, voicemail, right-party contact,"
    " promise to pay, dispute/complaint), UTC day and ISO week."
)


@dataclass(frozen=True)
class ViewsReport:
    """What the views read: files per dataset (0 = an empty, typed view), columns absent."""

    files: dict[str, int]
    missing_columns: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class ViewDef:
    """The SQL of one view, and what it found."""

    name: str
    sql: str
    files: int
    missing: tuple[str, ...]
    #: The columns the files have (their union), `workflow_id` not included.
    present: tuple[str, ...] = ()


def view_def(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[Column],
    scan: str,
    files: int,
    *,
    partition_first: bool = False,
) -> ViewDef:
    """The view `name` over `scan` (a FROM item over `files` Parquet files), with `columns`.

    Contract columns no file has yet are typed nulls; columns the contract does not know follow;
    `workflow_id` comes from the Hive directories.
    """
    present: list[str] = []
    if files:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        present = [row[0] for row in described]
    return view_sql(name, columns, scan, files, present, partition_first=partition_first)


def view_sql(
    name: str,
    columns: Sequence[Column],
    scan: str,
    files: int,
    present: Sequence[str],
    *,
    partition_first: bool = False,
) -> ViewDef:
    """`view_def` for files whose columns (their union) are `present`."""
    names = [c.name for c in columns]
    items = [
        quote_ident(c.name)
        if c.name in present
        else f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
        for c in columns
        if c.name != PARTITION_COLUMN
    ]
    items += [quote_ident(n) for n in present if n not in names and n != PARTITION_COLUMN]
    partition = PARTITION_COLUMN if files else f"CAST(NULL AS VARCHAR) AS {PARTITION_COLUMN}"
    items = [partition, *items] if partition_first else [*items, partition]
    source = f"FROM {scan}" if files else "WHERE false"
    sql = f"CREATE OR REPLACE VIEW {quote_ident(name)} AS SELECT {', '.join(items)} {source}"
    missing = tuple(n for n in names if files and n not in present and n != PARTITION_COLUMN)
    found = tuple(n for n in present if n != PARTITION_COLUMN)
    return ViewDef(name, sql, files, missing, found)


def glob_view_def(
    con: duckdb.DuckDBPyConnection,
    location: DataLocation,
    name: str,
    columns: Sequence[Column],
    pattern: str,
    *,
    partition_first: bool = False,
) -> ViewDef:
    """A view over every file matching the key glob `pattern`, by URL (for the catalog).

    On S3 the URL is `s3://...`: `con` must read it (`storage.register_location`).
    """
    files = len(location.list_files(pattern=pattern))
    scan = parquet_scan(location.uri(pattern))
    return view_def(con, name, columns, scan, files, partition_first=partition_first)


def partition_view_defs(
    con: duckdb.DuckDBPyConnection, location: DataLocation, workflow_id: str
) -> list[ViewDef]:
    """The views of the four tables over one workflow's files, read as pyarrow datasets.

    DuckDB scans a registered dataset natively with projection and filter pushdown, from local
    disk or S3 alike: no DuckDB extension is ever needed.
    """
    part = partition_dir(checked_workflow_id(workflow_id))
    defs = []
    for name, table in TABLES.items():
        source = dataset(location, table_dir(name), partition=part)
        files = len(source.files)
        relation = f"__files_{name}"
        if files:
            con.register(relation, source)
        defs.append(view_def(con, name, table.columns, quote_ident(relation), files))
    return defs


def catalog_view_defs(con: duckdb.DuckDBPyConnection, location: DataLocation) -> list[ViewDef]:
    """The views of the four tables over every workflow's files, by URL (for the catalog)."""
    return [
        glob_view_def(con, location, name, table.columns, dataset_glob(table_dir(name)))
        for name, table in TABLES.items()
    ]


def create_views(con: duckdb.DuckDBPyConnection, defs: Sequence[ViewDef]) -> ViewsReport:
    """Create the source views, then `call_facts` over them."""
    for d in defs:
        con.execute(d.sql)
        con.execute(comment_sql("VIEW", quote_ident(d.name), TABLES[d.name].description))
    con.execute(load_sql("call_facts.sql"))
    con.execute(comment_sql("VIEW", CALL_FACTS_VIEW, CALL_FACTS_DESCRIPTION))
    return ViewsReport(
        {d.name: d.files for d in defs}, {d.name: d.missing for d in defs if d.missing}
    )


@contextmanager
def partition_db(
    location: DataLocation | Path | str,
    workflow_id: str,
    *,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, ViewsReport]]:
    """An in-memory DuckDB with the views of one workflow's tables; closed on exit.

    No file is opened for writing, so no reader anywhere can block a build, and builds of
    different workflows run in parallel.
    """
    loc = as_location(location)
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit, "threads": threads})
    try:
        con.execute("SET TimeZone = 'UTC'")
        report = create_views(con, partition_view_defs(con, loc, workflow_id))
        yield con, report
    finally:
        con.close()

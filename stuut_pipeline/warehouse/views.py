"""Views over Parquet datasets: the four tables (and `call_facts`) for one partition's in-memory
build, and every table and mart for the analysts' catalog.

A view selects every contract column (null when no file has it yet, so files written before a
column was added stay readable), then columns the contract does not know, then `workflow_id`
from the Hive directory. A dataset with no file yet is an empty view with the contract's types.
"""

from __future__ import annotations

import glob
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
    """The SQL of one view, and what it found on disk."""

    name: str
    sql: str
    files: int
    missing: tuple[str, ...]


def view_def(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[Column],
    pattern: str,
    *,
    partition_first: bool = False,
) -> ViewDef:
    """The view `name` over the Parquet files matching `pattern`, with the contract's `columns`."""
    count = len(glob.glob(pattern))
    present: dict[str, str] = {}
    if count:
        described = con.execute(f"DESCRIBE SELECT * FROM {parquet_scan(pattern)}").fetchall()
        present = {row[0]: row[1] for row in described}
    names = [c.name for c in columns]
    items = [
        quote_ident(c.name)
        if c.name in present
        else f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
        for c in columns
        if c.name != PARTITION_COLUMN
    ]
    items += [quote_ident(n) for n in present if n not in names and n != PARTITION_COLUMN]
    partition = PARTITION_COLUMN if count else f"CAST(NULL AS VARCHAR) AS {PARTITION_COLUMN}"
    items = [partition, *items] if partition_first else [*items, partition]
    source = f"FROM {parquet_scan(pattern)}" if count else "WHERE false"
    sql = f"CREATE OR REPLACE VIEW {quote_ident(name)} AS SELECT {', '.join(items)} {source}"
    missing = tuple(n for n in names if count and n not in present and n != PARTITION_COLUMN)
    return ViewDef(name, sql, count, missing)


def source_view_defs(
    con: duckdb.DuckDBPyConnection, data_dir: Path, workflow_id: str | None = None
) -> list[ViewDef]:
    """The views of the four tables: over one workflow's files, or (None) every workflow's."""
    defs = []
    for name, table in TABLES.items():
        root = table_dir(Path(data_dir), name)
        pattern = (
            dataset_glob(root)
            if workflow_id is None
            else str(root / partition_dir(checked_workflow_id(workflow_id)) / "*.parquet")
        )
        defs.append(view_def(con, name, table.columns, pattern))
    return defs


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
    data_dir: Path, workflow_id: str, *, memory_limit: str = "1GB", threads: int = 2
) -> Iterator[tuple[duckdb.DuckDBPyConnection, ViewsReport]]:
    """An in-memory DuckDB with the views of one workflow's tables; closed on exit.

    No file is opened for writing, so no reader anywhere can block a build, and builds of
    different workflows run in parallel.
    """
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit, "threads": threads})
    try:
        con.execute("SET TimeZone = 'UTC'")
        report = create_views(con, source_view_defs(con, data_dir, workflow_id))
        yield con, report
    finally:
        con.close()

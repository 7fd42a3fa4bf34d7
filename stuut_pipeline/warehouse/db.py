"""DuckDB basics: the SQL files and their parameters, quoting, connections, rollup tables.

Rollups are built in an in-memory database per workflow partition (`views.partition_db`); the
only file is the analysts' catalog (`catalog.py`), opened read-only by readers. Every statement
here takes the workflow id as a parameter (`$workflow_id`), never pasted into the SQL text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from stuut_pipeline.layout import (
    checked_workflow_id,
)
from stuut_pipeline.model import duckdb_type
from stuut_pipeline.stuut_api.enums import CLASSIFICATIONS, SENTIMENTS

from .contract import ROLLUPS, Rollup, get_rollup

#: Values every rollup parameter set may draw from (a query gets only those it names).
_DOCUMENTED_VALUES: dict[str, Any] = {
    "sentiments": list(SENTIMENTS),
    "classifications": list(CLASSIFICATIONS),
}
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file's lock (a writer, or readers while we write)."""


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>` (package data, read with importlib.resources)."""
    return resources.files("stuut_pipeline.warehouse").joinpath("sql", name).read_text("utf-8")


def sql_params(sql: str, workflow_id: str | None = None) -> dict[str, Any]:
    """The named parameters `sql` uses (`$workflow_id`, `$sentiments`, ...), with their values."""
    values: dict[str, Any] = dict(_DOCUMENTED_VALUES)
    if workflow_id is not None:
        values["workflow_id"] = checked_workflow_id(workflow_id)
    params: dict[str, Any] = {}
    for name in dict.fromkeys(_PARAM.findall(sql)):
        if name not in values:
            raise KeyError(f"no value for SQL parameter ${name}")
        params[name] = values[name]
    return params


def run_sql(
    con: duckdb.DuckDBPyConnection, name: str, workflow_id: str | None = None
) -> list[dict[str, Any]]:
    """Run the query in `sql/<name>` with its parameters; rows as dicts."""
    sql = load_sql(name)
    cur = con.execute(sql, sql_params(sql, workflow_id))
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def quote_literal(text: str) -> str:
    """A SQL string literal (only for paths and static text, never for a workflow id)."""
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def comment_sql(kind: str, name: str, text: str) -> str:
    """`COMMENT ON` statement of a view, table or column (`name` already quoted)."""
    return f"COMMENT ON {kind} {name} IS {quote_literal(text)}"


def connect(
    db_path: str | Path, *, read_only: bool = False, lock_timeout: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the database (creating its directory for a writer); session time zone UTC.

    A lock held by another process is retried until `lock_timeout` seconds have passed, then
    raises `WarehouseLockedError`. A reader on a missing file raises FileNotFoundError.
    """
    path = Path(db_path)
    if read_only and not path.exists():
        raise FileNotFoundError(
            f"no warehouse at {path}: materialise a rollup first (the writer creates the file)"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseLockedError(
                    f"{path} is locked by another process ({exc}). DuckDB allows one writer, and "
                    "no writer while readers are open: close other connections to the file."
                ) from exc
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextmanager
def connection(
    db_path: str | Path, *, read_only: bool = False, lock_timeout: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect(...)` as a context manager that always closes the connection (and its lock)."""
    con = connect(db_path, read_only=read_only, lock_timeout=lock_timeout)
    try:
        yield con
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Rollup tables
# --------------------------------------------------------------------------------------------


def table_ddl(rollup: str | Rollup) -> str:
    """CREATE TABLE IF NOT EXISTS of a rollup, from its contract (`workflow_id` first)."""
    r = get_rollup(rollup)
    cols = ", ".join(
        f"{quote_ident(c.name)} {duckdb_type(c.type)}{'' if c.nullable else ' NOT NULL'}"
        for c in r.db_columns
    )
    return f"CREATE TABLE IF NOT EXISTS {quote_ident(r.name)} ({cols})"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the rollup tables that do not exist yet (with table and column comments).

    An existing table is left as it is; `validate.validate_table_schema` reports a mismatch.
    Returns the names of the tables created.
    """
    existing = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    created = []
    for rollup in ROLLUPS.values():
        if rollup.name in existing:
            continue
        con.execute(table_ddl(rollup))
        con.execute(comment_sql("TABLE", quote_ident(rollup.name), rollup.contract.description))
        for col in rollup.db_columns:
            column = f"{quote_ident(rollup.name)}.{quote_ident(col.name)}"
            con.execute(comment_sql("COLUMN", column, col.description))
        created.append(rollup.name)
    return created


DELETE_WORKFLOW_ROWS = "DELETE FROM {table} WHERE workflow_id = $workflow_id"
INSERT_BY_NAME = "INSERT INTO {table} BY NAME (\n{select}\n)"
COUNT_WORKFLOW_ROWS = "SELECT count(*) FROM {table} WHERE workflow_id = $workflow_id"


def count_rows(con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str) -> int:
    """Rows of one workflow in a rollup table."""
    r = get_rollup(rollup)
    params = {"workflow_id": checked_workflow_id(workflow_id)}
    return con.execute(COUNT_WORKFLOW_ROWS.format(table=quote_ident(r.name)), params).fetchone()[0]


@contextmanager
def rollup_transaction(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> Iterator[int]:
    """One transaction: delete the workflow's rows, insert them afresh; yields the row count.

    The body (checks, staging the export) sees the new rows; it commits on a normal exit and
    rolls back on an exception, leaving the table exactly as before. Other workflows' rows are
    never touched.
    """
    r = get_rollup(rollup)
    wf = checked_workflow_id(workflow_id)
    select = load_sql(r.sql_file)
    table = quote_ident(r.name)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(DELETE_WORKFLOW_ROWS.format(table=table), {"workflow_id": wf})
        insert = INSERT_BY_NAME.format(table=table, select=select)
        con.execute(insert, sql_params(insert, wf))
        rows = count_rows(con, r, wf)
        yield rows
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def rebuild_rollup(con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str) -> int:
    """Replace one workflow's rows of a rollup (delete + insert, one transaction); row count."""
    with rollup_transaction(con, rollup, workflow_id) as rows:
        return rows


def fetch_rollup(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> list[dict[str, Any]]:
    """One workflow's rows of a rollup, as dicts, in primary-key order (nulls last)."""
    r = get_rollup(rollup)
    order = ", ".join(f"{quote_ident(k)} NULLS LAST" for k in r.contract.primary_key)
    sql = f"SELECT * FROM {quote_ident(r.name)} WHERE workflow_id = $workflow_id ORDER BY {order}"
    cur = con.execute(sql, {"workflow_id": checked_workflow_id(workflow_id)})
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]

"""Checks of the rollups: reconciliation with the source tables, shares, and schema (DuckDB table,
its rows and the mart file) against the one declared contract. Plain dataclasses, no Dagster.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from stuut_pipeline.layout import PARTITION_COLUMN, checked_workflow_id
from stuut_pipeline.model import CheckOutcome, CheckSpec, duckdb_type

from .contract import Rollup, get_rollup
from .db import count_rows, quote_ident, run_sql

#: Tolerance of "shares sum to 1".
SHARE_TOLERANCE = 1e-9
#: How many offending values or groups a check lists in its description.
MAX_LISTED = 10

SCHEMA = CheckSpec(
    "schema_matches_contract",
    "The DuckDB table's columns and types, the partition's rows (no null in a non-null column, "
    "no duplicate key) and the mart Parquet file (exact columns and types, no `workflow_id` "
    "column, same row count) match the rollup's declared contract.",
)
SENTIMENT_CALLS = CheckSpec(
    "calls_reconciled",
    "The rollup's calls per sentiment sum to the workflow's rows of `calls` with that sentiment "
    "(so the total is the workflow's number of calls).",
)
SENTIMENT_SHARES = CheckSpec(
    "shares_sum_to_one",
    "share_of_calls sums to 1 in every (day, direction) group.",
)
CLASSIFICATION_COUNTS = CheckSpec(
    "classifications_reconciled",
    "The rollup's classifications per value equal the workflow's rows of `call_classifications` "
    "with that value, and its tasks equal the rows of `call_tasks`.",
)
CLASSIFICATION_SHARES = CheckSpec(
    "shares_sum_to_one",
    "share_of_classifications sums to 1 over the workflow (when it has classifications).",
)
KPI_CALLS = CheckSpec(
    "calls_reconciled",
    "The weekly calls sum to the workflow's rows of `calls`.",
)
KPI_RATES = CheckSpec(
    "rates_in_range",
    "Every numerator is at most its denominator and every rate lies in [0, 1].",
)

#: The checks of each rollup, by rollup name. All of them are blocking.
CHECKS: dict[str, tuple[CheckSpec, ...]] = {
    "sentiment_rollup": (SCHEMA, SENTIMENT_CALLS, SENTIMENT_SHARES),
    "classification_rollup": (SCHEMA, CLASSIFICATION_COUNTS, CLASSIFICATION_SHARES),
    "workflow_kpis": (SCHEMA, KPI_CALLS, KPI_RATES),
}


def checks_for(rollup: str | Rollup) -> tuple[CheckSpec, ...]:
    """The checks of a rollup."""
    return CHECKS[get_rollup(rollup).name]


def _listed(items: list[str]) -> str:
    more = f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return "; ".join(items[:MAX_LISTED]) + more


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------

NULL_COUNTS = "SELECT {counts} FROM {table} WHERE workflow_id = $workflow_id"
DUPLICATE_KEYS = (
    "SELECT count(*) FROM (SELECT {keys} FROM {table} WHERE workflow_id = $workflow_id "
    "GROUP BY {keys} HAVING count(*) > 1)"
)


def _normal(type_name: str) -> str:
    return type_name.upper().replace(" ", "")


def validate_table_schema(con: duckdb.DuckDBPyConnection, rollup: str | Rollup) -> list[str]:
    """Problems of the DuckDB table against the contract (columns, order, types); [] if none."""
    r = get_rollup(rollup)
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE table_name = $table AND schema_name = current_schema() ORDER BY column_index",
        {"table": r.name},
    ).fetchall()
    if not rows:
        return [f"table {r.name} does not exist"]
    actual = [(name, _normal(typ)) for name, typ in rows]
    expected = [(c.name, _normal(duckdb_type(c.type))) for c in r.db_columns]
    if actual == expected:
        return []
    problems = []
    if [n for n, _ in actual] != [n for n, _ in expected]:
        problems.append(
            f"columns {[n for n, _ in actual]} differ from the contract's "
            f"{[n for n, _ in expected]}"
        )
    types = dict(actual)
    for name, typ in expected:
        if name in types and types[name] != typ:
            problems.append(f"{name}: type {types[name]}, contract {typ}")
    problems.append(
        f"the table predates the current contract: drop table {r.name} and re-materialise "
        "every workflow partition (rollups are derived data)"
    )
    return problems


def validate_table_rows(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> list[str]:
    """Problems of one workflow's rows: nulls in non-null columns, duplicate keys; [] if none."""
    r = get_rollup(rollup)
    params = {"workflow_id": checked_workflow_id(workflow_id)}
    table = quote_ident(r.name)
    required = [c.name for c in r.db_columns if not c.nullable]
    counts = ", ".join(f"count(*) FILTER (WHERE {quote_ident(n)} IS NULL)" for n in required)
    nulls = con.execute(NULL_COUNTS.format(counts=counts, table=table), params).fetchone()
    problems = [f"{n}: {k} null values" for n, k in zip(required, nulls, strict=True) if k]
    keys = ", ".join(quote_ident(k) for k in r.db_primary_key)
    dupes = con.execute(DUPLICATE_KEYS.format(keys=keys, table=table), params).fetchone()[0]
    if dupes:
        problems.append(f"{dupes} duplicate keys ({', '.join(r.db_primary_key)})")
    return problems


def validate_mart_file(path: Path, rollup: str | Rollup, expected_rows: int) -> list[str]:
    """Problems of a (staged) mart Parquet file against the contract; [] if none.

    Exact column names and order, Arrow types, no `workflow_id` column, the expected number of
    rows, and no null in a non-null column.
    """
    r = get_rollup(rollup)
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        return [f"unreadable Parquet file {path}: {exc}"]
    problems = []
    schema = r.export_schema()
    if PARTITION_COLUMN in table.column_names:
        problems.append(f"`{PARTITION_COLUMN}` must be the Hive directory, not a column")
    if table.column_names != schema.names:
        problems.append(f"columns {table.column_names} differ from the contract's {schema.names}")
    for f in schema:
        if f.name in table.column_names:
            actual = table.schema.field(f.name).type
            if actual != f.type:
                problems.append(f"{f.name}: type {actual}, contract {f.type}")
            elif not f.nullable and table.column(f.name).null_count:
                problems.append(f"{f.name}: {table.column(f.name).null_count} null values")
    if table.num_rows != expected_rows:
        problems.append(f"{table.num_rows} rows, the table has {expected_rows}")
    return problems


def schema_outcome(
    table_problems: list[str], row_problems: list[str], file_problems: list[str] | None
) -> CheckOutcome:
    """The schema check from the problems of the table, its rows and the mart file."""
    parts = [("table", table_problems), ("rows", row_problems), ("mart file", file_problems or [])]
    problems = [f"{where}: {p}" for where, items in parts for p in items]
    return CheckOutcome(
        SCHEMA,
        not problems,
        _listed(problems) if problems else "table, rows and mart file match the contract",
        {
            "table_problems": len(table_problems),
            "row_problems": len(row_problems),
            "file_problems": len(file_problems or []),
            "file_checked": file_problems is not None,
        },
    )


# --------------------------------------------------------------------------------------------
# Reconciliation and shares
# --------------------------------------------------------------------------------------------


def _per_value_outcome(check: CheckSpec, rows: list[dict], what: str) -> CheckOutcome:
    source = sum(r["source_rows"] for r in rows)
    rolled = sum(r["rollup_rows"] for r in rows)
    wrong = [
        f"{r['value']!r}: {what} {r['source_rows']}, rollup {r['rollup_rows']}"
        for r in rows
        if r["source_rows"] != r["rollup_rows"]
    ]
    return CheckOutcome(
        check,
        not wrong,
        _listed(wrong) if wrong else f"{rolled} = {source} rows of {what}, value by value",
        {"source_rows": source, "rollup_rows": rolled, "values_mismatched": len(wrong)},
    )


def _totals_outcome(check: CheckSpec, row: dict, what: str) -> CheckOutcome:
    ok = row["source_rows"] == row["rollup_rows"]
    return CheckOutcome(
        check,
        ok,
        f"rollup {row['rollup_rows']}, {what} {row['source_rows']}",
        {"source_rows": row["source_rows"], "rollup_rows": row["rollup_rows"]},
    )


def _shares_outcome(check: CheckSpec, rows: list[dict]) -> CheckOutcome:
    groups = [r for r in rows if r["calls"]]
    wrong = [
        f"{r['grp']}: {r['share_sum']!r}"
        for r in groups
        if r["share_sum"] is None or not math.isclose(r["share_sum"], 1.0, abs_tol=SHARE_TOLERANCE)
    ]
    return CheckOutcome(
        check,
        not wrong,
        _listed(wrong) if wrong else f"shares sum to 1 in all {len(groups)} groups",
        {"groups": len(groups), "groups_not_summing_to_one": len(wrong)},
    )


def reconciliation_outcomes(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> list[CheckOutcome]:
    """Every check of a rollup except the schema check, for one workflow."""
    name = get_rollup(rollup).name
    wf = checked_workflow_id(workflow_id)
    if name == "sentiment_rollup":
        return [
            _per_value_outcome(
                SENTIMENT_CALLS, run_sql(con, "check_sentiment_calls.sql", wf), "calls"
            ),
            _shares_outcome(SENTIMENT_SHARES, run_sql(con, "check_sentiment_shares.sql", wf)),
        ]
    if name == "classification_rollup":
        counts = _per_value_outcome(
            CLASSIFICATION_COUNTS,
            run_sql(con, "check_classification_counts.sql", wf),
            "call_classifications",
        )
        tasks = run_sql(con, "check_classification_tasks.sql", wf)[0]
        tasks_ok = tasks["source_rows"] == tasks["rollup_rows"]
        description = counts.description
        if not tasks_ok:
            description += (
                f"; tasks: rollup {tasks['rollup_rows']}, call_tasks {tasks['source_rows']}"
            )
        combined = CheckOutcome(
            counts.spec,
            counts.passed and tasks_ok,
            description,
            {
                **counts.metadata,
                "source_tasks": tasks["source_rows"],
                "rollup_tasks": tasks["rollup_rows"],
            },
        )
        shares = _shares_outcome(
            CLASSIFICATION_SHARES, run_sql(con, "check_classification_shares.sql", wf)
        )
        return [combined, shares]
    if name == "workflow_kpis":
        calls = _totals_outcome(KPI_CALLS, run_sql(con, "check_kpi_calls.sql", wf)[0], "calls")
        bad_weeks = [str(r["iso_week"]) for r in run_sql(con, "check_kpi_rates.sql", wf)]
        rates = CheckOutcome(
            KPI_RATES,
            not bad_weeks,
            ("weeks out of range: " + _listed(bad_weeks)) if bad_weeks else "all weeks in range",
            {"weeks_out_of_range": len(bad_weeks)},
        )
        return [calls, rates]
    raise KeyError(name)


def run_checks(
    con: duckdb.DuckDBPyConnection,
    rollup: str | Rollup,
    workflow_id: str,
    mart_file: Path | None = None,
) -> list[CheckOutcome]:
    """All checks of a rollup for one workflow, in `checks_for` order.

    With `mart_file` (a staged or published export) the schema check covers the file too.
    """
    r = get_rollup(rollup)
    wf = checked_workflow_id(workflow_id)
    table_problems = validate_table_schema(con, r)
    row_problems = [] if table_problems else validate_table_rows(con, r, wf)
    file_problems = None
    if mart_file is not None:
        file_problems = validate_mart_file(mart_file, r, count_rows(con, r, wf))
    outcomes = [schema_outcome(table_problems, row_problems, file_problems)]
    if not table_problems:
        outcomes += reconciliation_outcomes(con, r, wf)
    by_name = {o.name: o for o in outcomes}
    return [by_name[c.name] for c in checks_for(r) if c.name in by_name]

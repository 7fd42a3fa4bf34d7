"""Checks of one written partition (staged or published) against the contract.

Blocking: files present, schema equal to the contract (names, order, types, nullability),
primary keys unique and not null, every child row's `call_id` in `calls`, child counts of
`calls` equal to the child tables' rows, the four files written by one run, each
classification's `task_count` equal to its `call_tasks` rows. Warnings: values outside the
allowed enums, rows with `extra_fields`, field descriptions that differ from the contract.
Queries run in DuckDB with a memory limit (spilling to disk beyond it). Results are plain
dataclasses (the Dagster layer maps them to AssetCheckResults).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow.parquet as pq

from ..storage import DataLocation, as_location, file_dataset
from .contract import PARENT_KEY, TABLES, TableContract
from .parquet_io import RUN_ID_KEY, published_files

Severity = Literal["blocking", "warn"]


@dataclass(frozen=True)
class CheckResult:
    """One check of one table."""

    name: str
    table: str
    passed: bool
    severity: Severity
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    """All checks of a partition, and its row counts."""

    checks: list[CheckResult]
    row_counts: dict[str, int]

    @property
    def passed(self) -> bool:
        """True when no blocking check failed."""
        return not self.blocking_failures

    @property
    def blocking_failures(self) -> list[CheckResult]:
        """The failed blocking checks."""
        return [c for c in self.checks if c.severity == "blocking" and not c.passed]

    @property
    def warnings(self) -> list[CheckResult]:
        """The failed non-blocking checks."""
        return [c for c in self.checks if c.severity == "warn" and not c.passed]

    def check(self, name: str) -> CheckResult:
        """The check called `name` (e.g. "calls.primary_key")."""
        return next(c for c in self.checks if c.name == name)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"checks": [asdict(c) for c in self.checks], "row_counts": self.row_counts}


def _schema_checks(table: TableContract, actual) -> list[CheckResult]:
    expected = table.arrow_schema()
    problems: list[str] = []
    if actual.names != expected.names:
        missing = [n for n in expected.names if n not in actual.names]
        unexpected = [n for n in actual.names if n not in expected.names]
        problems.append(f"columns differ (missing {missing}, unexpected {unexpected}, or order)")
    for a_field, e_field in zip(actual, expected, strict=False):
        if a_field.name == e_field.name and not a_field.equals(e_field, check_metadata=False):
            problems.append(
                f"{a_field.name}: {a_field.type} nullable={a_field.nullable}, "
                f"expected {e_field.type} nullable={e_field.nullable}"
            )
    checks = [
        CheckResult(
            f"{table.name}.schema",
            table.name,
            not problems,
            "blocking",
            "schema equals the contract" if not problems else "; ".join(problems),
            {"differences": len(problems)},
            problems[:5],
        )
    ]
    stale = [
        f.name
        for f in expected
        if f.name in actual.names and actual.field(f.name).metadata != f.metadata
    ]
    checks.append(
        CheckResult(
            f"{table.name}.schema_docs",
            table.name,
            not stale,
            "warn",
            "field descriptions match the contract"
            if not stale
            else f"{len(stale)} field descriptions differ from the contract",
            {"fields": len(stale)},
            stale[:5],
        )
    )
    return checks


class _Db:
    def __init__(
        self, location: DataLocation, files: Mapping[str, str], memory_limit: str, threads: int
    ) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="stuut-validate-")
        self.con = duckdb.connect(
            config={
                "memory_limit": memory_limit,
                "threads": threads,
                "temp_directory": self.tmp.name,
            }
        )
        for name, key in files.items():
            # a pyarrow dataset: DuckDB scans it natively, from local disk or S3 alike
            self.con.register(name, file_dataset(location, key))

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()
        self.tmp.cleanup()


def _key_text(row: tuple) -> str:
    return ", ".join("NULL" if v is None else str(v) for v in row)


def _primary_key(db: _Db, table: TableContract, examples: int) -> CheckResult:
    keys = ", ".join(table.primary_key)
    any_null = " OR ".join(f"{k} IS NULL" for k in table.primary_key)
    (nulls,) = db.rows(f"SELECT count(*) FROM {table.name} WHERE {any_null}")[0]
    dup_sql = (
        f"SELECT {keys}, count(*) AS n FROM {table.name} WHERE NOT ({any_null}) "
        f"GROUP BY ALL HAVING count(*) > 1"
    )
    (dups,) = db.rows(f"SELECT count(*) FROM ({dup_sql})")[0]
    shown = db.rows(f"{dup_sql} ORDER BY n DESC LIMIT {examples}") if dups else []
    passed = not nulls and not dups
    return CheckResult(
        f"{table.name}.primary_key",
        table.name,
        passed,
        "blocking",
        f"primary key ({keys}) unique and not null"
        if passed
        else f"{dups} duplicated keys, {nulls} rows with a null key",
        {"duplicate_keys": dups, "null_keys": nulls},
        [_key_text(r[:-1]) for r in shown],
    )


def _parent_key(db: _Db, table: TableContract, examples: int) -> CheckResult:
    sql = (
        f"SELECT DISTINCT c.{PARENT_KEY} FROM {table.name} c "
        f"ANTI JOIN calls p ON c.{PARENT_KEY} = p.call_id"
    )
    (orphans,) = db.rows(f"SELECT count(*) FROM ({sql})")[0]
    shown = db.rows(f"{sql} LIMIT {examples}") if orphans else []
    return CheckResult(
        f"{table.name}.parent_key",
        table.name,
        not orphans,
        "blocking",
        f"every {PARENT_KEY} exists in calls"
        if not orphans
        else f"{orphans} {PARENT_KEY} values missing from calls",
        {"orphan_call_ids": orphans},
        [str(r[0]) for r in shown],
    )


_CHILD_COUNTS = {
    "call_classifications": "classification_count",
    "call_tasks": "task_count",
    "call_invoices": "invoice_count",
}


def _child_counts(db: _Db, examples: int) -> CheckResult:
    mismatched: dict[str, int] = {}
    shown: list[str] = []
    for child, column in _CHILD_COUNTS.items():
        sql = (
            f"SELECT p.call_id, p.{column}, coalesce(c.n, 0) AS n FROM calls p LEFT JOIN "
            f"(SELECT {PARENT_KEY}, count(*) AS n FROM {child} GROUP BY ALL) c "
            f"ON p.call_id = c.{PARENT_KEY} WHERE p.{column} IS DISTINCT FROM coalesce(c.n, 0)"
        )
        (n,) = db.rows(f"SELECT count(*) FROM ({sql})")[0]
        if n:
            mismatched[column] = n
            shown += [
                f"{r[0]}: {column}={r[1]}, {child} rows={r[2]}"
                for r in db.rows(f"{sql} LIMIT {examples}")
            ]
    return CheckResult(
        "calls.child_counts",
        "calls",
        not mismatched,
        "blocking",
        "child counts of calls match the child tables"
        if not mismatched
        else f"child counts differ from child rows: {mismatched}",
        mismatched,
        shown[:examples],
    )


def _task_counts(db: _Db, examples: int) -> CheckResult:
    """Each classification's `task_count` against its rows in `call_tasks`."""
    sql = (
        "SELECT p.call_id, p.classification_index, p.task_count, coalesce(c.n, 0) AS n"
        " FROM call_classifications p LEFT JOIN (SELECT call_id, classification_index,"
        " count(*) AS n FROM call_tasks GROUP BY ALL) c USING (call_id, classification_index)"
        " WHERE p.task_count IS DISTINCT FROM coalesce(c.n, 0)"
    )
    (n,) = db.rows(f"SELECT count(*) FROM ({sql})")[0]
    shown = db.rows(f"{sql} LIMIT {examples}") if n else []
    return CheckResult(
        "call_classifications.child_counts",
        "call_classifications",
        not n,
        "blocking",
        "task_count of every classification matches call_tasks"
        if not n
        else f"{n} classifications whose task_count differs from their call_tasks rows",
        {"task_count": n} if n else {},
        [f"{r[0]} #{r[1]}: task_count={r[2]}, call_tasks rows={r[3]}" for r in shown],
    )


def _enum_values(db: _Db, table: TableContract) -> CheckResult:
    counts: dict[str, int] = {}
    for column, allowed in table.enum_columns().items():
        values = ", ".join("'" + v.replace("'", "''") + "'" for v in allowed)
        for value, n in db.rows(
            f"SELECT {column}, count(*) FROM {table.name} WHERE {column} IS NOT NULL "
            f"AND {column} NOT IN ({values}) GROUP BY ALL ORDER BY 2 DESC"
        ):
            counts[f"{column}={value}"] = n
    return CheckResult(
        f"{table.name}.enum_values",
        table.name,
        not counts,
        "warn",
        "all enum values are documented"
        if not counts
        else f"{sum(counts.values())} values outside the documented enums",
        counts,
        list(counts)[:10],
    )


def _extra_fields(db: _Db, table: TableContract, examples: int) -> CheckResult:
    keys = ", ".join(table.primary_key)
    (n,) = db.rows(f"SELECT count(*) FROM {table.name} WHERE extra_fields IS NOT NULL")[0]
    shown = (
        db.rows(
            f"SELECT {keys}, extra_fields FROM {table.name} WHERE extra_fields IS NOT NULL "
            f"LIMIT {examples}"
        )
        if n
        else []
    )
    return CheckResult(
        f"{table.name}.extra_fields",
        table.name,
        not n,
        "warn",
        "no drift" if not n else f"{n} rows carry fields or values the contract does not type",
        {"rows_with_extra_fields": n},
        [f"{_key_text(r[:-1])}: {r[-1][:200]}" for r in shown],
    )


def _read_footer(location: DataLocation, key: str):
    """The Arrow schema of the Parquet file `key` and the run that wrote it; None if missing."""
    try:
        with location.open_input_file(key) as src:
            parquet = pq.ParquetFile(src)
            run = (parquet.metadata.metadata or {}).get(RUN_ID_KEY.encode())
            return parquet.schema_arrow, run.decode() if run else None
    except FileNotFoundError:
        return None


def _same_run(runs: Mapping[str, str | None]) -> CheckResult:
    """The four tables of a partition were written by one run (never a mix of two publishes)."""
    distinct = sorted({str(r) for r in runs.values()})
    return CheckResult(
        "calls.same_run",
        "calls",
        len(distinct) <= 1,
        "blocking",
        "the four tables were written by one run"
        if len(distinct) <= 1
        else f"the tables come from {len(distinct)} different runs: "
        + ", ".join(f"{name}={run}" for name, run in runs.items()),
        {"runs": len(distinct)},
        [f"{name}={run}" for name, run in runs.items()] if len(distinct) > 1 else [],
    )


def validate_partition(
    location: DataLocation | Path | str,
    files: Mapping[str, str],
    *,
    memory_limit: str = "512MB",
    threads: int = 2,
    max_examples: int = 5,
) -> ValidationReport:
    """Validate one partition given each table's key (e.g. `PartitionWriter.seal()`)."""
    loc = as_location(location)
    checks: list[CheckResult] = []
    present: dict[str, str] = {}
    runs: dict[str, str | None] = {}
    for name, table in TABLES.items():
        key = files.get(name)
        footer = _read_footer(loc, key) if key is not None else None
        if footer is None:
            checks.append(
                CheckResult(f"{name}.file", name, False, "blocking", f"no file for {name}")
            )
            continue
        schema, runs[name] = footer
        schema_checks = _schema_checks(table, schema)
        checks += schema_checks
        if schema_checks[0].passed:
            present[name] = key
    row_counts: dict[str, int] = {}
    db = _Db(loc, present, memory_limit, threads)
    try:
        for name in present:
            row_counts[name] = db.rows(f"SELECT count(*) FROM {name}")[0][0]
        for name in present:
            table = TABLES[name]
            checks.append(_primary_key(db, table, max_examples))
            if table.parent_key and "calls" in present:
                checks.append(_parent_key(db, table, max_examples))
            checks.append(_enum_values(db, table))
            checks.append(_extra_fields(db, table, max_examples))
        if set(present) == set(TABLES):
            checks.append(_same_run(runs))
            checks.append(_child_counts(db, max_examples))
            checks.append(_task_counts(db, max_examples))
    finally:
        db.close()
    return ValidationReport(checks, row_counts)


def validate_published(
    location: DataLocation | Path | str, partition: str, **kwargs: Any
) -> ValidationReport:
    """Validate the published files of `partition` at `location`."""
    return validate_partition(location, published_files(partition), **kwargs)

"""One rollup partition end to end: rebuild, check, export, publish; all or nothing.

The rebuild (delete + insert), the checks and the staging of the mart file run inside one DuckDB
transaction. When a check fails the transaction rolls back and nothing is published, so both the
DuckDB rows and the mart file stay exactly as they were; otherwise the transaction commits and the
staged file replaces the published one atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from stuut_pipeline.layout import checked_workflow_id
from stuut_pipeline.model import CheckOutcome
from stuut_pipeline.storage import DataLocation

from .contract import Rollup, get_rollup
from .db import rollup_transaction
from .export import local_scratch, publish_mart, stage_mart
from .validate import run_checks, schema_outcome, validate_table_schema


class RollupCheckError(RuntimeError):
    """A blocking check failed: the rollup partition was rolled back, nothing was published."""

    def __init__(self, rollup: str, workflow_id: str, checks: list[CheckOutcome]) -> None:
        self.rollup = rollup
        self.workflow_id = workflow_id
        self.checks = checks
        failed = [f"{c.name}: {c.description}" for c in checks if not c.passed]
        super().__init__(
            f"{rollup} of {workflow_id}: blocking checks failed, previous rows and mart file "
            "kept: " + " | ".join(failed)
        )


@dataclass(frozen=True)
class RollupBuild:
    """What one build of a rollup partition did."""

    rollup: str
    workflow_id: str
    rows: int
    checks: list[CheckOutcome]
    #: the published mart's key under the location
    mart_key: str


def build_rollup(
    con: duckdb.DuckDBPyConnection,
    rollup: str | Rollup,
    workflow_id: str,
    location: DataLocation | Path | str,
) -> RollupBuild:
    """Rebuild one workflow's rows of a rollup, check them, and publish its mart file.

    The views and tables must exist (`ensure_views`, `ensure_tables`). Raises `RollupCheckError`
    (carrying every outcome) when a check fails; the database and the marts are then unchanged.
    """
    r = get_rollup(rollup)
    wf = checked_workflow_id(workflow_id)
    table_problems = validate_table_schema(con, r)
    if table_problems:
        raise RollupCheckError(r.name, wf, [schema_outcome(table_problems, [], None)])
    with local_scratch() as scratch:
        with rollup_transaction(con, r, wf) as rows:
            staged = stage_mart(con, r, wf, scratch)
            checks = run_checks(con, r, wf, mart_file=staged)
            if not all(c.passed for c in checks):
                raise RollupCheckError(r.name, wf, checks)
        key = publish_mart(staged, location, r, wf)
    return RollupBuild(r.name, wf, rows, checks, key)

"""Parquet marts: each rollup partition as `marts/<rollup>/workflow_id=<id>/part-0.parquet`.

A mart file is written with DuckDB's `COPY ... TO` into a staging directory (outside every
published glob), validated against the contract, then moved into place by one atomic
`publish.publish_file`: a reader never sees a half-written file, and a failed export leaves the
previous file untouched.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from stuut_pipeline.layout import PART_FILE, checked_workflow_id, mart_file
from stuut_pipeline.publish import discard, new_staging_dir, publish_file

from .contract import Rollup, get_rollup
from .db import count_rows, quote_ident, quote_literal
from .validate import validate_mart_file

COPY_MART = (
    "COPY (SELECT {columns} FROM {table} WHERE workflow_id = $workflow_id ORDER BY {order}) "
    "TO {path} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{metadata}}})"
)


class MartValidationError(RuntimeError):
    """A staged mart file does not match its contract (nothing was published)."""

    def __init__(self, rollup: str, workflow_id: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{rollup} mart of {workflow_id} not published: " + "; ".join(problems))


def stage_mart(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str, staging_dir: Path
) -> Path:
    """Write one workflow's rows of a rollup to `staging_dir/part-0.parquet` (contract columns,
    no `workflow_id`, primary-key order) with `COPY ... TO`; the staged path.
    """
    r = get_rollup(rollup)
    target = Path(staging_dir) / PART_FILE
    metadata = {
        "stuut.table": r.name,
        "stuut.primary_key": ",".join(r.contract.primary_key),
        "description": r.contract.description,
    }
    sql = COPY_MART.format(
        columns=", ".join(quote_ident(n) for n in r.contract.column_names),
        table=quote_ident(r.name),
        order=", ".join(f"{quote_ident(k)} NULLS LAST" for k in r.contract.primary_key),
        path=quote_literal(str(target)),
        metadata=", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in metadata.items()),
    )
    con.execute(sql, {"workflow_id": checked_workflow_id(workflow_id)})
    return target


def publish_mart(staged: Path, data_dir: Path, rollup: str | Rollup, workflow_id: str) -> Path:
    """Move a staged mart file into `marts/<rollup>/workflow_id=<id>/` atomically; final path."""
    target = mart_file(Path(data_dir), get_rollup(rollup).name, workflow_id)
    return publish_file(staged, target.parent, target.name)


def export_mart(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str, data_dir: Path
) -> Path:
    """Stage, validate and publish one workflow's mart file; the published path.

    Raises `MartValidationError` (publishing nothing) when the staged file breaks the contract;
    any failure leaves the previously published file as it was.
    """
    r = get_rollup(rollup)
    wf = checked_workflow_id(workflow_id)
    staging = new_staging_dir(Path(data_dir), f"mart-{r.name}")
    try:
        staged = stage_mart(con, r, wf, staging)
        problems = validate_mart_file(staged, r, count_rows(con, r, wf))
        if problems:
            raise MartValidationError(r.name, wf, problems)
        return publish_mart(staged, data_dir, r, wf)
    finally:
        discard(staging)

"""Parquet marts: each rollup partition as `marts/<rollup>/workflow_id=<id>/part-0.parquet`.

A mart file is written with DuckDB's `COPY ... TO` into a local temporary directory, validated
against the contract, uploaded to the location's staging (outside every published glob), then
moved into place by one atomic `storage.publish_file` (local: a rename; S3: a server-side copy):
a reader never sees a half-written file, and a failed export leaves the previous file untouched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from pyarrow import fs

from stuut_pipeline.layout import (
    PART_FILE,
    checked_workflow_id,
    mart_dir,
    partition_dir,
    staging_label,
)
from stuut_pipeline.storage import (
    DataLocation,
    as_location,
    clean_orphaned_staging,
    new_staging,
    publish_file,
)

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


@contextmanager
def local_scratch() -> Iterator[Path]:
    """A private local directory for files DuckDB writes before they are uploaded; removed."""
    with tempfile.TemporaryDirectory(prefix="stuut-mart-") as tmp:
        yield Path(tmp)


def publish_mart(
    staged: Path, location: DataLocation | Path | str, rollup: str | Rollup, workflow_id: str
) -> str:
    """Upload a locally staged mart file and publish it atomically; its key.

    The upload goes to the location's staging first (killed runs' leftovers of this rollup
    partition are removed then), so the published key only ever holds a whole file.
    """
    loc = as_location(location)
    r = get_rollup(rollup)
    label = staging_label(f"mart-{r.name}", workflow_id)
    clean_orphaned_staging(loc, label)
    staging = new_staging(loc, label)
    try:
        key = staging.key_for(PART_FILE)
        with loc.errors(f"uploading {loc.uri(key)}"):
            fs.copy_files(
                str(staged),
                loc.path(key),
                source_filesystem=fs.LocalFileSystem(),
                destination_filesystem=loc.filesystem,
            )
        target = f"{mart_dir(r.name)}/{partition_dir(workflow_id)}"
        return publish_file(loc, key, target, PART_FILE)
    finally:
        staging.discard()


def export_mart(
    con: duckdb.DuckDBPyConnection,
    rollup: str | Rollup,
    workflow_id: str,
    location: DataLocation | Path | str,
) -> str:
    """Stage, validate and publish one workflow's mart file; the published key.

    Raises `MartValidationError` (publishing nothing) when the staged file breaks the contract;
    any failure leaves the previously published file as it was.
    """
    r = get_rollup(rollup)
    wf = checked_workflow_id(workflow_id)
    with local_scratch() as scratch:
        staged = stage_mart(con, r, wf, scratch)
        problems = validate_mart_file(staged, r, count_rows(con, r, wf))
        if problems:
            raise MartValidationError(r.name, wf, problems)
        return publish_mart(staged, location, r, wf)

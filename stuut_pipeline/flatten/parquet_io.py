"""Bounded-memory, atomic writing of one partition (one workflow) of the four tables.

Layout under `root`:
    parquet/<table>/workflow_id=<partition>/part-0.parquet      published (read by the glob
                                                                 parquet/<table>/*/*.parquet)
    .staging/<token>/<table>.parquet.staged                      being written

DuckDB's globs match dot-directories and dot-files (`*` and `**` both do), so staged files are kept
outside `parquet/` AND do not end in `.parquet`: no `*.parquet` glob can ever see one. Each batch
is appended as row groups to one `ParquetWriter` per table, encoded on a background thread (Arrow
releases the GIL) while the caller flattens the next batch (memory: one batch encoding, one built).
`publish()` renames each staged file over the published one with `os.replace` (atomic per file;
readers see the old or the new file, never a partial one), then removes the partition directory's
other files.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from ..background import SerialWorker
from ..layout import checked_workflow_id, table_file
from ..publish import fsync_path, new_staging_dir, publish_file
from .contract import TABLES
from .flatten import DriftReport, FlatBatch

STAGED_SUFFIX = ".parquet.staged"


def published_files(root: Path, partition: str) -> dict[str, Path]:
    """Published file of every table for `partition` (whether or not it exists)."""
    return {name: table_file(root, name, partition) for name in TABLES}


class PartitionWriter:
    """Writes one partition of every table to staging, then publishes it atomically.

    Use as a context manager: leaving the block by an exception, or without `publish()`, aborts
    (staging deleted, published files untouched).

        with PartitionWriter(root, "otwfl_abc") as writer:
            for batch in batches:
                writer.write(batch)
            report = validate_partition(writer.seal())
            writer.publish()
    """

    def __init__(
        self,
        root: Path,
        partition: str,
        *,
        staging_dir: Path | None = None,
        compression: str = "zstd",
        compression_level: int | None = None,
    ) -> None:
        self.partition = checked_workflow_id(partition)
        self.root = Path(root)
        self.staging = new_staging_dir(Path(staging_dir) if staging_dir else self.root, partition)
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.drift = DriftReport()
        self.state = "open"
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._worker = SerialWorker("stuut-parquet", max_pending=1)
        try:
            for name, table in TABLES.items():
                self._writers[name] = pq.ParquetWriter(
                    self.staged_file(name),
                    table.arrow_schema(),
                    compression=compression,
                    compression_level=compression_level,
                    write_statistics=table.statistics_columns(),
                )
        except BaseException:
            self.abort()
            raise

    def staged_file(self, table: str) -> Path:
        """Where `table` is staged."""
        return self.staging / f"{table}{STAGED_SUFFIX}"

    def _require(self, *states: str) -> None:
        if self.state not in states:
            raise RuntimeError(f"partition writer is {self.state}, expected {' or '.join(states)}")

    def write(self, batch: FlatBatch) -> None:
        """Append a batch's tables as row groups (schemas must be the contract's)."""
        self._require("open")
        for name in self._writers:
            self.rows[name] += batch.tables[name].num_rows
        self.drift.merge(batch.drift)
        self._worker.submit(self._write_tables, batch.tables)

    def _write_tables(self, tables: dict[str, pa.Table]) -> None:
        for name, writer in self._writers.items():
            if tables[name].num_rows:
                writer.write_table(tables[name])

    def seal(self) -> dict[str, Path]:
        """Finish the staged files (footers, fsync) and return them, e.g. to validate them."""
        if self.state == "open":
            self._worker.drain()
            self._worker.close()
            for writer in self._writers.values():
                writer.close()
            for name in TABLES:
                fsync_path(self.staged_file(name))
            self.state = "sealed"
        self._require("sealed")
        return {name: self.staged_file(name) for name in TABLES}

    def publish(self) -> dict[str, Path]:
        """Move every staged file over its published file, drop stale files; return the paths."""
        staged = self.seal()
        published: dict[str, Path] = {}
        for name, source in staged.items():
            target = table_file(self.root, name, self.partition)
            published[name] = publish_file(source, target.parent, target.name)
        self.state = "published"
        shutil.rmtree(self.staging, ignore_errors=True)
        return published

    def abort(self) -> None:
        """Drop everything staged; published files are not touched."""
        if self.state in ("published", "aborted"):
            return
        self._worker.close()
        for writer in self._writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)
        self.state = "aborted"

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()

"""Bounded-memory, atomic writing of one partition (one workflow) of the four tables.

Keys under the data location (a local directory or `s3://bucket/prefix`):
    parquet/<table>/workflow_id=<partition>/part-0.parquet      published (read by the glob
                                                                 parquet/<table>/*/*.parquet)
    .staging/tables-<partition>-<token>/<table>.parquet.staged  being written

Staged files are kept outside `parquet/` AND do not end in `.parquet`: no published glob can ever
see one. Each batch is appended as row groups to one `ParquetWriter` per table, streaming to the
location's filesystem (a local file, or an S3 multipart upload that becomes an object only when
closed), encoded on a background thread (Arrow releases the GIL) while the caller flattens the
next batch (memory: one batch encoding, one built). `publish()` writes a journal, places every
staged file at its published key (local: `os.replace`; S3: a server-side copy), deletes anything
old, then the journal: a reader sees the old or the new file of a table, never a partial one, and
the next writer of the partition rolls an interrupted publish forward, so the four tables always
come from one run.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from ..background import SerialWorker
from ..layout import (
    PART_FILE,
    checked_workflow_id,
    partition_dir,
    staging_label,
    table_dir,
    table_key,
)
from ..storage import (
    DataLocation,
    FileJournal,
    PublishItem,
    as_location,
    clean_orphaned_staging,
    new_staging,
    publish_files,
    recover_publish,
)
from .contract import TABLES
from .flatten import DriftReport, FlatBatch

STAGED_SUFFIX = ".parquet.staged"
#: Key of the file metadata naming the run that wrote a table file (the four must agree).
RUN_ID_KEY = "stuut.run_id"


def published_files(partition: str) -> dict[str, str]:
    """Key of the published file of every table for `partition` (whether or not it exists)."""
    return {name: table_key(name, partition) for name in TABLES}


class PartitionWriter:
    """Writes one partition of every table to staging, then publishes it atomically.

    Use as a context manager: leaving the block by an exception, or without `publish()`, aborts
    (staging deleted, published files untouched). Creating one first finishes a publish of this
    partition that a kill interrupted (its journal), then removes the staging that killed runs
    left behind: the four published tables always come from one run (`RUN_ID_KEY` in each
    file's metadata names it).

        with PartitionWriter(location, "otwfl_abc") as writer:
            for batch in batches:
                writer.write(batch)
            report = validate_partition(writer.seal())
            writer.publish()
    """

    def __init__(
        self,
        location: DataLocation | Path | str,
        partition: str,
        *,
        run_id: str | None = None,
        compression: str = "zstd",
        compression_level: int | None = None,
    ) -> None:
        self.partition = checked_workflow_id(partition)
        self.location = as_location(location)
        self.run_id = run_id or uuid.uuid4().hex
        self._label = staging_label("tables", partition)
        #: what an interrupted publish of this partition was rolled forward to (None: nothing)
        self.recovered = recover_publish(self.location, self._label)
        clean_orphaned_staging(self.location, self._label)
        self.staging = new_staging(self.location, self._label)
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.drift = DriftReport()
        self.state = "open"
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._streams: list = []  # the writers do not close a stream they were given
        self._worker = SerialWorker("stuut-parquet", max_pending=1)
        try:
            for name, table in TABLES.items():
                stream = self.location.open_output_stream(self.staged_file(name))
                self._streams.append(stream)
                self._writers[name] = pq.ParquetWriter(
                    stream,
                    table.arrow_schema(),
                    compression=compression,
                    compression_level=compression_level,
                    write_statistics=table.statistics_columns(),
                )
        except BaseException:
            self.abort()
            raise

    def staged_file(self, table: str) -> str:
        """The key `table` is staged at."""
        return self.staging.key_for(f"{table}{STAGED_SUFFIX}")

    def _require(self, *states: str) -> None:
        if self.state not in states:
            raise RuntimeError(f"partition writer is {self.state}, expected {' or '.join(states)}")

    def write(self, batch: FlatBatch) -> None:
        """Append a batch's tables as row groups (schemas must be the contract's)."""
        self._require("open")
        for name in self._writers:
            self.rows[name] += batch.tables[name].num_rows
        self.drift.merge(batch.drift)
        with self.location.errors(f"writing {self.location.uri(self.staging.key)}"):
            self._worker.submit(self._write_tables, batch.tables)  # raises an earlier failure

    def _write_tables(self, tables: dict[str, pa.Table]) -> None:
        for name, writer in self._writers.items():
            if tables[name].num_rows:
                writer.write_table(tables[name])

    def seal(self) -> dict[str, str]:
        """Finish the staged files (footers, upload) and return their keys, e.g. to validate."""
        if self.state == "open":
            with self.location.errors(f"writing {self.location.uri(self.staging.key)}"):
                self._worker.drain()  # a write that failed in the background raises here
                self._worker.close()
                for writer in self._writers.values():
                    writer.add_key_value_metadata({RUN_ID_KEY: self.run_id})
                    writer.close()
                for stream in self._streams:
                    stream.close()  # on S3: completes the upload, the object appears
            self.state = "sealed"
        self._require("sealed")
        return {name: self.staged_file(name) for name in TABLES}

    def publish(self) -> dict[str, str]:
        """Place every staged file at its published key, then drop stale files; the keys."""
        staged = self.seal()
        items = [
            PublishItem(source, f"{table_dir(name)}/{partition_dir(self.partition)}", PART_FILE)
            for name, source in staged.items()
        ]
        # the journal lets the next run finish a publish a kill cut between two placements
        finals = publish_files(
            self.location, items, journal=FileJournal(self.location, self._label)
        )
        self.state = "published"
        return dict(zip(staged, finals, strict=True))

    def abort(self) -> None:
        """Drop everything staged; published files are not touched."""
        if self.state in ("published", "aborted"):
            return
        self._worker.close()
        for closable in [*self._writers.values(), *self._streams]:
            with contextlib.suppress(Exception):
                closable.close()
        with contextlib.suppress(OSError):
            self.staging.discard()
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

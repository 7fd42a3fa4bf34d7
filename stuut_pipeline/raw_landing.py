"""Raw landing: each workflow's calls exactly as received, deduped, as zstd-compressed NDJSON.

The flattening reads these files back, so it can be re-run without calling the API again.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec
import zstandard

from .background import SerialWorker
from .layout import RAW_FILE, checked_workflow_id, raw_calls_dir, raw_calls_key, staging_label
from .model import CheckOutcome, CheckSpec
from .storage import (
    DataLocation,
    Staging,
    as_location,
    clean_orphaned_staging,
    new_staging,
    publish_file,
)
from .stuut_api.client import FetchedRecord, FetchReport, decode_key

TOTAL_RECORDS_RECONCILED = CheckSpec(
    "total_records_reconciled",
    "WARN when the number of distinct calls fetched differs from the API's `total_records`"
    " (offset paging drifted and could not be reconciled, or records vanished meanwhile).",
    blocking=False,
)


def total_records_outcome(report: FetchReport) -> CheckOutcome:
    """The reconciliation check of one fetch."""
    matched = bool(report.total_records_matched)
    return CheckOutcome(
        TOTAL_RECORDS_RECONCILED,
        matched,
        f"{report.records} distinct calls, total_records={report.total_records}"
        if matched
        else f"fetched {report.records} distinct calls but the API reports"
        f" total_records={report.total_records}",
        {
            "records": report.records,
            "total_records": report.total_records,
            "first_total_records": report.first_total_records,
            "duplicates_dropped": report.duplicates_dropped,
            "superseded": report.superseded,
            "passes": report.passes,
        },
    )


class RawCallsLanding:
    """Writes one workflow's raw records to staging; `publish()` moves them into place.

    Records must arrive deduped (as the client yields them); a record flagged `supersedes`
    replaces the earlier one with the same id when publishing. Used as a context manager, an
    exception discards the staging file and leaves the published landing untouched. Entering
    removes the staging that killed runs of this workflow left behind.

    Compression runs on a background thread (zstd releases the GIL), one page behind the caller;
    the bytes go straight to the location's filesystem (local file or S3 multipart upload).
    """

    def __init__(
        self, location: DataLocation | Path | str, workflow_id: str, *, level: int = 3
    ) -> None:
        self.location = as_location(location)
        self.workflow_id = checked_workflow_id(workflow_id)
        self._label = staging_label("raw", workflow_id)
        self._level = level
        self._staging: Staging | None = None
        self._writer = None
        self._worker: SerialWorker | None = None
        self._superseded: set[str] = set()
        self.records = 0
        self.bytes_raw = 0

    def __enter__(self) -> RawCallsLanding:
        clean_orphaned_staging(self.location, self._label)
        self._staging = new_staging(self.location, self._label)
        out = self.location.open_output_stream(self._staging.key_for(RAW_FILE))
        self._writer = zstandard.ZstdCompressor(level=self._level).stream_writer(out)
        self._worker = SerialWorker("stuut-landing", max_pending=1)
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()  # after publish() there is nothing left to discard

    def write(self, records: Iterable[FetchedRecord]) -> None:
        """Append records (one JSON document per line); compressed in the background."""
        assert self._worker is not None, "use RawCallsLanding as a context manager"
        raws = []
        for rec in records:
            raws.append(rec.raw)
            if rec.supersedes:
                self._superseded.add(rec.record.id)
            else:
                self.records += 1
        if raws:
            self._worker.submit(self._write_lines, raws)

    def _write_lines(self, raws: list[msgspec.Raw]) -> None:
        writer = self._writer
        assert writer is not None
        for raw in raws:
            line = bytes(raw)  # one record at a time: no page-sized buffer to allocate
            if b"\n" in line or b"\r" in line:
                # insignificant whitespace: inside JSON strings line breaks are escaped
                line = line.replace(b"\r", b" ").replace(b"\n", b" ")
            writer.write(line)
            writer.write(b"\n")
            self.bytes_raw += len(line) + 1

    def publish(self) -> str:
        """Close, drop superseded versions, and move the file into place atomically; its key."""
        assert self._writer is not None and self._staging is not None
        assert self._worker is not None
        self._worker.drain()
        self._worker.close()
        self._worker = None
        with self.location.errors(f"writing {self.location.uri(self._staging.key)}"):
            self._writer.close()
        self._writer = None
        staged = self._staging.key_for(RAW_FILE)
        if self._superseded:
            staged = self._compact(staged)
        final = publish_file(self.location, staged, raw_calls_dir(self.workflow_id), RAW_FILE)
        self._staging = None
        return final

    def abort(self) -> None:
        """Discard everything staged."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._writer is not None:
            with contextlib.suppress(OSError):  # the upload is being thrown away anyway
                self._writer.close()
            self._writer = None
        if self._staging is not None:
            self._staging.discard()
            self._staging = None

    def _compact(self, staged: str) -> str:
        """Keep only the last (newest) line of each superseded id."""
        assert self._staging is not None
        last_line: dict[str, int] = {}
        for n, line in enumerate(iter_raw_lines(self.location, staged)):
            key = decode_key(line).id
            if key in self._superseded:
                last_line[key] = n
        out = self._staging.key_for(RAW_FILE + ".compact")
        with zstandard.ZstdCompressor(level=self._level).stream_writer(
            self.location.open_output_stream(out)
        ) as w:
            for n, line in enumerate(iter_raw_lines(self.location, staged)):
                key = decode_key(line).id
                if key in self._superseded and last_line[key] != n:
                    continue
                w.write(line)
                w.write(b"\n")
        return out


def published_raw_key(location: DataLocation, workflow_id: str) -> str | None:
    """The key of a workflow's published raw landing, or None when there is none."""
    key = raw_calls_key(workflow_id)
    return key if location.exists(key) else None


def iter_raw_lines(location: DataLocation | Path | str, key: str) -> Iterator[bytes]:
    """Each record of a landed file, as the raw JSON bytes of one call."""
    loc = as_location(location)
    with loc.open_input_stream(key) as fh:
        reader = io.BufferedReader(
            zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True), 1 << 20
        )
        for line in reader:
            line = line.rstrip(b"\n")
            if line:
                yield line


def iter_raw_batches(
    location: DataLocation | Path | str, key: str, batch_size: int = 2000
) -> Iterator[list[bytes]]:
    """The landed records in lists of at most `batch_size`."""
    batch: list[bytes] = []
    for line in iter_raw_lines(location, key):
        batch.append(line)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch

"""Raw landing: each workflow's calls exactly as received, deduped, as zstd-compressed NDJSON.

The flattening reads these files back, so it can be re-run without calling the API again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import zstandard

from .background import SerialWorker
from .layout import (
    QUARANTINE_FILE,
    RAW_FILE,
    checked_workflow_id,
    raw_calls_dir,
    raw_calls_key,
    staging_label,
)
from .model import CheckOutcome, CheckSpec
from .storage import (
    DataLocation,
    PublishItem,
    Staging,
    as_location,
    clean_orphaned_staging,
    new_staging,
    publish_files,
)
from .stuut_api.client import CallKey, FetchedRecord, FetchReport, decode_key

TOTAL_RECORDS_RECONCILED = CheckSpec(
    "total_records_reconciled",
    "WARN when the number of distinct calls fetched differs from the API's `total_records`"
    " (offset paging drifted and could not be reconciled, or records vanished meanwhile).",
    blocking=False,
)


RECORDS_QUARANTINED = CheckSpec(
    "no_quarantined_records",
    "WARN when records could not be keyed as a call (not a JSON object, or no non-empty string"
    " `id`): they are landed raw as received, left out of the tables and written with the"
    " reason to `quarantine.ndjson.zst` beside the landing. Received = keyed + quarantined.",
    blocking=False,
)


@dataclass(frozen=True)
class Quarantined:
    """A record that cannot be keyed as a call: a unique stand-in id (so that the client's
    dedupe keeps it apart), no `modified_at`, and why it was refused."""

    id: str
    reason: str
    modified_at: None = None


def quarantined(raw: bytes | memoryview | msgspec.Raw, reason: str) -> Quarantined:
    """The stand-in of an unkeyable record (its id: a hash of its bytes, never a call id)."""
    digest = hashlib.sha256(bytes(raw)).hexdigest()[:20]
    return Quarantined(f"\x00quarantined:{digest}", reason)


def key_or_quarantine(raw: msgspec.Raw) -> CallKey | Quarantined:
    """`decode_key` that never raises: an unkeyable record becomes `Quarantined`."""
    try:
        key = decode_key(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return quarantined(raw, f"no string `id`: {exc}")
    if not key.id:
        return quarantined(raw, "an empty `id`")
    return key


def quarantine_outcome(received: int, quarantined_records: int) -> CheckOutcome:
    """The quarantine check of one fetch: `received` distinct records, of which quarantined."""
    keyed = received - quarantined_records
    return CheckOutcome(
        RECORDS_QUARANTINED,
        quarantined_records == 0,
        f"every one of {received} records is keyed"
        if not quarantined_records
        else f"{quarantined_records} of {received} records could not be keyed and were"
        f" quarantined; {keyed} go on to the tables",
        {"received": received, "keyed": keyed, "quarantined": quarantined_records},
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
        self._quarantine: list[bytes] = []
        self.records = 0
        self.quarantined = 0
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
        """Append records (one JSON document per line); compressed in the background.

        Every record is landed as received; a `Quarantined` one is also kept, with its reason,
        for the quarantine file published beside the landing.
        """
        assert self._worker is not None, "use RawCallsLanding as a context manager"
        raws = []
        for rec in records:
            raws.append(rec.raw)
            if isinstance(rec.record, Quarantined):
                self.quarantined += 1
                self._quarantine.append(
                    msgspec.json.encode(
                        {
                            "reason": rec.record.reason,
                            "record": bytes(rec.raw).decode("utf-8", "replace"),
                        }
                    )
                )
            if rec.supersedes:
                self._superseded.add(rec.record.id)
            else:
                self.records += 1
        if raws:
            assert self._staging is not None
            with self.location.errors(f"writing {self.location.uri(self._staging.key)}"):
                self._worker.submit(self._write_lines, raws)  # raises an earlier failure

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
        with self.location.errors(f"writing {self.location.uri(self._staging.key)}"):
            self._worker.drain()  # a write that failed in the background raises here
            self._worker.close()
            self._worker = None
            self._writer.close()
        self._writer = None
        staged = self._staging.key_for(RAW_FILE)
        if self._superseded:
            staged = self._compact(staged)
        target = raw_calls_dir(self.workflow_id)
        items = [PublishItem(staged, target, RAW_FILE)]
        if self._quarantine:
            items.append(PublishItem(self._write_quarantine(), target, QUARANTINE_FILE))
        final = publish_files(self.location, items)[0]  # an old quarantine file is pruned
        self._staging = None
        return final

    def _write_quarantine(self) -> str:
        assert self._staging is not None
        out = self._staging.key_for(QUARANTINE_FILE)
        with zstandard.ZstdCompressor(level=self._level).stream_writer(
            self.location.open_output_stream(out)
        ) as w:
            for line in self._quarantine:
                w.write(line)
                w.write(b"\n")
        return out

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
            key = key_or_quarantine(msgspec.Raw(line)).id
            if key in self._superseded:
                last_line[key] = n
        out = self._staging.key_for(RAW_FILE + ".compact")
        with zstandard.ZstdCompressor(level=self._level).stream_writer(
            self.location.open_output_stream(out)
        ) as w:
            for n, line in enumerate(iter_raw_lines(self.location, staged)):
                key = key_or_quarantine(msgspec.Raw(line)).id
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

"""Raw landing: each workflow's calls exactly as received, deduped, as zstd-compressed NDJSON.

The flattening reads these files back, so it can be re-run without calling the API again.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec
import zstandard

from .background import SerialWorker
from .layout import RAW_FILE, raw_calls_dir
from .model import CheckOutcome, CheckSpec
from .publish import discard, new_staging_dir, publish_file
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
    exception discards the staging file and leaves the published landing untouched.

    Compression runs on a background thread (zstd releases the GIL), one page behind the caller.
    """

    def __init__(self, data_dir: Path, workflow_id: str, *, level: int = 3) -> None:
        self.target_dir = raw_calls_dir(data_dir, workflow_id)
        self.data_dir = Path(data_dir)
        self._level = level
        self._staging: Path | None = None
        self._file: io.BufferedWriter | None = None
        self._writer = None
        self._worker: SerialWorker | None = None
        self._superseded: set[str] = set()
        self.records = 0
        self.bytes_raw = 0

    def __enter__(self) -> RawCallsLanding:
        self._staging = new_staging_dir(self.data_dir, "raw")
        self._file = open(self._staging / RAW_FILE, "wb")  # noqa: SIM115
        self._writer = zstandard.ZstdCompressor(level=self._level).stream_writer(self._file)
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

    def publish(self) -> Path:
        """Close, drop superseded versions, and move the file into place atomically."""
        assert self._writer is not None and self._staging is not None
        assert self._worker is not None
        self._worker.drain()
        self._worker.close()
        self._worker = None
        self._writer.close()
        self._writer = None
        staged = self._staging / RAW_FILE
        if self._superseded:
            staged = self._compact(staged)
        final = publish_file(staged, self.target_dir, RAW_FILE)
        discard(self._staging)
        self._staging = None
        return final

    def abort(self) -> None:
        """Discard everything staged."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._staging is not None:
            discard(self._staging)
            self._staging = None

    def _compact(self, staged: Path) -> Path:
        """Keep only the last (newest) line of each superseded id."""
        last_line: dict[str, int] = {}
        for n, line in enumerate(iter_raw_lines(staged)):
            key = decode_key(line).id
            if key in self._superseded:
                last_line[key] = n
        out = staged.with_suffix(".compact")
        with (
            open(out, "wb") as fh,
            zstandard.ZstdCompressor(level=self._level).stream_writer(fh) as w,
        ):
            for n, line in enumerate(iter_raw_lines(staged)):
                key = decode_key(line).id
                if key in self._superseded and last_line[key] != n:
                    continue
                w.write(line)
                w.write(b"\n")
        return out


def iter_raw_lines(path: Path) -> Iterator[bytes]:
    """Each record of a landed file, as the raw JSON bytes of one call."""
    with open(path, "rb") as fh:
        reader = io.BufferedReader(
            zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True), 1 << 20
        )
        for line in reader:
            line = line.rstrip(b"\n")
            if line:
                yield line


def iter_raw_batches(path: Path, batch_size: int = 2000) -> Iterator[list[bytes]]:
    """The landed records in lists of at most `batch_size`."""
    batch: list[bytes] = []
    for line in iter_raw_lines(path):
        batch.append(line)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch

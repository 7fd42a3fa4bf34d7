"""A reader process: reads every published file and the catalog in a loop until told to stop.

`python -m reliability.reader_loop <data dir> <stop file> <result json>`: each round

- reads every Parquet file under the published globs whole through ONE open file (what DuckDB's
  catalog query and `pq.read_table(open(path, "rb"))` do), decompresses every raw file whole,
  and opens the catalog read-only for `SELECT count(*) FROM calls`: every failure is an error;
- then, as a measurement, reads the same Parquet files the ways that open a file more than once:
  `pq.read_table(path)` (pyarrow keeps the footer of its first open and reads the pages through a
  second one) and a DuckDB scan of every column of the `calls` glob. A replace landing between
  two opens tears such a read; these are counted as torn reads, not errors (RELIABILITY.md).

Writes the counts and the first messages of each kind as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import zstandard

GLOBS = ("parquet/*/*/*.parquet", "marts/*/*/*.parquet")
CALLS_GLOB = "parquet/calls/*/*.parquet"


class Tally:
    """Attempts and failures of one kind of read, with the first messages."""

    def __init__(self) -> None:
        self.attempts = self.failures = 0
        self.messages: list[str] = []

    def read(self, what: str, action: Callable[[], object]) -> None:
        self.attempts += 1
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - every failure is what we count
            self.failures += 1
            if len(self.messages) < 5:
                self.messages.append(f"{what}: {type(exc).__name__}: {exc}")


def _read_by_handle(path: Path) -> None:
    with open(path, "rb") as f:
        pq.read_table(f)


def _read_raw(path: Path) -> None:
    with open(path, "rb") as f:
        zstandard.ZstdDecompressor().stream_reader(f).read()


def _query_catalog(catalog: Path) -> None:
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        con.execute("SELECT count(*) FROM calls").fetchone()
    finally:
        con.close()


def _scan_calls(con: duckdb.DuckDBPyConnection, data: Path) -> None:
    con.execute(
        f"SELECT count(*), sum(hash(columns(*))) FROM read_parquet('{data / CALLS_GLOB}')"
    ).fetchall()


def main(data: Path, stop: Path, out: Path) -> None:
    rounds = 0
    files, catalog, torn = Tally(), Tally(), Tally()
    scans = duckdb.connect()
    while not stop.exists():
        parquet = [p for pattern in GLOBS for p in data.glob(pattern)]
        for path in parquet:
            files.read(str(path.relative_to(data)), lambda p=path: _read_by_handle(p))
        for path in data.glob("raw/calls/*/*.zst"):
            files.read(str(path.relative_to(data)), lambda p=path: _read_raw(p))
        catalog.read("catalog", lambda: _query_catalog(data / "warehouse" / "stuut.duckdb"))
        for path in parquet:
            torn.read(f"by path {path.relative_to(data)}", lambda p=path: pq.read_table(p))
        torn.read("duckdb scan of calls", lambda: _scan_calls(scans, data))
        rounds += 1
        time.sleep(0.01)
    result = {
        "rounds": rounds,
        "files_read": files.attempts - files.failures,
        "catalog_reads": catalog.attempts - catalog.failures,
        "errors": files.failures + catalog.failures,
        "first_errors": (files.messages + catalog.messages)[:5],
        "multi_open_reads": torn.attempts,
        "torn_reads": torn.failures,
        "first_torn": torn.messages,
    }
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))

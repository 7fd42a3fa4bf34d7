"""A reader process: reads every published file and the catalog in a loop until told to stop.

`python -m reliability.reader_loop <data dir> <stop file> <result json>`: each round reads every
Parquet file under the published globs with pyarrow, decompresses every raw file whole, and
opens the catalog read-only for `SELECT count(*) FROM calls`. Writes counts and the first errors.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import zstandard

GLOBS = ("parquet/*/*/*.parquet", "marts/*/*/*.parquet")


def main(data: Path, stop: Path, out: Path) -> None:
    rounds = files = catalog_reads = 0
    errors: list[str] = []
    error_count = 0
    catalog = data / "warehouse" / "stuut.duckdb"
    while not stop.exists():
        for pattern in GLOBS:
            for path in data.glob(pattern):
                try:
                    pq.read_table(path)
                    files += 1
                except Exception as exc:  # noqa: BLE001 - every failure is what we count
                    error_count += 1
                    errors.append(f"{path.relative_to(data)}: {type(exc).__name__}: {exc}")
        for path in data.glob("raw/calls/*/*.zst"):
            try:
                with open(path, "rb") as f:
                    zstandard.ZstdDecompressor().stream_reader(f).read()
                files += 1
            except Exception as exc:  # noqa: BLE001
                error_count += 1
                errors.append(f"{path.relative_to(data)}: {type(exc).__name__}: {exc}")
        try:
            con = duckdb.connect(str(catalog), read_only=True)
            try:
                con.execute("SELECT count(*) FROM calls").fetchone()
                catalog_reads += 1
            finally:
                con.close()
        except Exception as exc:  # noqa: BLE001
            error_count += 1
            errors.append(f"catalog: {type(exc).__name__}: {exc}")
        rounds += 1
        time.sleep(0.01)
    result = {
        "rounds": rounds,
        "files_read": files,
        "catalog_reads": catalog_reads,
        "errors": error_count,
        "first_errors": errors[:5],
    }
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))

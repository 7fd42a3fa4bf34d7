"""Storage put cost: N MB of Parquet written and published on local disk vs SeaweedFS S3.

    python benchmarks/storage_put.py --mb 64 --repeat 3

Builds one table of about `--mb` MB (uncompressed Parquet of int64/float64/string columns),
then, on each backend, times through `stuut_pipeline.storage`:

- `write`: `pq.write_table` into a staged key (local file, or S3 multipart upload);
- `publish`: `publish_file` into `parquet/calls/workflow_id=bench/` (local `os.replace` after
  fsync; S3 server-side CopyObject, then the staging is deleted);
- `read`: `read_bytes` of the published object.

SeaweedFS is started on loopback for the run (the test suite's server helper) and stopped at
the end. Prints one JSON line per backend (best of `--repeat`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stuut_pipeline.storage import DataLocation, new_staging, publish_file  # noqa: E402
from stuut_pipeline_tests.servers.fixtures import s3_options  # noqa: E402
from stuut_pipeline_tests.servers.seaweedfs import running_seaweedfs  # noqa: E402

TARGET_DIR = "parquet/calls/workflow_id=bench"


def make_table(mb: float) -> pa.Table:
    """About `mb` MB of uncompressed Parquet (~18 bytes a row once encoded)."""
    rows = max(1, int(mb * 1024 * 1024 / 18))
    return pa.table(
        {
            "n": pa.array(range(rows), pa.int64()),
            "amount": pa.array([i * 0.5 for i in range(rows)], pa.float64()),
            "tag": pa.array([f"t{i % 997:04d}" for i in range(rows)], pa.string()),
        }
    )


def time_once(location: DataLocation, table: pa.Table) -> dict[str, float]:
    """Seconds to write, publish and read back the table once."""
    t0 = time.perf_counter()
    staging = new_staging(location, "bench")
    key = staging.key_for("part-0.parquet")
    with location.open_output_stream(key) as out:
        pq.write_table(table, out, compression="none")
    t1 = time.perf_counter()
    final = publish_file(location, key, TARGET_DIR, "part-0.parquet")
    t2 = time.perf_counter()
    size = len(location.read_bytes(final))
    t3 = time.perf_counter()
    return {"write": t1 - t0, "publish": t2 - t1, "read": t3 - t2, "bytes": size}


def best_of(location: DataLocation, table: pa.Table, repeat: int) -> dict[str, float]:
    """Per-stage minimum over `repeat` runs."""
    runs = [time_once(location, table) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def report(backend: str, figures: dict[str, float]) -> None:
    """One JSON line with seconds and MB/s of the write."""
    mb = figures["bytes"] / 1024 / 1024
    line = {"backend": backend, "mb": round(mb, 1)}
    line |= {k: round(v, 4) for k, v in figures.items() if k != "bytes"}
    line["write_mb_s"] = round(mb / figures["write"], 1)
    print(json.dumps(line), flush=True)


def main() -> None:
    """Run both backends and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = make_table(args.mb)
    with tempfile.TemporaryDirectory(prefix="storage-put-") as tmp:
        root = Path(tmp)
        report("local", best_of(DataLocation.from_url(root / "local"), table, args.repeat))
        with running_seaweedfs(root / "seaweedfs") as server:
            s3 = DataLocation.from_url(f"s3://{server.bucket}/bench", s3_options(server))
            report("seaweedfs", best_of(s3, table, args.repeat))


if __name__ == "__main__":
    main()

"""Digest of every table and mart partition under a data dir: row count and a hash of its rows.

Run it on the outputs of `stuut-pipeline run` before and after a refactoring (same simulator
seed): equal digests mean the same rows in every table and the same rollup figures. Floats are
rounded to 6 places (a float sum's last bits depend on the order of addition).

    python benchmarks/output_digest.py data > before.json
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def _norm(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def digest(root: str) -> dict[str, list]:
    """`<kind>/<dataset>/workflow_id=<id>` -> [rows, hash of the sorted rows]."""
    out = {}
    for kind in ("parquet", "marts"):
        for dataset in sorted(glob.glob(f"{root}/{kind}/*")):
            for part in sorted(glob.glob(f"{dataset}/workflow_id=*")):
                table = pa.concat_tables(pq.read_table(f) for f in glob.glob(f"{part}/*.parquet"))
                rows = sorted(
                    json.dumps(_norm(r), sort_keys=True, default=str) for r in table.to_pylist()
                )
                key = f"{kind}/{os.path.basename(dataset)}/{os.path.basename(part)}"
                out[key] = [
                    table.num_rows,
                    hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16],
                ]
    return out


if __name__ == "__main__":
    print(json.dumps(digest(sys.argv[1]), indent=1, sort_keys=True))

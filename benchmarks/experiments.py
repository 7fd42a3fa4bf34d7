"""Measure candidate product changes (prototyped in `profile_ingest.VARIANTS`) against the product.

    python benchmarks/experiments.py --calls 10000 --repeat 3 [--variants a,b]

Each variant runs the ingest's stages (no Dagster) in its own process against one simulator
server, runs interleaved, best of `--repeat` kept. Reports wall/CPU/peak memory and the stage
times, and checks that every variant's Parquet tables are equal to the product's and its raw
landing decompresses to the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, PYTHON, Server, loadavg, run_measured  # noqa: E402
from profile_ingest import VARIANT_ENV, VARIANTS  # noqa: E402


def _fingerprint(data_dir: Path) -> dict[str, str]:
    """Order-free content hashes: each table's rows sorted by its primary key, the raw landing's
    lines sorted (pages arrive in completion order, so row order may differ between runs)."""
    import pyarrow.parquet as pq
    import zstandard

    from stuut_pipeline.flatten.contract import TABLES

    out: dict[str, str] = {}
    for path in sorted((data_dir / "parquet").rglob("*.parquet")):
        name = path.parts[-3]
        table = pq.read_table(path)
        table = table.sort_by([(k, "ascending") for k in TABLES[name].primary_key])
        h = hashlib.sha256(str(table.schema).encode())
        for col in table.columns:
            h.update(repr(col.to_pylist()).encode())
        out[name] = f"{table.num_rows}:{h.hexdigest()[:16]}"
    for path in sorted((data_dir / "raw").rglob("*.zst")):
        with open(path, "rb") as fh:
            raw = zstandard.ZstdDecompressor().stream_reader(fh).read()
        lines = sorted(raw.split(b"\n"))
        out["raw"] = f"{len(raw)}:{hashlib.sha256(b''.join(lines)).hexdigest()[:16]}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if "product" not in variants:
        variants.insert(0, "product")
    best: dict[str, dict] = {}
    prints: dict[str, dict] = {}
    with Server(args.calls) as server, tempfile.TemporaryDirectory(prefix="stuut-exp-") as tmp:
        print(f"{args.calls} calls; load {loadavg()}", flush=True)
        for rep in range(args.repeat):
            for variant in variants:
                out = Path(tmp) / f"{variant}-{rep}"
                cpu0 = server.cpu_seconds()
                run = run_measured(
                    [
                        PYTHON,
                        str(HERE / "profile_ingest.py"),
                        "--variant",
                        variant,
                        *server.client_args(),
                        "--out",
                        str(out),
                    ],
                    log=Path(tmp) / f"{variant}-{rep}.log",
                    env=VARIANT_ENV.get(variant),
                )
                if run.returncode != 0:
                    raise RuntimeError(f"{variant} failed:\n{run.stderr_tail}")
                row = {
                    "variant": variant,
                    "wall_s": round(run.wall, 2),
                    "work_s": round(run.result["stages"]["total"], 2),
                    "cpu_s": round(run.cpu, 2),
                    "peak_rss_mb": round(run.peak_rss_tree / 2**20),
                    "server_cpu_s": round(server.cpu_seconds() - cpu0, 2),
                    "stages": {k: round(v, 2) for k, v in run.result["stages"].items()},
                    "stage_cpu": {k: round(v, 2) for k, v in run.result.get("cpu", {}).items()},
                    "load": loadavg(),
                }
                if rep == 0:
                    prints[variant] = _fingerprint(out)
                shutil.rmtree(out, ignore_errors=True)
                print(
                    f"  {variant:<16} work {row['work_s']:6.2f} s  cpu {row['cpu_s']:6.2f} s"
                    f"  peak {row['peak_rss_mb']:4d} MB  load {row['load']}",
                    flush=True,
                )
                if variant not in best or row["cpu_s"] < best[variant]["cpu_s"]:
                    best[variant] = row
    base = best["product"]
    print("\nbest (lowest CPU) run of each variant:\n")
    print("| variant | work s (wall) | CPU s | CPU vs product | peak RSS MB | same output |")
    print("|---|---:|---:|---:|---:|---|")
    for variant in variants:
        r = best[variant]
        same = prints[variant] == prints["product"]
        print(
            f"| {variant} | {r['work_s']:.2f} | {r['cpu_s']:.2f}"
            f" | {100 * (r['cpu_s'] / base['cpu_s'] - 1):+.0f} %"
            f" | {r['peak_rss_mb']} | {'yes' if same else 'NO'} |"
        )
    print("\nCPU seconds per stage (process-wide), same runs:\n")
    names = sorted({n for v in variants for n in best[v]["stage_cpu"]})
    print("| stage | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for name in names:
        cells = " | ".join(f"{best[v]['stage_cpu'].get(name, 0):.2f}" for v in variants)
        print(f"| {name} | {cells} |")
    print("\nwall seconds per stage, same runs:")
    print("| stage | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for name in names:
        cells = " | ".join(f"{best[v]['stages'].get(name, 0):.2f}" for v in variants)
        print(f"| {name} | {cells} |")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"experiments-{args.calls}.json").write_text(
        json.dumps({"best": best, "fingerprints": prints, "variants": VARIANTS}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

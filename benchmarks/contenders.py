"""One contender of the ingest benchmark, run in its own process by `benchmarks/run.py`.

    python benchmarks/contenders.py {ours,dlt,lower-msgspec,lower-orjson} \
        --url URL --token T --workflow W --out DIR

Prints one JSON line with what it did: `seconds` (the work, from the first request to the last
file written, imports excluded), calls, output rows and bytes, and contender-specific detail. The
harness measures wall time, peak memory and CPU of the process from outside.

- `ours`: the `ingest_calls` multi-asset (raw_calls + the four tables) of one workflow partition
  materialised through Dagster
  (`dg.materialize` on a temporary DAGSTER_HOME, console logs at WARNING like `stuut-pipeline
  run`): fetch, land raw, flatten, write Parquet, run the blocking checks, publish.
- `dlt`: dlt's `rest_api` source (cursor paginator on `next_page`, `cursor_param="page"`)
  writing Parquet to the `filesystem` destination, as a user who picked dlt would run it.
- `lower-msgspec`: the lower bound: the same pages with the same concurrency as our client (page
  0, then 4 requests in flight), each page decoded by msgspec into the contract's typed structs
  (unneeded parts kept as `msgspec.Raw`, approver/workflow/partner decoded too), nothing else.
- `lower-orjson`: the same fetch, each page parsed by `orjson.loads` (every leaf a Python object),
  for reference.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import materialize_ingest, vmhwm_bytes  # noqa: E402


def _files_stats(root: Path, suffix: str) -> tuple[int, int]:
    files = [p for p in root.rglob(f"*{suffix}") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _parquet_rows(root: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    rows: dict[str, int] = {}
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root).parts
        table = rel[-3] if rel[-2].startswith("workflow_id=") else rel[-2]
        rows[table] = rows.get(table, 0) + pq.ParquetFile(path).metadata.num_rows
    return rows


# --- ours ---------------------------------------------------------------------------------------


def run_ours(args: argparse.Namespace) -> dict:
    home = Path(args.out) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    data_dir = Path(args.out) / "data"
    import dagster as dg

    from stuut_pipeline.defs.partitions import workflow_partitions

    instance = dg.DagsterInstance.get()
    if not instance.has_dynamic_partition(workflow_partitions.name, args.workflow):
        instance.add_dynamic_partitions(workflow_partitions.name, [args.workflow])
    if args.init_only:
        return {"ok": True, "seconds": 0, "calls": 0, "rows": {}, "rows_total": 0, "bytes": 0}
    started = time.perf_counter()
    result = materialize_ingest(instance, args.url, args.token, args.workflow, data_dir)
    seconds = time.perf_counter() - started
    steps = {
        s.step_key: round(s.end_time - s.start_time, 2)
        for s in instance.get_run_step_stats(result.run_id)
        if s.end_time and s.start_time
    }
    meta: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta[mat.asset_key.to_user_string()] = {
            k: getattr(v, "value", v) for k, v in mat.metadata.items()
        }
    checks = [e.passed for e in result.get_asset_check_evaluations()]
    raw = meta.get("raw_calls", {})
    _, parquet_bytes = _files_stats(data_dir / "parquet", ".parquet")
    _, raw_bytes = _files_stats(data_dir / "raw", ".zst")
    rows = _parquet_rows(data_dir / "parquet")
    return {
        "ok": result.success and all(checks),
        "seconds": round(seconds, 3),
        "calls": int(raw.get("dagster/row_count", 0)),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "bytes": parquet_bytes + raw_bytes,
        "detail": {
            "parquet_bytes": parquet_bytes,
            "raw_landing_bytes": raw_bytes,
            "steps_seconds": steps,
            "fetch_seconds": raw.get("fetch/seconds"),
            "bytes_received": raw.get("fetch/bytes_received"),
            "checks_passed": f"{sum(checks)}/{len(checks)}",
        },
    }


# --- dlt ----------------------------------------------------------------------------------------


def run_dlt(args: argparse.Namespace) -> dict:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    out = Path(args.out).resolve()
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": args.url.rstrip("/") + "/",
                "auth": {"type": "bearer", "token": args.token},
                # dlt's "auto" paginator never stops on this envelope: say how it pages.
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_page",
                    "cursor_param": "page",
                },
            },
            "resource_defaults": {"write_disposition": "replace"},
            "resources": [
                {
                    "name": "calls",
                    "primary_key": "id",
                    "endpoint": {
                        "path": "v1/calls",
                        "params": {"workflow": args.workflow, "limit": 200},
                        "data_selector": "data",
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="stuut_bench",
        pipelines_dir=str(out / "dlt_pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(out / "lake").as_uri()),
        dataset_name="stuut",
        progress="log" if args.verbose else None,
    )
    started = time.perf_counter()
    pipeline.run(source, loader_file_format="parquet")
    seconds = time.perf_counter() - started
    trace = pipeline.last_trace
    steps = {s.step: round((s.finished_at - s.started_at).total_seconds(), 2) for s in trace.steps}
    counts = dict(trace.last_normalize_info.row_counts)
    rows = {k: v for k, v in counts.items() if not k.startswith("_dlt")}
    n_files, nbytes = _files_stats(out / "lake", ".parquet")
    schema = pipeline.default_schema
    data_tables = schema.data_tables()
    return {
        "ok": True,
        "seconds": round(seconds, 3),
        "calls": rows.get("calls", 0),
        "rows": {
            "calls": rows.get("calls", 0),
            "(child tables)": sum(rows.values()) - rows.get("calls", 0),
        },
        "rows_total": sum(rows.values()),
        "bytes": nbytes,
        "detail": {
            "steps_seconds": steps,
            "tables": len(data_tables),
            "columns": sum(len(t.get("columns", {})) for t in data_tables),
            "calls_columns": len(schema.get_table_columns("calls")),
            "parquet_files": n_files,
        },
    }


# --- the lower bound ----------------------------------------------------------------------------


def run_lower(args: argparse.Namespace, decoder_name: str) -> dict:
    import httpx
    import msgspec

    if decoder_name == "msgspec":
        from stuut_pipeline.flatten.decode import NULL, ROOT

        envelope = msgspec.defstruct(
            "Envelope",
            [
                ("data", list[ROOT.struct]),  # type: ignore[name-defined]
                ("current_page", int),
                ("total_records", int),
                ("next_page", int | None, None),
            ],
        )
        page_decoder = msgspec.json.Decoder(envelope)
        objects = list(ROOT.objects.items())

        def scan(body: bytes) -> tuple[int, int]:
            env = page_decoder.decode(body)
            for call in env.data:
                for key, level in objects:
                    raw = getattr(call, key)
                    if raw is not None and raw != NULL:
                        level.decoder.decode(raw)
            return len(env.data), env.total_records

    else:
        import orjson

        def scan(body: bytes) -> tuple[int, int]:
            env = orjson.loads(body)
            return len(env["data"]), env["total_records"]

    concurrency = 4
    limit = 200
    http = httpx.Client(
        base_url=args.url,
        headers={"Authorization": f"Bearer {args.token}", "Accept": "application/json"},
        timeout=60.0,
        limits=httpx.Limits(max_connections=concurrency + 1),
    )

    def get(page: int) -> tuple[int, int, int]:
        params = {"workflow": args.workflow, "limit": limit, "page": page}
        response = http.get("/v1/calls", params=params)
        response.raise_for_status()
        body = response.content
        n, total = scan(body)
        return n, total, len(body)

    started = time.perf_counter()
    calls, total, nbytes = get(0)
    pages = max(1, math.ceil(total / limit))
    with ThreadPoolExecutor(concurrency) as pool:
        for n, _, b in pool.map(get, range(1, pages)):
            calls += n
            nbytes += b
    seconds = time.perf_counter() - started
    http.close()
    return {
        "ok": calls == total,
        "seconds": round(seconds, 3),
        "calls": calls,
        "rows": {},
        "rows_total": 0,
        "bytes": 0,
        "detail": {"pages": pages, "bytes_received": nbytes},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one ingest-benchmark contender")
    parser.add_argument("contender", choices=["ours", "dlt", "lower-msgspec", "lower-orjson"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--workflow", required=True)
    parser.add_argument("--out", required=True, help="an empty scratch directory")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--init-only", action="store_true", help="ours: create the instance and partition, stop"
    )
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.contender == "ours":
        result = run_ours(args)
    elif args.contender == "dlt":
        result = run_dlt(args)
    else:
        result = run_lower(args, args.contender.split("-", 1)[1])
    result["vmhwm_bytes"] = vmhwm_bytes()
    print(json.dumps(result, default=str), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

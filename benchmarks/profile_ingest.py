"""Where the ingest's time goes: the product's own pieces, timed stage by stage.

    python benchmarks/profile_ingest.py --calls 10000 [--pyinstrument]

Serves `--calls` calls over loopback HTTP (separate process) and runs, in this process and
without Dagster, exactly what the two assets run: `StuutClient.fetch_calls` into
`RawCallsLanding` (raw_calls), then `iter_raw_batches` -> `flatten_raw` (decode + flatten) ->
`PartitionWriter.write` -> `seal` -> `validate_partition` -> `publish` (flattened_calls).
Prints seconds per stage, with the flatten split into msgspec decoding and building the Arrow
tables. With `--pyinstrument`, also profiles the whole Dagster materialisation in-process and
writes the text report next to the results (`benchmarks/results/profile-*.txt`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, Server, loadavg, vmhwm_bytes  # noqa: E402


class Timer:
    """Wall and CPU seconds (process-wide: page worker threads and DuckDB included) per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._cpu = time.process_time()

    def start(self) -> float:
        self._cpu = time.process_time()
        return time.perf_counter()

    def add(self, name: str, started: float) -> float:
        now = time.perf_counter()
        cpu = time.process_time()
        self.seconds[name] += now - started
        self.cpu[name] += cpu - self._cpu
        self._cpu = cpu
        return now


#: Candidate product changes, prototyped here (monkeypatch / subclass) to measure their gain:
VARIANTS = {
    "product": "the product as it is",
    "land-level1": "raw landing at zstd level 1 instead of 3 (RawCallsLanding(level=1))",
    "land-threads": "raw landing compressed by zstd worker threads (ZstdCompressor(threads=2))",
    "land-page-write": "raw landing: one write per page (records joined) instead of two per record",
    "keys-in-workers": "client: dedupe keys decoded in the page worker threads, not the main one",
    "batch-1000": "flatten batches of 1000 calls instead of 2000",
    "release-batch": "flattened_calls: drop each batch of lines before reading the next",
    "glibc-mmap-1mb": "the product with MALLOC_MMAP_THRESHOLD_=1048576 (env, no code change)",
    "combined": "land-level1 + land-page-write + keys-in-workers + release-batch",
    "fused": "one typed decode per call: fetch with decode=decode_call (keys from it), flatten"
    " those records as pages arrive while landing raw (no read-back, no key-only decode)",
}
#: Environment of a variant's process.
VARIANT_ENV = {"glibc-mmap-1mb": {"MALLOC_MMAP_THRESHOLD_": "1048576"}}


def _apply(variant: str) -> dict:
    """Patch the product for `variant`; returns options for `staged`."""
    import msgspec
    import zstandard

    from stuut_pipeline import layout, raw_landing
    from stuut_pipeline.stuut_api import client as client_mod

    parts = {
        "combined": ["land-level1", "land-page-write", "keys-in-workers", "release-batch"],
    }.get(variant, [variant])
    options: dict = {"level": 3, "batch": 2000, "client_cls": client_mod.StuutClient}
    if "land-level1" in parts:
        options["level"] = 1
    if "land-threads" in parts:

        def enter(self):  # RawCallsLanding.__enter__ with a multi-threaded compressor
            self._staging = raw_landing.new_staging_dir(self.data_dir, "raw")
            self._file = open(self._staging / layout.RAW_FILE, "wb")  # noqa: SIM115
            self._writer = zstandard.ZstdCompressor(level=self._level, threads=2).stream_writer(
                self._file
            )
            return self

        raw_landing.RawCallsLanding.__enter__ = enter
    if "land-page-write" in parts:

        def write(self, records):  # RawCallsLanding.write, one write call per page
            lines = []
            for rec in records:
                raw = bytes(rec.raw)
                if b"\n" in raw or b"\r" in raw:
                    raw = raw.replace(b"\r", b" ").replace(b"\n", b" ")
                lines.append(raw)
                if rec.supersedes:
                    self._superseded.add(rec.record.id)
                else:
                    self.records += 1
            if lines:
                lines.append(b"")
                blob = b"\n".join(lines)
                self._writer.write(blob)
                self.bytes_raw += len(blob)

        raw_landing.RawCallsLanding.write = write
    if "keys-in-workers" in parts:
        cache: dict[int, object] = {}

        class KeysInWorkers(client_mod.StuutClient):
            def _get_page(self, query, page):
                result = super()._get_page(query, page)
                for raw in result.envelope.data:  # in the worker thread
                    with contextlib.suppress(msgspec.DecodeError):  # the main thread reports it
                        cache[id(raw)] = client_mod.decode_key(raw)
                return result

        def decode(raw):
            key = cache.pop(id(raw), None)
            return key if key is not None else client_mod.decode_key(raw)

        options["client_cls"] = KeysInWorkers
        options["decode"] = decode
    if "batch-1000" in parts:
        options["batch"] = 1000
    options["release_batch"] = "release-batch" in parts
    return options


def staged(url: str, token: str, workflow: str, data_dir: Path, variant: str = "product") -> dict:
    """Run the ingest's stages by hand, timing each."""
    options = _apply(variant)
    from stuut_pipeline.flatten import PartitionWriter
    from stuut_pipeline.flatten.decode import decode_call
    from stuut_pipeline.flatten.flatten import flatten_calls
    from stuut_pipeline.layout import raw_calls_key
    from stuut_pipeline.raw_landing import RawCallsLanding, iter_raw_batches
    from stuut_pipeline.stuut_api import CallsQuery

    if variant == "fused":
        return fused(url, token, workflow, data_dir, options)
    t = Timer()
    total = time.perf_counter()
    total_cpu = time.process_time()
    # raw_calls
    s = t.start()
    with (
        options["client_cls"](url, token, concurrency=4) as client,
        RawCallsLanding(data_dir, workflow, level=options["level"]) as landing,
    ):
        kwargs = {"decode": options["decode"]} if "decode" in options else {}
        fetch = iter(client.fetch_calls(CallsQuery(limit=200, workflow=workflow), **kwargs))
        while True:
            try:
                page = next(fetch)  # waiting on the network + envelope/key decoding
            except StopIteration:
                break
            s = t.add("01 fetch: wait for pages, decode envelope + keys", s)
            landing.write(page.records)
            s = t.add("02 land raw: zstd NDJSON write", s)
        landing.publish()
        s = t.add("03 land raw: publish", s)
    # flattened_calls
    source = data_dir / raw_calls_key(workflow)
    with PartitionWriter(data_dir, workflow) as writer:
        batches = iter_raw_batches(source, options["batch"])
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            s = t.add("04 read raw: zstd decompress + split lines", s)
            records = [decode_call(raw, i) for i, raw in enumerate(batch)]
            s = t.add("05 decode: msgspec typed structs", s)
            flat = flatten_calls(records)
            s = t.add("06 flatten: build Arrow tables", s)
            writer.write(flat)
            s = t.add("07 Parquet: queued to the writer thread", s)
            del records, flat  # temporaries in the asset (`writer.write(flatten_raw(batch))`)
            if options["release_batch"]:
                del batch  # else alive while the next batch is read, as in the asset's loop
        writer.seal()
        s = t.add("08 seal: wait for the writer thread, close, fsync", s)
        published = _validate_and_publish(t, s, writer)
    return _result(t, total, total_cpu, published)


def _validate_and_publish(t: Timer, s: float, writer) -> dict:
    """The end of both variants: DuckDB checks on the staged files, then the atomic publish."""
    from stuut_pipeline.flatten import validate_partition

    report = validate_partition(writer.seal())
    assert report.passed, report.blocking_failures
    s = t.add("09 validate: DuckDB checks", s)
    published = writer.publish()
    t.add("10 publish", s)
    return published


def _result(t: Timer, total: float, total_cpu: float, published: dict) -> dict:
    t.seconds["total"] = time.perf_counter() - total
    t.cpu["total"] = time.process_time() - total_cpu
    return {
        "stages": dict(t.seconds),
        "cpu": dict(t.cpu),
        "published": {k: str(v) for k, v in published.items()},
    }


def fused(url: str, token: str, workflow: str, data_dir: Path, options: dict) -> dict:
    """Prototype: parse each call once. The fetch decodes records with `decode_call` (its
    `CallRecord` has the `id`/`modified_at` dedupe needs), the raw bytes are landed as now, and
    the decoded records are flattened in batches as pages arrive. (A product version must fall
    back to flattening from the landing when a record `supersedes` another; never here.)"""
    from stuut_pipeline.flatten import PartitionWriter
    from stuut_pipeline.flatten.decode import decode_call
    from stuut_pipeline.flatten.flatten import flatten_calls
    from stuut_pipeline.raw_landing import RawCallsLanding
    from stuut_pipeline.stuut_api import CallsQuery, StuutClient

    t = Timer()
    total = time.perf_counter()
    total_cpu = time.process_time()
    s = t.start()
    with (
        StuutClient(url, token, concurrency=4) as client,
        RawCallsLanding(data_dir, workflow) as landing,
        PartitionWriter(data_dir, workflow) as writer,
    ):
        fetch = iter(
            client.fetch_calls(CallsQuery(limit=200, workflow=workflow), decode=decode_call)
        )
        pending: list = []
        while True:
            try:
                page = next(fetch)
            except StopIteration:
                break
            s = t.add("01 fetch: wait for pages, decode envelope + typed records", s)
            assert not any(r.supersedes for r in page.records), "prototype: no supersedes"
            landing.write(page.records)
            s = t.add("02 land raw: zstd NDJSON write", s)
            pending.extend(r.record for r in page.records)
            if len(pending) >= options["batch"]:
                flat = flatten_calls(pending)
                pending = []
                s = t.add("06 flatten: build Arrow tables", s)
                writer.write(flat)
                del flat
                s = t.add("07 Parquet: queued to the writer thread", s)
        if pending:
            writer.write(flatten_calls(pending))
            pending = []
            s = t.add("06 flatten: build Arrow tables", s)
        landing.publish()
        s = t.add("03 land raw: publish", s)
        published = _validate_and_publish(t, s, writer)
    return _result(t, total, total_cpu, published)


def profile_dagster(url: str, token: str, workflow: str, tmp: Path, out: Path) -> float:
    """pyinstrument over `dg.materialize` of the two assets; writes the text report to `out`."""
    from pyinstrument import Profiler

    os.environ["DAGSTER_HOME"] = str(tmp / "dagster_home")
    (tmp / "dagster_home").mkdir()
    (tmp / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    import dagster as dg

    from stuut_pipeline.defs.ingest.assets import ingest_calls
    from stuut_pipeline.defs.ingest.resources import StuutApiResource
    from stuut_pipeline.defs.resources import StorageResource

    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("workflow", [workflow])
    profiler = Profiler(interval=0.002)
    started = time.perf_counter()
    profiler.start()
    result = dg.materialize(
        [ingest_calls],
        partition_key=workflow,
        instance=instance,
        resources={
            "stuut_api": StuutApiResource(base_url=url, token=token),
            "storage": StorageResource(url=str(tmp / "data-dg")),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    profiler.stop()
    seconds = time.perf_counter() - started
    assert result.success
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    bodies: dict[str, float] = {}

    def walk(frame) -> None:  # time inside the two asset functions; the rest is Dagster's
        if frame.function == "ingest_calls" and "assets.py" in (frame.file_path or ""):
            bodies[frame.function] = bodies.get(frame.function, 0.0) + frame.time
            return
        for child in frame.children:
            walk(child)

    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is not None:
        walk(root)
    return seconds, bodies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--variant", choices=list(VARIANTS), help="one staged run, JSON out")
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--workflow")
    parser.add_argument("--out", type=Path, help="data directory of a --variant run")
    args = parser.parse_args(argv)
    if args.variant:  # one run against a given server (benchmarks/experiments.py)
        started = time.perf_counter()
        result = staged(args.url, args.token, args.workflow, args.out, args.variant)
        result["seconds"] = time.perf_counter() - started
        result["vmhwm_bytes"] = vmhwm_bytes()
        print(json.dumps(result))
        return 0
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    with Server(args.calls) as server, tempfile.TemporaryDirectory(prefix="stuut-prof-") as tmp:
        cpu0 = server.cpu_seconds()
        print(f"profile of the ingest of {args.calls} calls; load average {loadavg()}")
        staged_result = staged(server.url, server.token, server.workflow, Path(tmp) / "data")
        seconds, cpu = staged_result["stages"], staged_result["cpu"]
        served = server.cpu_seconds() - cpu0
        total, total_cpu = seconds["total"], cpu["total"]
        print(f"  {'stage':<52} {'wall s':>7}  {'wall %':>6}  {'CPU s':>7}  {'CPU %':>6}")
        for name in sorted(seconds):
            if name != "total":
                print(
                    f"  {name:<52} {seconds[name]:7.2f}  {100 * seconds[name] / total:6.1f}"
                    f"  {cpu[name]:7.2f}  {100 * cpu[name] / total_cpu:6.1f}"
                )
        print(
            f"  {'total':<52} {total:7.2f}  {'':6}  {total_cpu:7.2f}"
            f"  ({args.calls / total:.0f} calls/s wall, {1000 * total_cpu / args.calls:.2f} ms"
            " CPU per call)"
        )
        print(f"  server CPU while serving: {served:.2f} s")
        record = {
            "calls": args.calls,
            "load": loadavg(),
            "stages": seconds,
            "cpu": cpu,
            "server_cpu": served,
        }
        if args.pyinstrument:
            out = results_dir / f"profile-{args.calls}.txt"
            dg_seconds, bodies = profile_dagster(
                server.url, server.token, server.workflow, Path(tmp), out
            )
            inside = sum(bodies.values())
            print(
                f"  through Dagster (pyinstrument on): {dg_seconds:.2f} s, of which asset bodies"
                f" {inside:.2f} s ({', '.join(f'{k} {v:.2f} s' for k, v in bodies.items())})"
                f" and Dagster's run machinery {dg_seconds - inside:.2f} s; profile in {out}"
            )
            record["dagster_profiled_seconds"] = dg_seconds
            record["dagster_asset_bodies"] = bodies
        (results_dir / f"profile-{args.calls}.json").write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

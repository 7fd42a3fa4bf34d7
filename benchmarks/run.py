"""Ingest and rollup benchmarks: ours vs dlt vs the lower bound, scaling, rollups, one command.

    .venv/bin/python benchmarks/run.py            # the full run (see BENCHMARKS.md for its time)
    .venv/bin/python benchmarks/run.py --quick    # a smoke check, under ~3 minutes

Needs the `bench` extra (`pip install -e ".[bench]"`: dlt, psutil, pyinstrument).

Every contender runs in its own process against a simulator server in another process
(`serve.py`: loopback HTTP, full-shape ~33 KB calls, pages of 200, pre-rendered templates). For
each run the harness records the wall time of the process (imports included), its CPU time, the
peak resident memory of its process tree (psutil polling every 50 ms, and `wait4`'s ru_maxrss),
its output rows and bytes, the server's CPU time and the load average. With `--repeat N` the
best (lowest wall) of N runs is kept. Results go to `benchmarks/results/<mode>.json` and a
markdown table to `benchmarks/results/<mode>.md`; the tables are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, PYTHON, Server, loadavg, machine, mb, run_measured  # noqa: E402

CONTENDERS = ("ours", "dlt", "lower-msgspec", "lower-orjson")
DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def _say(text: str) -> None:
    print(text, flush=True)


def run_contender(contender: str, server: Server, scratch: Path, keep: Path | None = None) -> dict:
    """One measured run; returns its row (figures + the child's own report)."""
    out = scratch / f"{contender}-{time.monotonic_ns()}"
    out.mkdir(parents=True)
    cmd = [
        PYTHON,
        str(HERE / "contenders.py"),
        contender,
        *server.client_args(),
        "--out",
        str(out),
    ]
    if contender == "ours":
        # The product runs on an existing instance: create it (sqlite schema, the partition)
        # outside the measured run, as `stuut-pipeline run` finds it after its first run.
        (out / "dagster_home").mkdir()
        (out / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)
        init = run_measured([*cmd, "--init-only"], log=out / "init.log")
        if init.returncode != 0:
            raise RuntimeError(f"ours --init-only failed:\n{init.stderr_tail}")
    load = loadavg()
    cpu0 = server.cpu_seconds()
    child = run_measured(cmd, log=out / "stderr.log")
    served = server.cpu_seconds() - cpu0
    if child.returncode != 0 or not child.result.get("ok"):
        raise RuntimeError(
            f"{contender} failed (exit {child.returncode}): {child.result}\n{child.stderr_tail}"
        )
    r = child.result
    row = {
        "contender": contender,
        "calls": r["calls"],
        "latency_ms": server.info["latency_ms"],
        "wall_s": round(child.wall, 2),
        "work_s": r["seconds"],
        "cpu_s": round(child.cpu, 2),
        "calls_per_s": round(r["calls"] / child.wall, 1),
        "work_calls_per_s": round(r["calls"] / r["seconds"], 1) if r["seconds"] else None,
        "peak_rss_mb": round(child.peak_rss_tree / 2**20),
        "vmhwm_mb": round(child.vmhwm / 2**20),
        "rows": r["rows"],
        "rows_total": r["rows_total"],
        "bytes": r["bytes"],
        "server_cpu_s": round(served, 2),
        "load": load,
        "detail": r.get("detail", {}),
    }
    if keep is not None and contender == "ours":
        shutil.rmtree(keep, ignore_errors=True)
        shutil.move(str(out / "data"), keep)
    shutil.rmtree(out, ignore_errors=True)
    return row


def best_of(rows: list[dict]) -> dict:
    best = min(rows, key=lambda r: r["wall_s"])
    best = dict(best)
    best["runs"] = len(rows)
    best["wall_s_all"] = [r["wall_s"] for r in rows]
    best["peak_rss_mb_all"] = [r["peak_rss_mb"] for r in rows]
    return best


def comparison(
    calls: int, latency: float, repeats: dict[str, int], scratch: Path, templates: int
) -> list[dict]:
    """All contenders over one server; runs interleaved so that load changes hit each alike."""
    _say(f"\n== {calls} calls, {latency:g} ms added latency per request ==")
    with Server(calls, latency, templates) as server:
        _say(
            f"server: {server.info['calls']} calls of {server.info['mean_call_bytes']} B"
            f" ({server.info['templates']} templates, built in {server.info['build_seconds']} s)"
        )
        runs: dict[str, list[dict]] = {c: [] for c in repeats}
        for rep in range(max(repeats.values())):
            for contender, n in repeats.items():
                if rep >= n:
                    continue
                row = run_contender(contender, server, scratch)
                runs[contender].append(row)
                _say(
                    f"  {contender:<14} wall {row['wall_s']:7.2f} s  work {row['work_s']:7.2f} s"
                    f"  cpu {row['cpu_s']:7.2f} s  peak {row['peak_rss_mb']:5d} MB"
                    f"  server cpu {row['server_cpu_s']:5.2f} s  load {row['load']}"
                )
    return [best_of(rows) for rows in runs.values() if rows]


def scaling(sizes: list[int], repeat: int, scratch: Path, templates: int, keep: Path) -> list:
    """Ours (and the msgspec lower bound) at growing sizes; keeps the largest ours output."""
    rows = []
    for calls in sizes:
        _say(f"\n== scaling: {calls} calls, 0 ms ==")
        with Server(calls, 0.0, templates) as server:
            for contender in ("ours", "lower-msgspec"):
                runs = []
                for _ in range(repeat):
                    last = calls == sizes[-1] and contender == "ours"
                    row = run_contender(contender, server, scratch, keep if last else None)
                    runs.append(row)
                    _say(
                        f"  {contender:<14} wall {row['wall_s']:7.2f} s"
                        f"  work {row['work_s']:7.2f} s  cpu {row['cpu_s']:7.2f} s"
                        f"  peak {row['peak_rss_mb']:5d} MB  load {row['load']}"
                    )
                rows.append(best_of(runs))
            workflow = server.workflow
    rows.append({"workflow_of_kept": workflow})
    return rows


def rollups(data_dir: Path, workflow: str, scratch: Path) -> dict:
    _say(f"\n== rollups over {data_dir} ==")
    child = run_measured(
        [
            PYTHON,
            str(HERE / "rollups.py"),
            "--data-dir",
            str(data_dir),
            "--workflow",
            workflow,
        ],
        log=scratch / "rollups.log",
    )
    if child.returncode != 0:
        raise RuntimeError(f"rollups failed:\n{child.stderr_tail}")
    result = child.result
    result["peak_rss_mb"] = round(child.peak_rss_tree / 2**20)
    _say(f"  {json.dumps(result)}")
    return result


def profile(calls: int) -> None:
    _say(f"\n== profile of the ingest, {calls} calls ==")
    import subprocess

    subprocess.run(
        [PYTHON, str(HERE / "profile_ingest.py"), "--calls", str(calls), "--pyinstrument"],
        check=True,
        stderr=subprocess.DEVNULL,
    )


# --- tables -------------------------------------------------------------------------------------


def _fmt_rows(row: dict) -> str:
    return f"{row['rows_total']:,}" if row["rows_total"] else "-"


def _fmt_bytes(row: dict) -> str:
    return f"{mb(row['bytes'])} MB" if row["bytes"] else "-"


def tables_markdown(results: dict) -> str:
    lines = []
    for block in results["comparison"]:
        rows = block["rows"]
        lines.append(
            f"\n### {block['calls']:,} calls, {block['latency_ms']:g} ms latency per request\n"
        )
        lines.append(
            "| contender | wall s | work s | CPU s | calls/s (wall) | calls/s (work) "
            "| peak RSS MB | output rows | output bytes | server CPU s | runs | load |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in rows:
            lines.append(
                f"| {r['contender']} | {r['wall_s']:.2f} | {r['work_s']:.2f} | {r['cpu_s']:.2f}"
                f" | {r['calls_per_s']:,.0f} | {r['work_calls_per_s']:,.0f}"
                f" | {r['peak_rss_mb']} | {_fmt_rows(r)} | {_fmt_bytes(r)}"
                f" | {r['server_cpu_s']:.2f} | {r['runs']} | {r['load']} |"
            )
        by = {r["contender"]: r for r in rows}
        ours = by.get("ours")
        if ours:
            lines.append("")
            d = by.get("dlt")
            if d:
                lines.append(
                    f"- ours vs dlt: x{d['wall_s'] / ours['wall_s']:.2f} dlt's throughput (wall),"
                    f" x{d['work_s'] / ours['work_s']:.2f} (work),"
                    f" x{d['cpu_s'] / ours['cpu_s']:.2f} less CPU;"
                    f" peak memory x{ours['peak_rss_mb'] / d['peak_rss_mb']:.2f} of dlt's"
                )
            lb = by.get("lower-msgspec")
            if lb:
                lines.append(
                    f"- ours vs the lower bound: x{ours['wall_s'] / lb['wall_s']:.2f} its wall"
                    " time,"
                    f" x{ours['work_s'] / lb['work_s']:.2f} its work time,"
                    f" x{ours['cpu_s'] / lb['cpu_s']:.2f} its CPU;"
                    f" peak memory x{ours['peak_rss_mb'] / lb['peak_rss_mb']:.2f} of its"
                )
    if results.get("scaling"):
        lines.append("\n### Scaling (0 ms latency)\n")
        lines.append(
            "| contender | calls | wall s | work s | CPU s | calls/s (wall) | calls/s (work)"
            " | peak RSS MB | output rows | output bytes | load |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in results["scaling"]:
            if "contender" not in r:
                continue
            lines.append(
                f"| {r['contender']} | {r['calls']:,} | {r['wall_s']:.2f} | {r['work_s']:.2f}"
                f" | {r['cpu_s']:.2f} | {r['calls_per_s']:,.0f} | {r['work_calls_per_s']:,.0f}"
                f" | {r['peak_rss_mb']} | {_fmt_rows(r)} | {_fmt_bytes(r)} | {r['load']} |"
            )
        ours = [r for r in results["scaling"] if r.get("contender") == "ours"]
        if len(ours) > 1:
            lo, hi = ours[0]["peak_rss_mb"], ours[-1]["peak_rss_mb"]
            lines.append(
                f"\n- ours, peak memory {ours[0]['calls']:,} -> {ours[-1]['calls']:,} calls:"
                f" {lo} -> {hi} MB ({100 * (hi - lo) / lo:+.0f} %)"
            )
    rr = results.get("rollups")
    if rr:
        lines.append(f"\n### Rollups over the {rr['calls']:,}-call partition (best of 3)\n")
        lines.append("| step | rollups (product) s | plain GROUP BY s |")
        lines.append("|---|---:|---:|")
        for key in ("views_and_tables", "sentiment_rollup", "classification_rollup"):
            lines.append(
                f"| {key} | {rr['rollups'].get(key, 0):.3f} | {rr['group_by'].get(key, 0):.3f} |"
            )
        lines.append(
            f"| workflow_kpis | {rr['rollups']['workflow_kpis']:.3f}"
            f" | {rr['group_by']['workflow_kpis']:.3f} |"
        )
        lines.append(
            f"| **total** | **{rr['rollups']['total']:.3f}** | **{rr['group_by']['total']:.3f}** |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--calls", type=int, help="calls of the side-by-side comparison")
    parser.add_argument("--latencies", default="0,200", help="ms added per request, e.g. 0,200")
    parser.add_argument("--sizes", help="scaling sizes, e.g. 10000,50000,200000")
    parser.add_argument("--repeat", type=int, help="runs of ours and the lower bounds (best kept)")
    parser.add_argument("--dlt-repeat", type=int, help="runs of dlt (slow)")
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument(
        "--skip", default="", help="comma list of: comparison,scaling,rollups,profile"
    )
    parser.add_argument("--scratch", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--name", help="results file name (default: quick or full)")
    args = parser.parse_args(argv)
    mode = args.name or ("quick" if args.quick else "full")
    calls = args.calls or (1000 if args.quick else 10_000)
    sizes = [
        int(s)
        for s in (args.sizes or ("1000,2000,4000" if args.quick else "10000,50000,200000")).split(
            ","
        )
    ]
    repeat = args.repeat or (1 if args.quick else 3)
    dlt_repeat = args.dlt_repeat or 1
    skip = set(filter(None, args.skip.split(",")))
    contenders = [c for c in args.contenders.split(",") if c]
    try:
        import dlt  # noqa: F401
    except ImportError:
        if "dlt" in contenders:
            _say("dlt is not installed (pip install -e '.[bench]'): skipping the dlt contender")
            contenders.remove("dlt")
    repeats = {c: dlt_repeat if c == "dlt" else repeat for c in contenders}
    started = time.perf_counter()
    results: dict = {
        "mode": mode,
        "machine": machine(),
        "load_at_start": loadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "comparison": [],
    }
    _say(f"benchmarks ({mode}); machine {json.dumps(results['machine'])}; load {loadavg()}")
    scratch_ctx = tempfile.TemporaryDirectory(prefix="stuut-bench-", dir=args.scratch)
    scratch = Path(scratch_ctx.name)
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    try:
        if "comparison" not in skip:
            for latency in [float(x) for x in args.latencies.split(",") if x]:
                rows = comparison(calls, latency, repeats, scratch, args.templates)
                results["comparison"].append({"calls": calls, "latency_ms": latency, "rows": rows})
        kept = scratch / "kept-data"
        if "scaling" not in skip:
            results["scaling"] = scaling(
                sizes, 1 if args.quick else 2, scratch, args.templates, kept
            )
            if "rollups" not in skip:
                wf = results["scaling"][-1]["workflow_of_kept"]
                results["rollups"] = rollups(kept, wf, scratch)
        if "profile" not in skip:
            profile(min(calls, 10_000))
            prof = results_dir / f"profile-{min(calls, 10_000)}.json"
            if prof.is_file():
                results["profile"] = json.loads(prof.read_text())
    finally:
        results["seconds"] = round(time.perf_counter() - started, 1)
        (results_dir / f"{mode}.json").write_text(json.dumps(results, indent=2, default=str))
        table = tables_markdown(results)
        (results_dir / f"{mode}.md").write_text(table)
        scratch_ctx.cleanup()
    _say("\n" + table)
    _say(f"total time {results['seconds']:.0f} s; results in {results_dir}/{mode}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

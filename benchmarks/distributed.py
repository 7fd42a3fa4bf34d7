"""Distributed execution: a backfill in the production topology vs `stuut-pipeline run`.

    .venv/bin/python benchmarks/distributed.py [--workflows 20] [--calls 10000] [--workers 2]
        [--worker-concurrency 1] [--max-runs 4] [--task-unit run|step]
        [--skip topology-many,topology-one,cli-many,cli-one]

Needs the `deploy` extra, PostgreSQL's server binaries and redis-server (`make deploy-deps
postgres redis`). Four measures on the embedded simulator, same seed:

1. topology-many: the production topology (webserver, daemon, code server, `--workers` Celery
   workers; Postgres instance, SeaweedFS data over S3, Redis broker; the tests' helpers in
   stuut_pipeline_tests/servers/; `--task-unit`: a Celery task per run, the CeleryRunLauncher
   of deploy/celery-run-launcher.yaml, or per step, the Celery executor) runs a GraphQL
   backfill of `--workflows` workflows sharing `--calls` calls; wall seconds from the launch
   to the last run's end (start-up not counted).
2. topology-one: the same topology (restarted), one workflow holding all `--calls` calls.
3. cli-many: `stuut-pipeline run` (sqlite instance, local data dir, runs one after the other,
   in-process executor) over the same account as 1.
4. cli-one: `stuut-pipeline run` over the account of 2.

Prints one line per measure and the ratio the target is about ("a backfill of many small
workflows within 2x of one workflow holding the same calls"). Not a test: nothing is checked.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stuut_pipeline.settings import SimulatorSettings, embedded_simulator  # noqa: E402
from stuut_pipeline_tests.servers.postgres import postgres_server  # noqa: E402
from stuut_pipeline_tests.servers.redis import redis_server  # noqa: E402
from stuut_pipeline_tests.servers.seaweedfs import running_seaweedfs  # noqa: E402
from stuut_pipeline_tests.servers.topology import distributed_topology  # noqa: E402

CLI = str(Path(sys.executable).with_name("stuut-pipeline"))
MEASURES = ("topology-many", "topology-one", "cli-many", "cli-one")


def loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _parse_time(value: float | None) -> float:
    return float(value) if value is not None else float("nan")


def topology_backfill(
    sim: SimulatorSettings,
    work: Path,
    workers: int,
    max_runs: int,
    task_unit: str,
    concurrency: int = 1,
) -> dict:
    """A backfill of every workflow of `sim` in a fresh topology; its wall and run seconds."""
    workflows = embedded_simulator(sim).store.workflow_ids()
    calls = sum(len(embedded_simulator(sim).store.records(wf)) for wf in workflows)
    with (
        postgres_server() as pg,
        running_seaweedfs(work / "seaweedfs") as s3,
        redis_server() as redis,
    ):
        env = {
            **os.environ,
            "DAGSTER_PG_URL": pg.create_database("dagster"),
            "STUUT_DATA_URL": f"s3://{s3.bucket}/bench-{uuid.uuid4().hex[:8]}",
            **s3.aws_env(),
            "STUUT_CELERY_BROKER": redis.url(),
            "STUUT_SIM_CALLS": str(sim.calls),
            "STUUT_SIM_WORKFLOWS": str(sim.workflows),
        }
        started = time.monotonic()
        with distributed_topology(
            work / "topology",
            env,
            workers=workers,
            worker_concurrency=concurrency,
            max_concurrent_runs=max_runs,
            task_unit=task_unit,
        ) as topology:
            startup = time.monotonic() - started
            topology.add_partitions(workflows)
            launched = time.monotonic()
            backfill = topology.launch_backfill(workflows)
            runs = topology.wait_for_backfill(backfill, runs=len(workflows), timeout=3600)
            wall = time.monotonic() - launched
            pids = {
                e["metadata"].get("worker_pid")
                for r in runs
                for e in topology.run_materializations(r["runId"])
            }
            steps = [s for r in runs for s in topology.step_stats(r["runId"])]
    starts = [_parse_time(r["startTime"]) for r in runs]
    ends = [_parse_time(r["endTime"]) for r in runs]
    durations = [end - start for start, end in zip(starts, ends, strict=True)]
    step_s = [_parse_time(s["endTime"]) - _parse_time(s["startTime"]) for s in steps]
    return {
        "workflows": len(workflows),
        "calls": calls,
        "wall_s": wall,
        "runs_span_s": max(ends) - min(starts),
        "startup_s": startup,
        "ok": sum(r["status"] == "SUCCESS" for r in runs),
        "run_s_mean": sum(durations) / len(durations),
        "run_s_max": max(durations),
        "step_s_mean": sum(step_s) / len(step_s),
        "step_s_sum": sum(step_s),
        "worker_pids": len(pids - {None}),
    }


def cli_run(sim: SimulatorSettings, work: Path) -> dict:
    """`stuut-pipeline run` over every workflow of `sim` on a fresh sqlite instance."""
    home = work / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STUUT_DATA_DIR": str(work / "data"),
        "STUUT_AUTOMATION_DEFAULT": "stopped",
        "STUUT_SIM_CALLS": str(sim.calls),
        "STUUT_SIM_WORKFLOWS": str(sim.workflows),
    }
    for name in ("STUUT_DATA_URL", "STUUT_EXECUTOR", "DAGSTER_PG_URL", "STUUT_API_BASE_URL"):
        env.pop(name, None)
    workflows = embedded_simulator(sim).store.workflow_ids()
    calls = sum(len(embedded_simulator(sim).store.records(wf)) for wf in workflows)
    started = time.monotonic()
    done = subprocess.run([CLI, "run"], env=env, cwd=work, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    ok = sum(": ok;" in line for line in done.stdout.splitlines())
    return {"workflows": len(workflows), "calls": calls, "wall_s": wall, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--max-runs", type=int, default=4)
    parser.add_argument("--task-unit", choices=("run", "step"), default="run")
    parser.add_argument("--skip", default="", help=f"comma-separated of {', '.join(MEASURES)}")
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    many = SimulatorSettings(calls=args.calls, workflows=args.workflows)
    one = SimulatorSettings(calls=args.calls, workflows=1)
    plan = {
        "topology-many": lambda w: topology_backfill(
            many, w, args.workers, args.max_runs, args.task_unit
        ),
        "topology-one": lambda w: topology_backfill(
            one, w, args.workers, args.max_runs, args.task_unit
        ),
        "cli-many": lambda w: cli_run(many, w),
        "cli-one": lambda w: cli_run(one, w),
    }
    print(
        f"{args.workflows} workflows / 1 workflow, {args.calls} calls; {args.workers} Celery"
        f" workers (concurrency {args.worker_concurrency}), a Celery task per {args.task_unit},"
        f" max {args.max_runs} concurrent runs; {os.cpu_count()} CPUs"
    )
    results = {}
    for name, measure in plan.items():
        if name in skip:
            continue
        with tempfile.TemporaryDirectory(prefix=f"stuut-bench-{name}-") as tmp:
            before = loadavg()
            results[name] = figures = measure(Path(tmp))
        extras = ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()
        )
        print(f"{name:14} {extras}; load {before} -> {loadavg()}", flush=True)
    for kind in ("topology", "cli"):
        if f"{kind}-many" in results and f"{kind}-one" in results:
            ratio = results[f"{kind}-many"]["wall_s"] / results[f"{kind}-one"]["wall_s"]
            print(f"{kind}: many small workflows / one workflow of the same calls = {ratio:.2f}x")
    if "topology-many" in results and "cli-many" in results:
        ratio = results["topology-many"]["wall_s"] / results["cli-many"]["wall_s"]
        print(f"many workflows: topology backfill / stuut-pipeline run = {ratio:.2f}x")


if __name__ == "__main__":
    main()

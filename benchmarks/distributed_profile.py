"""Where a distributed run's time goes: the event timeline of a small backfill in the topology.

    .venv/bin/python benchmarks/distributed_profile.py [--workflows 4] [--calls 2000]
        [--task-unit step|run]

Starts the topology of `benchmarks/distributed.py` (Postgres, SeaweedFS, Redis, webserver,
daemon, code server, 2 Celery workers), backfills every workflow, then reads each run's event
log from Postgres and prints, per step, the seconds between the events that bound each phase:

- queue: the run worker submitted the task -> the Celery worker reported "Executing steps"
  (broker round trip, waiting for a free worker, instance from ref, job reconstruction, plan);
- start: "Executing steps" -> STEP_START (execution context, resources);
- body: STEP_START -> STEP_SUCCESS (our code and its event writes);
- handoff: STEP_SUCCESS -> the next step's submission (result back through the backend, the
  executor's 1 s polling tick).

And per run: launch (run created -> RUN_START: the queue, the daemon's dequeue, the run worker
process) and the run's wall. Not a test: nothing is checked.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def _timeline(instance, run_id: str) -> dict:
    """Per step, the timestamps of the events that bound its phases; per run, its bounds."""
    from dagster import DagsterEventType

    steps: dict[str, dict[str, float]] = {}
    run: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event, ts = entry.dagster_event, entry.timestamp
        if event is None:
            continue
        text = event.message or entry.user_message or ""
        if event.event_type == DagsterEventType.RUN_START:
            run["start"] = ts
        elif event.event_type in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
            run["end"] = ts
        key = entry.step_key
        if key is None:
            continue
        marks = steps.setdefault(key, {})
        if text.startswith("Submitting celery task"):
            marks.setdefault("submit", ts)
        elif "Executing steps" in text:
            marks.setdefault("executing", ts)
        elif event.event_type == DagsterEventType.STEP_START:
            marks.setdefault("start", ts)
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            marks["success"] = ts
    return {"steps": steps, "run": run}


def _phases(marks: dict[str, float], next_submit: float | None) -> dict[str, float]:
    out = {
        "queue": marks.get("executing", float("nan")) - marks.get("submit", float("nan")),
        "start": marks.get("start", float("nan")) - marks.get("executing", float("nan")),
        "body": marks.get("success", float("nan")) - marks.get("start", float("nan")),
    }
    if next_submit is not None:
        out["handoff"] = next_submit - marks.get("success", float("nan"))
    return out


def _report(timelines: list[dict], records: list) -> None:
    by_phase: dict[str, list[float]] = {}
    by_step: dict[str, list[float]] = {}
    for tl in timelines:
        steps = tl["steps"]
        submits = sorted(m["submit"] for m in steps.values() if "submit" in m)
        for key, marks in steps.items():
            later = [s for s in submits if s > marks.get("success", float("inf"))]
            phases = _phases(marks, later[0] if later else None)
            for name, value in phases.items():
                by_phase.setdefault(name, []).append(value)
            by_step.setdefault(key, []).append(phases["body"])
    for name, values in by_phase.items():
        print(f"{name:8} mean {statistics.fmean(values):5.2f} s  max {max(values):5.2f} s")
    for key, values in sorted(by_step.items()):
        print(f"body of {key:22} mean {statistics.fmean(values):5.2f} s")
    launch = [
        tl["run"]["start"] - r.create_timestamp.timestamp()
        for tl, r in zip(timelines, records, strict=True)
    ]
    wall = [tl["run"]["end"] - tl["run"]["start"] for tl in timelines]
    print(f"launch (created -> RUN_START) mean {statistics.fmean(launch):.2f} s")
    print(f"run wall (RUN_START -> end) mean {statistics.fmean(wall):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=4)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--task-unit", choices=("run", "step"), default="step")
    args = parser.parse_args()
    sim = SimulatorSettings(calls=args.calls, workflows=args.workflows)
    workflows = embedded_simulator(sim).store.workflow_ids()
    with (
        tempfile.TemporaryDirectory(prefix="stuut-profile-") as tmp,
        postgres_server() as pg,
        running_seaweedfs(Path(tmp) / "seaweedfs") as s3,
        redis_server() as redis,
    ):
        work = Path(tmp)
        env = {
            **os.environ,
            "DAGSTER_PG_URL": pg.create_database("dagster"),
            "STUUT_DATA_URL": f"s3://{s3.bucket}/profile-{uuid.uuid4().hex[:8]}",
            **s3.aws_env(),
            "STUUT_CELERY_BROKER": redis.url(),
            "STUUT_SIM_CALLS": str(sim.calls),
            "STUUT_SIM_WORKFLOWS": str(sim.workflows),
        }
        with distributed_topology(
            work / "topology", env, workers=2, task_unit=args.task_unit
        ) as topology:
            topology.add_partitions(workflows)
            launched = time.monotonic()
            backfill = topology.launch_backfill(workflows)
            runs = topology.wait_for_backfill(backfill, runs=len(workflows), timeout=1800)
            print(f"{len(workflows)} workflows: wall {time.monotonic() - launched:.1f} s")
            os.environ.update(topology.env)
            from dagster import DagsterInstance

            with DagsterInstance.get() as instance:
                ids = [r["runId"] for r in runs]
                records = [instance.get_run_record_by_id(i) for i in ids]
                timelines = [_timeline(instance, i) for i in ids]
                if os.environ.get("PROFILE_DUMP"):
                    t0 = records[0].create_timestamp.timestamp()
                    for e in instance.all_logs(ids[0]):
                        ev = e.dagster_event
                        kind = ev.event_type_value if ev else "-"
                        msg = (ev.message if ev else None) or e.user_message or ""
                        print(f"{e.timestamp - t0:7.2f} {kind:28} {e.step_key} {msg[:70]!r}")
            _report(timelines, records)
        print(f"load {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

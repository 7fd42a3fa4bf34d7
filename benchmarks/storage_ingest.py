"""Object storage figures: the ingest of 10k full-shape calls to SeaweedFS vs local disk, and the
rollups of 3 workflows built in parallel vs one after another.

    .venv/bin/python benchmarks/storage_ingest.py [--calls 10000] [--repeat 3]

The ingest is the real `ingest_calls` asset (fetch from the embedded simulator in-process, land
raw, flatten, validate, publish) through `dg.materialize`; only the storage resource differs. The
rollups are the library's per-partition builds (`partition_db` + `build_rollup`), each workflow in
its own process as Dagster runs them, on local data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from stuut_pipeline import settings  # noqa: E402
from stuut_pipeline import warehouse as wh  # noqa: E402
from stuut_pipeline.defs.ingest.assets import ingest_calls  # noqa: E402
from stuut_pipeline.defs.ingest.resources import StuutApiResource  # noqa: E402
from stuut_pipeline.defs.resources import StorageResource  # noqa: E402
from stuut_pipeline_tests.servers.seaweedfs import running_seaweedfs  # noqa: E402

ROLLUPS = list(wh.ROLLUPS)


def _ingest(storage: StorageResource, workflow: str, instance: dg.DagsterInstance) -> float:
    started = time.perf_counter()
    result = dg.materialize(
        [ingest_calls],
        partition_key=workflow,
        instance=instance,
        resources={"stuut_api": StuutApiResource(), "storage": storage},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success
    return time.perf_counter() - started


def ingest_figures(calls: int, repeat: int, tmp: Path) -> dict[str, list[float]]:
    """Wall seconds of each ingest, alternating local and S3."""
    os.environ.update({"STUUT_SIM_CALLS": str(calls), "STUUT_SIM_WORKFLOWS": "1"})
    sim = settings.embedded_simulator(settings.SimulatorSettings.from_env())
    (workflow,) = sim.store.workflow_ids()
    times: dict[str, list[float]] = {"local": [], "seaweedfs": []}
    with running_seaweedfs(tmp / "weed") as server, dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", [workflow])
        s3 = StorageResource(
            url=f"s3://{server.bucket}/bench-{uuid.uuid4().hex[:6]}",
            endpoint_url=server.endpoint_url,
            access_key_id=server.access_key,
            secret_access_key=server.secret_key,
            region=server.region,
        )
        local = StorageResource(url=str(tmp / "local"))
        _ingest(local, workflow, instance)  # warm: the simulator's pages, imports
        for _ in range(repeat):
            times["local"].append(_ingest(local, workflow, instance))
            times["seaweedfs"].append(_ingest(s3, workflow, instance))
    return times


def build_workflow(data_dir: str, workflow: str) -> float:
    """Every rollup of one workflow in its own in-memory DuckDB; seconds."""
    started = time.perf_counter()
    with wh.partition_db(data_dir, workflow) as (con, _):
        wh.ensure_tables(con)
        for name in ROLLUPS:
            wh.build_rollup(con, name, workflow, data_dir)
    return time.perf_counter() - started


def rollup_figures(calls: int, repeat: int, tmp: Path) -> dict[str, list[float]]:
    """Wall seconds of the rollups of 3 workflows: serial in one process vs 3 processes."""
    os.environ.update({"STUUT_SIM_CALLS": str(calls), "STUUT_SIM_WORKFLOWS": "3"})
    sim = settings.embedded_simulator(settings.SimulatorSettings.from_env())
    workflows = sim.store.workflow_ids()
    data = tmp / "rollups"
    storage = StorageResource(url=str(data))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", workflows)
        for wf in workflows:
            _ingest(storage, wf, instance)
    times: dict[str, list[float]] = {"serial": [], "parallel": []}
    with ProcessPoolExecutor(len(workflows)) as pool:
        list(pool.map(build_workflow, [str(data)] * 3, workflows))  # warm the workers
        for _ in range(repeat):
            started = time.perf_counter()
            for wf in workflows:
                build_workflow(str(data), wf)
            times["serial"].append(time.perf_counter() - started)
            started = time.perf_counter()
            list(pool.map(build_workflow, [str(data)] * 3, workflows))
            times["parallel"].append(time.perf_counter() - started)
    return times


def _report(title: str, figures: dict[str, list[float]], ratio: str) -> None:
    """Print each measure's median and runs, then the ratio of the first to the second."""
    print(f"{title}, wall seconds:")
    for name, values in figures.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:10s} median {statistics.median(values):6.2f} s   ({shown})")
    first, second = (statistics.median(v) for v in figures.values())
    print(f"  {ratio} = {max(first, second) / min(first, second):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rollup-calls", type=int, default=6_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stuut-bench-storage-") as tmp:
        _report(
            f"ingest of {args.calls} calls (one workflow)",
            ingest_figures(args.calls, args.repeat, Path(tmp)),
            "seaweedfs / local (target <= 1.3x)",
        )
        _report(
            f"rollups of 3 workflows ({args.rollup_calls} calls)",
            rollup_figures(args.rollup_calls, args.repeat, Path(tmp)),
            f"serial / parallel on {os.cpu_count()} cores",
        )


if __name__ == "__main__":
    main()

"""The production topology end to end: a backfill whose runs or steps run on Celery workers.

Webserver, daemon, code server and two Celery workers are separate processes with separate
working directories; they share nothing but Postgres (the instance), SeaweedFS (the data, over
S3) and Redis (the broker). A backfill of four workflows is launched through GraphQL; every run
must succeed, the object store must hold exactly the simulator's calls, and the steps' recorded
`worker_pid` must be Celery worker processes (at least two of them), never the webserver's,
the daemon's or the code server's. Both task units: a run per task (the CeleryRunLauncher: all
steps of a run in one worker process) and a step per task (the Celery executor).
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pyarrow.parquet as pq
import pytest

from stuut_pipeline import layout
from stuut_pipeline.flatten import TABLES
from stuut_pipeline.flatten.parquet_io import RUN_ID_KEY
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator
from stuut_pipeline.storage import DataLocation
from stuut_pipeline.warehouse import ROLLUPS, open_catalog

from ..servers.fixtures import s3_options
from ..servers.redis import redis_server
from ..servers.topology import FINISHED, distributed_topology, pool_processes

SIM = SimulatorSettings(calls=400, workflows=4)
#: Steps of one run: the ingest multi-asset, the three rollups, the KPI report.
STEPS = {"ingest_calls", *ROLLUPS, "kpi_report"}
#: Assets of one run.
ASSETS = {"raw_calls", *TABLES, *ROLLUPS, "kpi_report"}


def _rows(location: DataLocation, key: str) -> int:
    with location.open_input_file(key) as src:
        return pq.ParquetFile(src).metadata.num_rows


@pytest.mark.parametrize("task_unit", ["run", "step"])
def test_a_backfill_runs_its_steps_on_celery_workers(
    tmp_path, postgres_url, postgres_server, seaweedfs, task_unit
) -> None:
    simulator = embedded_simulator(SIM)
    workflows = simulator.store.workflow_ids()
    assert len(workflows) == 4
    expected_calls = {wf: len({r["id"] for r in simulator.store.records(wf)}) for wf in workflows}
    assert all(expected_calls.values()), expected_calls  # (some calls belong to no workflow)

    url = f"s3://{seaweedfs.bucket}/dist-{uuid.uuid4().hex[:10]}"
    location = DataLocation.from_url(url, s3_options(seaweedfs))
    started = time.monotonic()
    with redis_server() as redis:
        env = {
            **os.environ,
            "DAGSTER_PG_URL": postgres_url,
            "STUUT_DATA_URL": url,
            **seaweedfs.aws_env(),
            "STUUT_CELERY_BROKER": redis.url(),
            "STUUT_SIM_CALLS": str(SIM.calls),
            "STUUT_SIM_WORKFLOWS": str(SIM.workflows),
        }
        with distributed_topology(
            tmp_path / "topology", env, workers=2, task_unit=task_unit
        ) as topology:
            services = topology.services
            assert len({s.cwd for s in services.values()}) == len(services)
            topology.add_partitions(workflows)
            backfill = topology.launch_backfill(workflows)
            runs = topology.wait_for_backfill(backfill, runs=len(workflows), timeout=300)
            failed = [r for r in runs if r["status"] != "SUCCESS"]
            assert not failed, f"{failed}\n{topology.logs()}"
            assert sorted(r["partition"] for r in runs) == sorted(workflows)

            events = [e for r in runs for e in topology.run_materializations(r["runId"])]
            # processes of the control plane (the code server's group holds the run workers)
            control = {
                pid
                for name in ("webserver", "daemon", "code-server")
                for pid in {services[name].pid} | services[name].group_pids()
            }
            celery = {pid for w in topology.workers for pid in w.group_pids()}
            hosts = {w.name for w in topology.workers}
    elapsed = time.monotonic() - started

    # every asset of every workflow materialised once, by its step, with the worker's pid
    by_partition = {wf: [e for e in events if e["partition"] == wf] for wf in workflows}
    for wf, found in by_partition.items():
        assert {e["step"] for e in found} == STEPS, (wf, found)
        assert sorted(e["asset"] for e in found) == sorted(ASSETS), (wf, found)
        assert all(isinstance(e["metadata"].get("worker_pid"), int) for e in found), found
    pids = {e["metadata"]["worker_pid"] for e in events}
    assert len(pids) >= 2, pids
    if task_unit == "run":  # a run is one task: every step of it in one worker process
        for wf, found in by_partition.items():
            assert len({e["metadata"]["worker_pid"] for e in found}) == 1, (wf, found)
    assert not pids & control, (pids, control)
    assert pids <= celery, (pids, celery, hosts)
    assert {e["metadata"]["worker_host"] for e in events} == {os.uname().nodename}

    # the object store holds exactly the simulator's calls, and every mart and report
    for wf in workflows:
        assert _rows(location, layout.table_key("calls", wf)) == expected_calls[wf]
        for rollup in ROLLUPS:
            assert location.exists(layout.mart_key(rollup, wf)), (rollup, wf)
        assert location.exists(layout.report_key(wf))
    # the analysts' catalog reads every workflow of every table and mart
    with open_catalog(location) as con:
        for view in (*TABLES, *ROLLUPS):
            found = con.execute(f"SELECT DISTINCT workflow_id FROM {view}").fetchall()
            assert sorted(w for (w,) in found) == sorted(workflows), view
    print(
        f"distributed backfill ({task_unit} per task) of {len(workflows)} workflows:"
        f" {elapsed:.1f} s in all"
    )


def test_only_the_distributed_deployment_selects_celery(monkeypatch) -> None:
    import pytest

    from stuut_pipeline import settings
    from stuut_pipeline.definitions import defs

    monkeypatch.delenv("STUUT_EXECUTOR", raising=False)
    assert settings.executor() == "default"
    assert defs().executor is None  # Dagster's default: `stuut-pipeline run`, `dagster dev`

    monkeypatch.setenv("STUUT_EXECUTOR", "celery")
    with pytest.raises(ValueError, match="STUUT_CELERY_BROKER"):
        settings.executor()
    monkeypatch.setenv("STUUT_CELERY_BROKER", "redis://127.0.0.1:1/0")
    repo = defs().get_repository_def()
    # the asset job of backfills too, not only stuut_pipeline_job
    assert {job.executor_def.name for job in repo.get_all_jobs()} == {"celery"}

    monkeypatch.setenv("STUUT_EXECUTOR", "in_process")  # runs launched as Celery tasks
    repo = defs().get_repository_def()
    assert {job.executor_def.name for job in repo.get_all_jobs()} == {"in_process"}

    monkeypatch.setenv("STUUT_EXECUTOR", "dask")
    with pytest.raises(ValueError, match="default, celery"):
        settings.executor()


#: Runs slow enough to be stopped mid-fetch: 855 to 1,882 calls a workflow, 5 to 10 pages of
#: 200 fetched 4 at a time, 2 s per page: at least 4 s of fetching.
SLOW_SIM = SimulatorSettings(calls=4000, workflows=3, latency_ms=2000)


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory, postgres_server, seaweedfs):
    """The topology with one Celery worker (a run per task) over SLOW_SIM; its data location."""
    url = f"s3://{seaweedfs.bucket}/one-{uuid.uuid4().hex[:10]}"
    with redis_server() as redis:
        env = {
            **os.environ,
            "DAGSTER_PG_URL": postgres_server.create_database(f"one_{uuid.uuid4().hex[:8]}"),
            "STUUT_DATA_URL": url,
            **seaweedfs.aws_env(),
            "STUUT_CELERY_BROKER": redis.url(),
            "STUUT_SIM_CALLS": str(SLOW_SIM.calls),
            "STUUT_SIM_WORKFLOWS": str(SLOW_SIM.workflows),
            "STUUT_SIM_LATENCY_MS": str(SLOW_SIM.latency_ms),
        }
        root = tmp_path_factory.mktemp("one-worker")
        with distributed_topology(root, env, workers=1) as topology:
            topology.add_partitions(embedded_simulator(SLOW_SIM).store.workflow_ids())
            yield topology, DataLocation.from_url(url, s3_options(seaweedfs))


def _wait_for(what: str, predicate, topology, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        topology.check_alive()
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{topology.logs()}"
        time.sleep(0.5)


def _launch_and_wait_for_the_fetch(topology, workflow: str) -> str:
    run_id = topology.launch_run(workflow)

    def fetching() -> bool:
        return any(
            s["stepKey"] == "ingest_calls" and s["status"] == "IN_PROGRESS"
            for s in topology.step_stats(run_id)
        )

    _wait_for("the ingest to start", fetching, topology)
    time.sleep(1.0)  # well inside the fetch (SLOW_SIM)
    return run_id


def _all_or_nothing(location: DataLocation, workflow: str) -> None:
    published = [location.exists(layout.table_key(t, workflow)) for t in TABLES]
    assert not any(published) or all(published), published


def _run_ids(location: DataLocation, workflow: str) -> set[str]:
    """The runs that wrote the four published tables of `workflow` (each file names its run)."""
    found = set()
    for table in TABLES:
        with location.open_input_file(layout.table_key(table, workflow)) as src:
            found.add(pq.ParquetFile(src).metadata.metadata[RUN_ID_KEY.encode()].decode())
    return found


def _exact(location: DataLocation, workflow: str) -> None:
    expected = {r["id"] for r in embedded_simulator(SLOW_SIM).store.records(workflow)}
    assert _rows(location, layout.table_key("calls", workflow)) == len(expected)


def test_terminating_a_run_on_a_celery_worker_cancels_it(one_worker) -> None:
    """The web UI's Terminate on a run executing as a Celery task: CANCELED (not a FAILURE that
    run retries would start again), nothing half-published, and the worker takes the next run."""
    topology, location = one_worker
    stopped, after, _ = embedded_simulator(SLOW_SIM).store.workflow_ids()
    run_id = _launch_and_wait_for_the_fetch(topology, stopped)
    data = topology.graphql(
        "mutation($id: String!) { terminateRun(runId: $id) { __typename"
        " ... on TerminateRunFailure { message } ... on PythonError { message } } }",
        id=run_id,
    )
    assert data["terminateRun"]["__typename"] == "TerminateRunSuccess", data
    _wait_for("the run to end", lambda: topology.run_status(run_id) in FINISHED, topology, 60)
    assert topology.run_status(run_id) == "CANCELED", topology.logs()
    _all_or_nothing(location, stopped)

    # the same worker takes the next run, which succeeds; run retries left the canceled one alone
    next_run = topology.launch_run(after)
    _wait_for("the next run", lambda: topology.run_status(next_run) in FINISHED, topology)
    assert topology.run_status(next_run) == "SUCCESS", topology.logs()
    assert topology.runs_tagged("dagster/parent_run_id", run_id) == []
    _exact(location, after)


def test_a_run_whose_worker_process_is_killed_is_failed_and_retried(one_worker) -> None:
    """kill -9 of the Celery pool process executing a run: run monitoring marks the run FAILURE
    (the task's state says the worker was lost), run retries launch it again, and the retry,
    in the pool's new process, publishes the workflow exactly."""
    topology, location = one_worker
    *_, workflow = embedded_simulator(SLOW_SIM).store.workflow_ids()
    (worker,) = topology.workers
    run_id = _launch_and_wait_for_the_fetch(topology, workflow)
    pool = pool_processes(worker)
    assert len(pool) == 1, pool  # concurrency 1: the one process executing the run
    os.kill(pool[0], signal.SIGKILL)

    _wait_for("the run to fail", lambda: topology.run_status(run_id) in FINISHED, topology)
    assert topology.run_status(run_id) == "FAILURE"
    _all_or_nothing(location, workflow)
    retries: list[dict] = []

    def retried() -> bool:
        retries[:] = topology.runs_tagged("dagster/parent_run_id", run_id)
        return bool(retries) and all(r["status"] in FINISHED for r in retries)

    _wait_for("the retry", retried, topology)
    assert [r["status"] for r in retries] == ["SUCCESS"], topology.logs()
    assert pool_processes(worker) != pool  # Celery replaced the killed process
    _exact(location, workflow)
    assert _run_ids(location, workflow) == {retries[0]["runId"]}  # four tables, one run

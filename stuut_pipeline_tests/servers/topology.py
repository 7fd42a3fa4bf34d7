"""The production topology on one machine, for tests and benchmarks: separate processes sharing
nothing but Postgres (the instance), the object store (the data) and Redis (the Celery broker).

- a code server: `dagster code-server start -m stuut_pipeline.definitions` (with
  `task_unit="step"` runs are launched from it: the DefaultRunLauncher's run workers are its
  children; with `task_unit="run"`, the default, the CeleryRunLauncher sends each run to the
  broker as one task);
- the webserver: `dagster-webserver -w workspace.yaml` (the workspace points at the code server);
- the daemon: `dagster-daemon run` (backfills, the queued run coordinator, run retries);
- N Celery workers: `dagster-celery worker start -A dagster_celery.app -y celery-worker.yaml`.

Each process has its own temp working directory and log, runs in its own process group
(`start_new_session=True`) and gets the same environment (`STUUT_EXECUTOR`, the instance, the
data location, the broker). `stop()` kills every group, also after a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from stuut_pipeline.settings import PROJECT_ROOT

from .ports import free_port, graphql_post

LOCATION = "stuut_pipeline"
REPOSITORY = "__repository__"
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
DEPLOY = PROJECT_ROOT / "deploy"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class Service:
    """One process of the topology (the leader of its own process group)."""

    name: str
    cwd: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def pid(self) -> int:
        """The leader's pid (its process group's id)."""
        return self.process.pid

    def group_pids(self) -> set[int]:
        """Every live process of its group (the leader and the children it started)."""
        return _group_pids(self.pid)

    def log_tail(self, n: int = 60) -> str:
        """The last lines of its log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group, SIGKILL it after `grace` seconds."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=wait)
        # children that outlived the leader (a Celery pool process, a run worker)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


def _group_pids(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            pids.add(int(entry.name))
    return pids


def _parent(pid: int) -> int | None:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def pool_processes(worker: Service) -> list[int]:
    """The Celery pool processes of a worker service, those that execute tasks: children of the
    `celery worker` process, which `dagster-celery worker start` (the service) runs."""
    group = worker.group_pids()
    mains = {pid for pid in group if _parent(pid) == worker.pid}
    return sorted(pid for pid in group if _parent(pid) in mains)


#: What one Celery task executes: a whole run (deploy/celery-run-launcher.yaml, in-process
#: steps) or one step (the Celery executor; each run has a run worker process of its own).
TASK_UNITS = ("run", "step")


def instance_yaml(
    max_concurrent_runs: int, dequeue_interval_seconds: int = 2, task_unit: str = "run"
) -> str:
    """deploy/dagster.yaml (the instance on Postgres) with the queued run coordinator, the given
    run limit, a shorter dequeue interval than the default 5 s, and with `task_unit="run"` the
    CeleryRunLauncher of deploy/celery-run-launcher.yaml."""
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    if task_unit == "run":
        config.update(yaml.safe_load((DEPLOY / "celery-run-launcher.yaml").read_text()))
    config["run_coordinator"] = {
        "module": "dagster._core.run_coordinator",
        "class": "QueuedRunCoordinator",
        "config": {"dequeue_interval_seconds": dequeue_interval_seconds},
    }
    config.setdefault("concurrency", {}).setdefault("runs", {})["max_concurrent_runs"] = (
        max_concurrent_runs
    )
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class Topology:
    """The running processes, the webserver's URL and the environment they share."""

    root: Path
    env: dict[str, str] = field(repr=False)
    url: str = ""
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def workers(self) -> list[Service]:
        """The Celery workers."""
        return [s for name, s in self.services.items() if name.startswith("celery-worker")]

    @property
    def repository_selector(self) -> dict:
        """The selector of the project's code location."""
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}

    def graphql(self, query: str, **variables: object) -> dict:
        """Run one GraphQL query on the webserver; raise on transport or GraphQL errors."""
        return graphql_post(self.url, query, variables)

    def add_partitions(self, keys: list[str], partitions_def: str = "workflow") -> None:
        """Register dynamic partitions through GraphQL (`addDynamicPartition`)."""
        for key in keys:
            data = self.graphql(
                "mutation($repo: RepositorySelector!, $def: String!, $key: String!) {"
                " addDynamicPartition(repositorySelector: $repo, partitionsDefName: $def,"
                " partitionKey: $key) { __typename ... on PythonError { message } } }",
                repo=self.repository_selector,
                key=key,
                **{"def": partitions_def},
            )
            kind = data["addDynamicPartition"]["__typename"]
            assert kind == "AddDynamicPartitionSuccess", data

    def launch_backfill(self, keys: list[str], job: str = "stuut_pipeline_job") -> str:
        """Launch a backfill of the job's partitions `keys` (`launchPartitionBackfill`)."""
        data = self.graphql(
            "mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams:"
            " $params) { __typename ... on LaunchBackfillSuccess { backfillId }"
            " ... on PythonError { message stack } } }",
            params={
                "selector": {
                    "partitionSetName": f"{job}_partition_set",
                    "repositorySelector": self.repository_selector,
                },
                "partitionNames": keys,
            },
        )
        result = data["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        return result["backfillId"]

    def launch_run(self, partition: str, job: str = "stuut_pipeline_job") -> str:
        """Launch one run of the job's `partition` (`launchRun`, the launchpad's button): it goes
        through the run queue, not the backfill daemon. Returns the run id."""
        data = self.graphql(
            "mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {"
            " __typename ... on LaunchRunSuccess { run { runId } }"
            " ... on PythonError { message stack } ... on Error { message } } }",
            params={
                "selector": {**self.repository_selector, "jobName": job},
                "mode": "default",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            },
        )
        result = data["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def run_status(self, run_id: str) -> str:
        """The run's status (QUEUED, STARTING, STARTED, SUCCESS, FAILURE, CANCELED, ...)."""
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id
        )
        return data["runOrError"]["status"]

    def runs_tagged(self, key: str, value: str) -> list[dict]:
        """Every run with tag `key` = `value`: id and status."""
        data = self.graphql(
            "query($filter: RunsFilter!) { runsOrError(filter: $filter) { ... on Runs {"
            " results { runId status } } } }",
            filter={"tags": [{"key": key, "value": value}]},
        )
        return data["runsOrError"]["results"]

    def backfill_runs(self, backfill_id: str) -> list[dict]:
        """The backfill's runs: id, status, partition, start and end time."""
        data = self.graphql(
            "query($filter: RunsFilter!) { runsOrError(filter: $filter) { ... on Runs { results {"
            " runId status startTime endTime tags { key value } } } } }",
            filter={"tags": [{"key": "dagster/backfill", "value": backfill_id}]},
        )
        runs = data["runsOrError"]["results"]
        for run in runs:
            run["partition"] = next(
                (t["value"] for t in run["tags"] if t["key"] == "dagster/partition"), None
            )
        return runs

    def wait_for_backfill(self, backfill_id: str, runs: int, timeout: float = 600) -> list[dict]:
        """Poll until the backfill has `runs` runs, all finished; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.backfill_runs(backfill_id)
            if len(found) >= runs and all(r["status"] in FINISHED for r in found):
                return found
            self.check_alive()
            if time.monotonic() > deadline:
                states = sorted((r["partition"] or "?", r["status"]) for r in found)
                raise TimeoutError(f"backfill {backfill_id}: {states}\n{self.logs()}")
            time.sleep(1)

    def step_stats(self, run_id: str) -> list[dict]:
        """The run's steps: key, status, start and end time (epoch seconds)."""
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { stepStats {"
            " stepKey status startTime endTime } } } }",
            id=run_id,
        )
        return data["runOrError"]["stepStats"]

    def run_materializations(self, run_id: str) -> list[dict]:
        """The run's materialisations: asset, partition, step and metadata {label: value}."""
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { assetMaterializations {"
            " assetKey { path } partition stepKey metadataEntries { label"
            " ... on IntMetadataEntry { intValue } ... on TextMetadataEntry { text } } } } } }",
            id=run_id,
        )
        events = data["runOrError"]["assetMaterializations"]
        return [
            {
                "asset": "/".join(e["assetKey"]["path"]),
                "partition": e["partition"],
                "step": e["stepKey"],
                "metadata": {
                    m["label"]: m.get("intValue", m.get("text"))
                    for m in e["metadataEntries"]
                    if "intValue" in m or "text" in m
                },
            }
            for e in events
        ]

    def start(self, name: str, argv: list[str]) -> Service:
        """Start `argv` in a new process group, in its own working directory under `root`."""
        cwd = self.root / name
        cwd.mkdir(parents=True, exist_ok=True)
        log = cwd / f"{name}.log"
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        service = Service(name, cwd, log, process)
        self.services[name] = service
        return service

    def check_alive(self) -> None:
        """Raise (with its log) if any process exited."""
        for service in self.services.values():
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited ({service.process.returncode}):\n{service.log_tail()}"
                )

    def logs(self, n: int = 40) -> str:
        """The tail of every log (for a failing test's message)."""
        return "\n".join(f"--- {s.name}\n{s.log_tail(n)}" for s in self.services.values())

    def stop(self) -> None:
        """Stop every process: workers first (no task is taken after), the code server last."""
        for service in reversed(list(self.services.values())):
            service.stop()


def _wait(what: str, ready, topology: Topology, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        topology.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready in {timeout}s:\n{topology.logs()}")
        time.sleep(0.5)


def _code_server_healthy(port: int, env: Mapping[str, str]) -> bool:
    check = subprocess.run(
        [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port), "-h", HOST],
        env=env,
        capture_output=True,
        timeout=30,
    )
    return check.returncode == 0


def _location_loaded(topology: Topology) -> bool:
    try:
        data = topology.graphql(
            "query { workspaceOrError { ... on Workspace { locationEntries {"
            " name locationOrLoadError { __typename } } } } }"
        )
    except (httpx.HTTPError, AssertionError):
        return False
    entries = data["workspaceOrError"]["locationEntries"]
    kinds = [e["locationOrLoadError"]["__typename"] for e in entries if e["locationOrLoadError"]]
    if kinds and kinds[0] != "RepositoryLocation":
        # the code server was not up when the webserver first asked: reload it
        topology.graphql(
            "mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name)"
            " { __typename } }",
            name=LOCATION,
        )
        return False
    return bool(kinds)


def _worker_ready(service: Service) -> bool:
    return " ready." in service.log_tail(200)


def start_topology(
    root: Path,
    env: Mapping[str, str],
    *,
    workers: int = 2,
    worker_concurrency: int = 1,
    max_concurrent_runs: int = 4,
    task_unit: str = "run",
    timeout: float = 180,
) -> Topology:
    """Start the code server, webserver, daemon and `workers` Celery workers; wait until each
    serves. `env` must name the instance (DAGSTER_PG_URL), the data (STUUT_DATA_URL, AWS_*) and
    the broker (STUUT_CELERY_BROKER); DAGSTER_HOME, STUUT_EXECUTOR (`in_process` when a task is
    a run, `celery` when it is a step; `task_unit`) and STUUT_AUTOMATION_DEFAULT=stopped are
    set here."""
    if task_unit not in TASK_UNITS:
        raise ValueError(f"task_unit must be one of {TASK_UNITS}, got {task_unit!r}")
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml(max_concurrent_runs, task_unit=task_unit))
    shared = {
        **env,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', os.environ.get('PATH', ''))}",
        "DAGSTER_HOME": str(home),
        "STUUT_EXECUTOR": "in_process" if task_unit == "run" else "celery",
        "STUUT_AUTOMATION_DEFAULT": "stopped",
    }
    shared.pop("STUUT_DATA_DIR", None)
    topology = Topology(root, shared)
    try:
        code_port, web_port = free_port(), free_port()
        topology.start(
            "code-server",
            [
                str(BIN / "dagster"),
                "code-server",
                "start",
                "-m",
                "stuut_pipeline.definitions",
                "--location-name",
                LOCATION,
                "-h",
                HOST,
                "-p",
                str(code_port),
            ],
        )
        for i in range(1, workers + 1):
            name = f"celery-worker-{i}"
            cwd = root / name
            cwd.mkdir(parents=True, exist_ok=True)
            (cwd / "celery-worker.yaml").write_text((DEPLOY / "celery-worker.yaml").read_text())
            topology.start(
                name,
                [
                    str(BIN / "dagster-celery"),
                    "worker",
                    "start",
                    "-A",
                    "dagster_celery.app",
                    "-y",
                    str(cwd / "celery-worker.yaml"),
                    "-n",
                    name,
                    "-l",
                    "INFO",
                    "--",
                    f"--concurrency={worker_concurrency}",
                ],
            )
        _wait("code server", lambda: _code_server_healthy(code_port, shared), topology, timeout)
        workspace = root / "workspace.yaml"
        workspace.write_text(
            yaml.safe_dump(
                {
                    "load_from": [
                        {
                            "grpc_server": {
                                "host": HOST,
                                "port": code_port,
                                "location_name": LOCATION,
                            }
                        }
                    ]
                }
            )
        )
        topology.start(
            "webserver",
            [
                str(BIN / "dagster-webserver"),
                "-w",
                str(workspace),
                "-h",
                HOST,
                "-p",
                str(web_port),
            ],
        )
        topology.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)])
        topology.url = f"http://{HOST}:{web_port}"
        _wait("webserver", lambda: _location_loaded(topology), topology, timeout)
        for worker in topology.workers:
            _wait(worker.name, lambda w=worker: _worker_ready(w), topology, timeout)
    except BaseException:
        topology.stop()
        raise
    return topology


@contextlib.contextmanager
def distributed_topology(root: Path, env: Mapping[str, str], **options) -> Iterator[Topology]:
    """A running topology (see `start_topology`), stopped on exit, also on failure."""
    topology = start_topology(root, env, **options)
    try:
        yield topology
    finally:
        topology.stop()

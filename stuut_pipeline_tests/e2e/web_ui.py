"""A `dagster dev` subprocess on loopback, and a small GraphQL client for it (test support)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from stuut_pipeline.settings import PROJECT_ROOT

from ..servers.ports import free_port, graphql_post

LOCATION = "stuut_pipeline"
REPOSITORY = "__repository__"

ADD_PARTITION = """
mutation($s: RepositorySelector!, $key: String!) {
  addDynamicPartition(repositorySelector: $s, partitionsDefName: "workflow", partitionKey: $key) {
    __typename
    ... on PythonError { message }
  }
}
"""


@dataclass
class DagsterUI:
    """A running `dagster dev` (webserver + daemon) with its own instance and data dir."""

    url: str
    home: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen

    def graphql(self, query: str, **variables: object) -> dict:
        """Run one GraphQL query; raise on transport or GraphQL errors."""
        return graphql_post(self.url, query, variables)

    @property
    def repository_selector(self) -> dict:
        """The selector of the project's code location."""
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}

    def add_workflow_partition(self, key: str) -> None:
        """Register a `workflow` partition through GraphQL; assert it was added."""
        result = self.graphql(ADD_PARTITION, s=self.repository_selector, key=key)
        assert result["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", result

    def stop(self) -> None:
        """Stop the whole process group (webserver, daemon, code server, run workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_dagster_ui(root: Path, env_overrides: dict[str, str], timeout: float = 240) -> DagsterUI:
    """Start `dagster dev` on a free loopback port in a new process group; wait until it serves."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    data_dir = root / "data"
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STUUT_DATA_DIR": str(data_dir),
        "STUUT_AUTOMATION_DEFAULT": "stopped",
        **env_overrides,
    }
    log = root / "dagster-dev.log"
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ui = DagsterUI(f"http://127.0.0.1:{port}", home, data_dir, log, process)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"dagster dev exited:\n{log.read_text()[-4000:]}")
            try:
                data = ui.graphql(
                    "query { workspaceOrError { ... on Workspace { locationEntries {"
                    " name locationOrLoadError { __typename } } } } }"
                )
                entries = data["workspaceOrError"]["locationEntries"]
                loaded = [e for e in entries if e["locationOrLoadError"]]
                if loaded:
                    kind = loaded[0]["locationOrLoadError"]["__typename"]
                    if kind != "RepositoryLocation":
                        raise RuntimeError(f"code location failed to load:\n{log.read_text()}")
                    return ui
            except (httpx.HTTPError, AssertionError):
                pass
            time.sleep(1)
        raise TimeoutError(f"dagster dev did not serve in {timeout}s:\n{log.read_text()[-4000:]}")
    except BaseException:
        ui.stop()
        raise

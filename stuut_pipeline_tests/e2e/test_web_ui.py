"""End to end through the Dagster web UI: GraphQL backfill of several workflows, then a browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.flatten import TABLES
from stuut_pipeline.settings import PROJECT_ROOT

from .. import factories
from .static_page import CHROMIUM_ARGS
from .web_ui import DagsterUI, start_dagster_ui

SIM_ENV = {"STUUT_SIM_CALLS": "160", "STUUT_SIM_WORKFLOWS": "4", "STUUT_SIM_SEED": "5"}
INGEST = ["raw_calls", *TABLES]
ROLLUPS = ["sentiment_rollup", "classification_rollup", "workflow_kpis"]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def simulated_workflows() -> list[str]:
    sim = factories.simulator(
        calls=int(SIM_ENV["STUUT_SIM_CALLS"]),
        workflows=int(SIM_ENV["STUUT_SIM_WORKFLOWS"]),
        seed=int(SIM_ENV["STUUT_SIM_SEED"]),
    )
    return sim.store.workflow_ids()


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    ui = start_dagster_ui(tmp_path_factory.mktemp("ui"), SIM_ENV)
    try:
        yield ui
    finally:
        ui.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dagster-dev.log").write_bytes(ui.log.read_bytes())


ASSETS_QUERY = """
query {
  assetNodes {
    assetKey { path }
    groupName
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}
"""


def test_assets_checks_schedules_and_sensors_are_listed(ui: DagsterUI) -> None:
    nodes = ui.graphql(ASSETS_QUERY)["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert set(INGEST + ROLLUPS) <= set(by_key)
    assert {by_key[k]["groupName"] for k in INGEST} == {"ingest"}
    assert {by_key[k]["groupName"] for k in ROLLUPS} == {"rollups"}
    calls_checks = {
        c["name"]: c["blocking"] for c in by_key["calls"]["assetChecksOrError"]["checks"]
    }
    assert calls_checks == {"matches_contract": True, "no_drift": False, "no_shrink": True}
    selector = ui.repository_selector
    data = ui.graphql(
        """query($s: RepositorySelector!) {
          schedulesOrError(repositorySelector: $s) {
            ... on Schedules { results { name scheduleState { status } } } }
          sensorsOrError(repositorySelector: $s) {
            ... on Sensors { results { name sensorState { status } } } }
        }""",
        s=selector,
    )
    schedules = {
        s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]
    }
    sensors = {s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]}
    # the UI was started with STUUT_AUTOMATION_DEFAULT=stopped (README: running by default)
    assert schedules == {"nightly_pipeline_schedule": "STOPPED"}
    assert sensors["workflow_discovery_sensor"] == "STOPPED"


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
  }
}
"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""

CHECK_EXECUTIONS = """
query($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 50) { status partition }
}
"""


#: An analyst's process: holds a read-only connection to the catalog, queries it on request.
READER = """
import json, sys, duckdb
path = sys.argv[1]
con = duckdb.connect(path, read_only=True)
print(json.dumps("holding"), flush=True)
for line in sys.stdin:
    if line.strip() == "reconnect":
        con.close()
        con = duckdb.connect(path, read_only=True)
    rows = con.execute("SELECT workflow_id, count(*) FROM workflow_kpis GROUP BY 1").fetchall()
    print(json.dumps(dict(rows)), flush=True)
"""


class Reader:
    """The analyst's process, asked for `workflow_kpis` rows per workflow."""

    def __init__(self, catalog: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(catalog)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._answer() == "holding"

    def _answer(self):
        line = self.process.stdout.readline()
        assert line, f"the reader died (exit {self.process.poll()})"
        return json.loads(line)

    def ask(self, command: str = "query") -> dict[str, int]:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def backfilled(ui: DagsterUI) -> list[str]:
    """A backfill of 3 workflows through the daemon while an analyst holds the catalog open."""
    workflows = simulated_workflows()[:3]
    for key in workflows:
        ui.add_workflow_partition(key)
    catalog = wh.publish_catalog(ui.data_dir)  # the catalog before any data: empty views
    reader = Reader(Path(catalog.where))
    try:
        assert reader.ask() == {}
        params = {
            "partitionNames": workflows,
            "assetSelection": [{"path": [k]} for k in INGEST + ROLLUPS],
            "title": "e2e backfill",
        }
        launched = ui.graphql(LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        deadline = time.monotonic() + 900
        status = None
        while time.monotonic() < deadline:
            assert reader.ask() == {}  # the open file still holds the old (empty) views
            data = ui.graphql(BACKFILL_STATUS, id=backfill_id)
            status = data["partitionBackfillOrError"]["status"]
            runs = data["runsOrError"]["results"]
            if status not in ("REQUESTED", "CANCELING", "FAILING"):
                break
            time.sleep(3)
        assert status == "COMPLETED_SUCCESS", (status, runs, ui.log.read_text()[-3000:])
        assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
        seen = reader.ask("reconnect")  # a new connection reads the catalog published since
        assert set(seen) == set(workflows) and all(n > 0 for n in seen.values()), seen
    finally:
        reader.close()
    return workflows


def partitions_on_disk(root: Path) -> set[str]:
    return {p.name.removeprefix("workflow_id=") for p in root.iterdir()} if root.exists() else set()


def test_backfill_of_several_workflows_through_graphql(ui: DagsterUI, backfilled) -> None:
    expected = set(backfilled)
    assert len(simulated_workflows()) == 4  # one workflow was left out of the backfill
    assert partitions_on_disk(ui.data_dir / "raw" / "calls") == expected
    for table in TABLES:
        assert partitions_on_disk(ui.data_dir / "parquet" / table) == expected, table
    for rollup in ROLLUPS:
        assert partitions_on_disk(ui.data_dir / "marts" / rollup) == expected, rollup
    with duckdb.connect(str(ui.data_dir / "warehouse" / "stuut.duckdb"), read_only=True) as con:
        for rollup in ROLLUPS:
            rows = con.execute(
                f"SELECT workflow_id, count(*) FROM {rollup} GROUP BY 1"  # noqa: S608
            ).fetchall()
            assert {w for w, n in rows if n > 0} == expected, rollup
    for asset in INGEST + ROLLUPS:
        nodes = ui.graphql(ASSETS_QUERY)["assetNodes"]
        node = next(n for n in nodes if n["assetKey"]["path"] == [asset])
        for check in node["assetChecksOrError"]["checks"]:
            if not check["blocking"]:
                continue
            executions = ui.graphql(CHECK_EXECUTIONS, key={"path": [asset]}, check=check["name"])
            statuses = {e["partition"]: e["status"] for e in executions["assetCheckExecutions"]}
            assert statuses == dict.fromkeys(expected, "SUCCEEDED"), (asset, check["name"])


def _dismiss_welcome_dialog(page) -> None:
    """The first visit shows a 'Join the Dagster community' dialog over the page."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 (no dialog this time)
        return
    skip.click()


def test_browser_shows_the_asset_graph_and_an_asset_page(ui: DagsterUI, backfilled) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{ui.url}/asset-groups", wait_until="networkidle")
            _dismiss_welcome_dialog(page)
            for group in ("ingest", "rollups"):
                page.get_by_text(group, exact=True).first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "global-lineage.png"))

            # the asset graph around `calls`: its upstream and every rollup, with their status
            page.goto(f"{ui.url}/assets/calls?view=lineage", wait_until="networkidle")
            for name in ("raw_calls", "calls", *ROLLUPS):
                page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
            graph = page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))

            page.goto(f"{ui.url}/assets/workflow_kpis", wait_until="networkidle")
            page.get_by_text("Latest materialization").first.wait_for(timeout=60_000)
            # the latest partition's key shows once the asset's events have loaded
            keys = re.compile("|".join(re.escape(w) for w in backfilled))
            page.get_by_text(keys).first.wait_for(timeout=60_000)
            asset_page = page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "asset-workflow_kpis.png"), full_page=True)
        finally:
            browser.close()
    assert graph.count("Latest event") >= 5  # each node shows its latest materialization
    assert "Passed" in graph and "Failed" not in graph
    assert "Latest materialization" in asset_page
    assert any(workflow in asset_page for workflow in backfilled)  # the latest partition's key

"""The whole graph through Dagster: ingest + rollups for two workflows on a test instance, every
rollup figure compared with the independent plain-Python computation of reference.py."""

from __future__ import annotations

import dagster as dg
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.layout import WAREHOUSE_FILE, mart_key
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator

from ..reference import EXPECTED, ROLLUP_NAMES, compare, keyed

SIM = SimulatorSettings(calls=260, workflows=3, seed=17, schema_drift=0.1, string_amounts=0.3)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("graph") / "data"
    for name, value in {
        "STUUT_SIM_CALLS": SIM.calls,
        "STUUT_SIM_WORKFLOWS": SIM.workflows,
        "STUUT_SIM_SEED": SIM.seed,
        "STUUT_SIM_SCHEMA_DRIFT": SIM.schema_drift,
        "STUUT_SIM_STRING_AMOUNTS": SIM.string_amounts,
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("STUUT_WAREHOUSE_PATH", raising=False)
    sim = embedded_simulator(SIM)
    workflows = sim.store.workflow_ids()[:2]
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    resources = {"stuut_api": StuutApiResource(), "storage": StorageResource(url=str(data_dir))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", workflows)
        results = {
            wf: job.execute_in_process(
                instance=instance, partition_key=wf, resources=resources, raise_on_error=False
            )
            for wf in workflows
        }
    yield sim, data_dir, workflows, results
    monkeypatch.undo()


#: Every asset of the job, and every blocking (ERROR) check of each, as the README lists them.
EXPECTED_ASSETS = {
    "raw_calls",
    "calls",
    "call_classifications",
    "call_tasks",
    "call_invoices",
    "sentiment_rollup",
    "classification_rollup",
    "workflow_kpis",
    "kpi_report",
}
EXPECTED_BLOCKING_CHECKS = {
    ("calls", "matches_contract"),
    ("call_classifications", "matches_contract"),
    ("call_tasks", "matches_contract"),
    ("call_invoices", "matches_contract"),
    ("sentiment_rollup", "schema_matches_contract"),
    ("sentiment_rollup", "calls_reconciled"),
    ("sentiment_rollup", "shares_sum_to_one"),
    ("classification_rollup", "schema_matches_contract"),
    ("classification_rollup", "classifications_reconciled"),
    ("classification_rollup", "shares_sum_to_one"),
    ("workflow_kpis", "schema_matches_contract"),
    ("workflow_kpis", "calls_reconciled"),
    ("workflow_kpis", "rates_in_range"),
}


def test_the_job_materialises_every_asset_and_passes_every_blocking_check(graph) -> None:
    _, _, _, results = graph
    for result in results.values():
        assert result.success
        keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert keys == EXPECTED_ASSETS
        blocking = {
            (e.asset_key.to_user_string(), e.check_name): e.passed
            for e in result.get_asset_check_evaluations()
            if e.severity == dg.AssetCheckSeverity.ERROR
        }
        assert set(blocking) == EXPECTED_BLOCKING_CHECKS
        assert all(blocking.values()), [k for k, passed in blocking.items() if not passed]


@pytest.mark.parametrize("rollup", ROLLUP_NAMES)
def test_every_rollup_figure_matches_the_simulators_records(graph, rollup) -> None:
    sim, data_dir, workflows, _ = graph
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        for wf in workflows:
            expected = EXPECTED[rollup](sim.store.records(wf))
            rows = wh.fetch_rollup(con, rollup, wf)
            assert {r.pop("workflow_id") for r in rows} == {wf}
            compare(rollup, keyed(rollup, rows), expected)
            mart = pq.read_table(data_dir / mart_key(rollup, wf)).to_pylist()
            compare(rollup, keyed(rollup, mart), expected)

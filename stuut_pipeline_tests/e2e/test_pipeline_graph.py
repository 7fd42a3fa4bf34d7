"""The whole graph through Dagster: ingest + rollups for two workflows on a test instance, on
local disk and on S3 (SeaweedFS): every rollup figure compared with the independent plain-Python
computation of reference.py, and the S3 outputs row for row equal to the local ones."""

from __future__ import annotations

import uuid

import dagster as dg
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.layout import mart_key, raw_calls_key, table_key
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator
from stuut_pipeline_tests import factories

from ..reference import EXPECTED, ROLLUP_NAMES, compare, keyed

SIM = SimulatorSettings(calls=260, workflows=3, seed=17, schema_drift=0.1, string_amounts=0.3)


def _storage(kind: str, tmp_path_factory, request) -> StorageResource:
    if kind == "local":
        return StorageResource(url=str(tmp_path_factory.mktemp("graph") / "data"))
    server = request.getfixturevalue("seaweedfs")
    return StorageResource(
        url=f"s3://{server.bucket}/graph-{uuid.uuid4().hex[:8]}",
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
        region=server.region,
    )


def _run_graph(storage: StorageResource):
    """Both workflows' runs of the whole job on a fresh instance, writing to `storage`."""
    monkeypatch = pytest.MonkeyPatch()
    factories.use_embedded_simulator(monkeypatch, SIM)
    sim = embedded_simulator(SIM)
    workflows = sim.store.workflow_ids()[:2]
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    resources = {"stuut_api": StuutApiResource(), "storage": storage}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", workflows)
        results = {
            wf: job.execute_in_process(
                instance=instance, partition_key=wf, resources=resources, raise_on_error=False
            )
            for wf in workflows
        }
    monkeypatch.undo()
    return sim, storage.location(), workflows, results


@pytest.fixture(scope="module")
def local_graph(tmp_path_factory, request):
    return _run_graph(_storage("local", tmp_path_factory, request))


@pytest.fixture(scope="module")
def s3_graph(tmp_path_factory, request):
    return _run_graph(_storage("s3", tmp_path_factory, request))


@pytest.fixture(scope="module", params=["local", "s3"])
def graph(request):
    """The whole graph run on local disk, and on S3."""
    return request.getfixturevalue(f"{request.param}_graph")


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
    ("calls", "no_shrink"),
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
    sim, location, workflows, _ = graph
    with wh.open_catalog(location) as con:
        for wf in workflows:
            expected = EXPECTED[rollup](sim.store.records(wf))
            rows = wh.fetch_rollup(con, rollup, wf)
            assert {r.pop("workflow_id") for r in rows} == {wf}
            compare(rollup, keyed(rollup, rows), expected)
            mart = pq.read_table(location.open_input_file(mart_key(rollup, wf))).to_pylist()
            compare(rollup, keyed(rollup, mart), expected)


def _outputs(location, workflows) -> dict[str, object]:
    keys = [raw_calls_key(wf) for wf in workflows]
    keys += [table_key(t, wf) for t in TABLES for wf in workflows]
    keys += [mart_key(r, wf) for r in ROLLUP_NAMES for wf in workflows]
    return {
        key: location.read_bytes(key)
        if key.endswith(".zst")
        else pq.read_table(location.open_input_file(key))
        for key in keys
    }


def test_s3_outputs_equal_the_local_ones(local_graph, s3_graph) -> None:
    """Same keys, the same raw bytes and the same rows and types in every table and mart."""
    _, local_location, workflows, _ = local_graph
    _, s3, s3_workflows, _ = s3_graph
    assert s3_workflows == workflows
    local, remote = _outputs(local_location, workflows), _outputs(s3, workflows)
    assert local.keys() == remote.keys()
    for key, value in local.items():
        assert remote[key].equals(value) if hasattr(value, "equals") else remote[key] == value, key
    assert s3.list_files(".staging") == []

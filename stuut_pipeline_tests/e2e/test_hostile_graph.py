"""The whole job (every asset, as `stuut-pipeline run` runs it) against a simulator served over
HTTP with its own bearer token: the definitions read the token as a `dg.EnvVar` and no event of a
run carries it; a refresh that shrinks the workflow fails the blocking `calls.no_shrink` check,
which stops the graph: nothing downstream starts or materialises and no published file changes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dagster as dg
import pytest

from stuut_pipeline import settings
from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.simulator import SimulatorServer
from stuut_pipeline_tests import factories

SEED = 29
FIRST_CALLS, SHRUNK_CALLS = 240, 30  # the refresh serves an eighth: below the half threshold
#: Every asset downstream of the ingest (rollups and the report), written out independently.
DOWNSTREAM = {"sentiment_rollup", "classification_rollup", "workflow_kpis", "kpi_report"}
TABLES = {"calls", "call_classifications", "call_tasks", "call_invoices"}
#: What an analyst reads of a partition: the tables, the marts and the reports.
PUBLISHED_ROOTS = ("parquet", "marts", "reports")
EVENT = dg.DagsterEventType


def _server(calls: int, token: str) -> SimulatorServer:
    return SimulatorServer(factories.simulator(calls=calls, workflows=1, seed=SEED, token=token))


def _run(instance, workflow: str) -> dg.ExecuteInProcessResult:
    """One run of the whole job for `workflow`, with the code location's own resources."""
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    return job.execute_in_process(instance=instance, partition_key=workflow, raise_on_error=False)


def _events(instance, run_id: str) -> list[dg.DagsterEvent]:
    return [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None]


def _published(data_dir: Path, workflow: str) -> dict[str, bytes]:
    """The bytes of every published file of the partition (staging excluded)."""
    return {
        p.relative_to(data_dir).as_posix(): p.read_bytes()
        for root in PUBLISHED_ROOTS
        for p in sorted((data_dir / root).rglob("*"))
        if p.is_file() and workflow in p.as_posix()
    }


@pytest.fixture
def api(monkeypatch, tmp_path):
    """Point the environment at an HTTP simulator with a distinctive token: (token, set_size)."""
    token = f"tok-graph-{secrets.token_hex(12)}"
    servers: list[SimulatorServer] = []

    def serve(calls: int) -> str:
        server = _server(calls, token).start()
        servers.append(server)
        monkeypatch.setenv(settings.ENV_BASE_URL, server.url)
        return server.simulator.store.workflow_ids()[0]

    monkeypatch.setenv(settings.ENV_TOKEN, token)
    try:
        yield token, serve
    finally:
        for server in servers:
            server.stop()


def test_the_definitions_read_the_token_as_an_env_var(api) -> None:
    token, serve = api
    serve(FIRST_CALLS)
    resource = defs().resources["stuut_api"]
    assert isinstance(resource.token, dg.EnvVar)
    assert resource.token.env_var_name == settings.ENV_TOKEN
    assert isinstance(resource.base_url, dg.EnvVar)


def test_no_event_or_metadata_of_a_run_carries_the_token(api, tmp_path) -> None:
    token, serve = api
    workflow = serve(FIRST_CALLS)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", [workflow])
        result = _run(instance, workflow)
        assert result.success
        entries = instance.all_logs(result.run_id)
        run = instance.get_run_by_id(result.run_id)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_calls", *TABLES, *DOWNSTREAM}
    assert result.get_asset_check_evaluations()
    for entry in entries:
        assert token not in entry.to_json(), entry.dagster_event_type
    assert token not in dg.serialize_value(run)
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert written and not [p for p in written if token.encode() in p.read_bytes()]


def test_a_failed_blocking_check_stops_the_whole_graph(api, tmp_path) -> None:
    _, serve = api
    data_dir = tmp_path / "data"
    workflow = serve(FIRST_CALLS)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", [workflow])
        assert _run(instance, workflow).success
        before = _published(data_dir, workflow)
        assert {k.split("/")[1] for k in before if not k.startswith("reports")} >= TABLES
        assert any(k.startswith("marts/") for k in before)
        assert any(k.startswith("reports/") for k in before)

        assert serve(SHRUNK_CALLS) == workflow  # same workflow, an eighth of its calls
        result = _run(instance, workflow)
        assert not result.success
        events = _events(instance, result.run_id)

    evaluations = [
        e.event_specific_data for e in events if e.event_type == EVENT.ASSET_CHECK_EVALUATION
    ]
    checks = {(c.asset_key.to_user_string(), c.check_name): c for c in evaluations}
    no_shrink = checks[("calls", "no_shrink")]
    assert not no_shrink.passed and no_shrink.severity == dg.AssetCheckSeverity.ERROR
    assert not [k for k in checks if k[0] in DOWNSTREAM]

    started = {e.step_key for e in events if e.event_type == EVENT.STEP_START}
    skipped = {e.step_key for e in events if e.event_type == EVENT.STEP_SKIPPED}
    assert started == {"ingest_calls"}
    job_steps = {node.name for node in defs().resolve_job_def(PIPELINE_JOB_NAME).nodes}
    assert job_steps == {"ingest_calls", *DOWNSTREAM}  # one step per downstream asset
    assert started | skipped <= job_steps and not started & DOWNSTREAM
    materialized = {
        e.asset_key.to_user_string() for e in events if e.event_type == EVENT.ASSET_MATERIALIZATION
    }
    assert not materialized & (DOWNSTREAM | TABLES)
    assert _published(data_dir, workflow) == before

"""Ingest assets materialised with Dagster on a test instance against the simulator."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import orjson
import pyarrow.parquet as pq
import pytest
import zstandard

from stuut_pipeline.defs.ingest.assets import ingest_calls
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.flatten import TABLES
from stuut_pipeline.layout import raw_calls_key, table_scan
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator
from stuut_pipeline.simulator import FaultConfig, SimulatorServer, StuutSimulator
from stuut_pipeline.simulator.generator import (
    DRIFT_CALL_FIELD,
    DRIFT_SENTIMENT,
)
from stuut_pipeline.stuut_api import StuutClient

from .. import factories
from ..transports import CountingTransport

ASSETS = [ingest_calls]
TABLE_KEYS = [dg.AssetKey(t) for t in TABLES]
SIM = SimulatorSettings(calls=240, workflows=2, seed=31, string_amounts=0.3)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def sim(monkeypatch, request) -> StuutSimulator:
    settings = getattr(request, "param", SIM)
    monkeypatch.setenv("STUUT_SIM_CALLS", str(settings.calls))
    monkeypatch.setenv("STUUT_SIM_WORKFLOWS", str(settings.workflows))
    monkeypatch.setenv("STUUT_SIM_SEED", str(settings.seed))
    monkeypatch.setenv("STUUT_SIM_SCHEMA_DRIFT", str(settings.schema_drift))
    monkeypatch.setenv("STUUT_SIM_STRING_AMOUNTS", str(settings.string_amounts))
    return embedded_simulator(settings)


def resources(data_dir: Path, api: StuutApiResource | None = None) -> dict:
    return {"stuut_api": api or StuutApiResource(), "storage": StorageResource(url=str(data_dir))}


def materialize(
    instance,
    data_dir,
    workflow,
    *,
    selection=None,
    api=None,
    raise_on_error=True,
    run_config=None,
):
    if workflow not in instance.get_dynamic_partitions("workflow"):
        instance.add_dynamic_partitions("workflow", [workflow])
    return dg.materialize(
        ASSETS,
        selection=selection,
        instance=instance,
        partition_key=workflow,
        resources=resources(data_dir, api),
        raise_on_error=raise_on_error,
        run_config=run_config,
    )


def read(data_dir: Path, table: str, workflow: str | None = None):
    sql = f"SELECT * FROM {table_scan(data_dir, table)}"
    if workflow:
        sql += " WHERE workflow_id = ?"
    return duckdb.connect().sql(sql, params=[workflow] if workflow else None).to_arrow_table()


def expected_counts(records: list[dict]) -> dict[str, int]:
    classifications = [c for r in records for c in r["classifications"]]
    return {
        "calls": len(records),
        "call_classifications": len(classifications),
        "call_tasks": sum(len(c["tasks"]) for c in classifications),
        "call_invoices": sum(len(r["invoices"]) for r in records),
    }


def checks_by_name(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def test_two_workflows_and_an_empty_one(sim, data_dir) -> None:
    workflows = sim.store.workflow_ids()
    with dg.instance_for_test() as instance:
        for workflow in [*workflows, "otwfl_nocalls"]:
            result = materialize(instance, data_dir, workflow)
            assert result.success
            checks = checks_by_name(result)
            assert checks and all(e.passed for e in checks.values()), [
                k for k, e in checks.items() if not e.passed
            ]
    for workflow in workflows:
        records = sim.store.records(workflow)
        calls = read(data_dir, "calls", workflow)
        ids = calls.column("call_id").to_pylist()
        assert Counter(ids) == Counter(r["id"] for r in records)
        for table, count in expected_counts(records).items():
            assert read(data_dir, table, workflow).num_rows == count, table
        lines = raw_lines(data_dir / raw_calls_key(workflow))
        assert sorted(orjson.loads(line)["id"] for line in lines) == sorted(ids)
    # calls with no workflow belong to no partition: every workflow call is in exactly one
    assert read(data_dir, "calls").num_rows == sum(len(sim.store.ids(w)) for w in workflows)
    for table in TABLES.values():
        schemas = {
            w: pq.read_schema(
                data_dir / "parquet" / table.name / f"workflow_id={w}" / "part-0.parquet"
            )
            for w in [*workflows, "otwfl_nocalls"]
        }
        for schema in schemas.values():
            assert schema.equals(table.arrow_schema(), check_metadata=True)
    assert read(data_dir, "calls", "otwfl_nocalls").num_rows == 0


def raw_lines(path: Path) -> list[bytes]:
    data = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    return [line for line in data.split(b"\n") if line]


def test_string_amounts_are_numbers(sim, data_dir) -> None:
    workflow = sim.store.workflow_ids()[0]
    with dg.instance_for_test() as instance:
        materialize(instance, data_dir, workflow)
    invoices = read(data_dir, "call_invoices", workflow)
    expected = {
        (r["id"], i): Decimal(str(inv["amount_due"]))  # a float's str is its JSON text
        for r in sim.store.records(workflow)
        for i, inv in enumerate(r["invoices"])
    }
    assert any(
        isinstance(inv["amount_due"], str)
        for r in sim.store.records(workflow)
        for inv in r["invoices"]
    )
    got = {
        (c, i): a
        for c, i, a in zip(
            invoices.column("call_id").to_pylist(),
            invoices.column("invoice_index").to_pylist(),
            invoices.column("amount_due").to_pylist(),
            strict=True,
        )
    }
    assert got == expected


def test_rematerialising_replaces_never_appends(sim, data_dir) -> None:
    workflow = sim.store.workflow_ids()[1]
    with dg.instance_for_test() as instance:
        materialize(instance, data_dir, workflow)
        first = {t: read(data_dir, t, workflow).num_rows for t in TABLES}
        materialize(instance, data_dir, workflow)
        second = {t: read(data_dir, t, workflow).num_rows for t in TABLES}
    assert first == second == expected_counts(sim.store.records(workflow))
    for table in TABLES:
        files = list((data_dir / "parquet" / table / f"workflow_id={workflow}").iterdir())
        assert [f.name for f in files] == ["part-0.parquet"]
    assert not list((data_dir / ".staging").iterdir())


def test_failed_blocking_check_leaves_published_files_untouched(sim, data_dir) -> None:
    workflow = sim.store.workflow_ids()[0]
    with dg.instance_for_test() as instance:
        materialize(instance, data_dir, workflow)
        before = {p: p.read_bytes() for p in (data_dir / "parquet").rglob("*.parquet")}
        # a landing holding one call twice (e.g. written by hand): calls.primary_key must fail
        path = data_dir / raw_calls_key(workflow)
        lines = raw_lines(path)
        path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join([*lines, lines[0]])))
        result = materialize(
            instance, data_dir, workflow, selection=TABLE_KEYS, raise_on_error=False
        )
        assert not result.success
        checks = checks_by_name(result)
        failed = {k for k, e in checks.items() if not e.passed}
        assert ("calls", "matches_contract") in failed
        contract = checks[("calls", "matches_contract")]
        assert "1 duplicated keys" in contract.description
        assert contract.metadata["primary_key/duplicate_keys"].value == 1
        assert contract.metadata["schema/differences"].value == 0
        assert not result.get_asset_materialization_events()
    after = {p: p.read_bytes() for p in (data_dir / "parquet").rglob("*.parquet")}
    assert after == before
    assert not list((data_dir / ".staging").iterdir())


DRIFT = SimulatorSettings(calls=120, workflows=1, seed=8, schema_drift=0.4)


@pytest.mark.parametrize("sim", [DRIFT], indirect=True)
def test_schema_drift_is_a_warning_and_kept_not_a_crash(sim, data_dir) -> None:
    (workflow,) = sim.store.workflow_ids()
    records = sim.store.records(workflow)
    drifted = {r["id"] for r in records if DRIFT_CALL_FIELD in r}
    assert drifted
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, workflow)
    assert result.success
    checks = checks_by_name(result)
    for table in ("calls", "call_classifications", "call_invoices"):
        warn = checks[(table, "no_drift")]
        assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
        assert warn.metadata["extra_fields/rows_with_extra_fields"].value > 0
    calls_drift = checks[("calls", "no_drift")]
    assert "values outside the documented enums" in calls_drift.description
    assert any(k.startswith("enum_values/") for k in calls_drift.metadata)
    assert all(
        e.passed for (t, n), e in checks.items() if e.severity == dg.AssetCheckSeverity.ERROR
    )
    calls = read(data_dir, "calls", workflow).to_pylist()
    assert {c["call_id"] for c in calls} == {r["id"] for r in records}
    extra = {c["call_id"]: orjson.loads(c["extra_fields"]) for c in calls if c["extra_fields"]}
    assert set(extra) == drifted
    by_id = {r["id"]: r for r in records}
    for call_id, fields in extra.items():
        assert fields[DRIFT_CALL_FIELD] == by_id[call_id][DRIFT_CALL_FIELD]
    assert sum(c["sentiment"] == DRIFT_SENTIMENT for c in calls) == sum(
        r["sentiment"] == DRIFT_SENTIMENT for r in records
    )


@pytest.mark.parametrize("bad", ["../escape", "otwfl_x/../../y", "a b", "x" * 200])
def test_invalid_workflow_id_never_reaches_the_filesystem(sim, data_dir, bad) -> None:
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, bad, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "invalid workflow id" in failure.to_string()
    created = [p for p in data_dir.parent.rglob("*") if "escape" in p.name or " " in p.name]
    assert created == []
    assert not (data_dir / "raw").exists() and not (data_dir / "parquet").exists()


def test_real_http_server_with_faults_gives_exactly_the_final_calls(data_dir) -> None:
    token = "tok-http-faults"
    simulator = factories.simulator(
        calls=260,
        workflows=2,
        seed=13,
        token=token,
        faults=FaultConfig(
            rate_429=0.15, rate_500=0.15, retry_after_s=0.01, drift_inserts=6, drift_every=2
        ),
    )
    with SimulatorServer(simulator) as server, dg.instance_for_test() as instance:
        api = StuutApiResource(base_url=server.url, token=token, max_attempts=12, page_size=20)
        for workflow in simulator.store.workflow_ids():
            result = materialize(instance, data_dir, workflow, api=api)
            assert result.success
    assert simulator.faults_injected["429"] and simulator.faults_injected["500"]
    assert simulator.faults_injected["drift_insert"] == 6
    for workflow in simulator.store.workflow_ids():
        ids = read(data_dir, "calls", workflow).column("call_id").to_pylist()
        assert len(ids) == len(set(ids))
        assert set(ids) == simulator.store.ids(workflow)


def test_an_api_outage_retries_the_step_and_a_bad_token_does_not(data_dir) -> None:
    token = "tok-outage"
    down = factories.simulator(calls=20, token=token, faults=FaultConfig(rate_500=1.0))
    workflow = down.store.workflow_ids()[0]
    with SimulatorServer(down) as server, dg.instance_for_test() as instance:
        outage = StuutApiResource(
            base_url=server.url,
            token=token,
            max_attempts=2,
            outage_step_retries=2,
            outage_retry_wait_seconds=0,
        )
        result = materialize(instance, data_dir, workflow, api=outage, raise_on_error=False)
        assert not result.success
        assert result.retry_attempts_for_node("ingest_calls") == 2
        assert down.requests == 3 * 2  # 3 step attempts of 2 requests each
        failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
        assert "failed after 2 attempts" in failure and "HTTP 500" in failure

        requests_before = down.requests
        sent = CountingTransport(httpx.HTTPTransport())

        class CountedApi(StuutApiResource):
            def client(self) -> StuutClient:
                return StuutClient(
                    self.base_url, self.token, transport=sent, max_attempts=self.max_attempts
                )

        bad_token = CountedApi(
            base_url=server.url,
            token="tok-Bad-Secret-991",
            max_attempts=2,
            outage_retry_wait_seconds=0,
        )
        result = materialize(instance, data_dir, workflow, api=bad_token, raise_on_error=False)
        assert not result.success
        assert result.retry_attempts_for_node("ingest_calls") == 0
        assert len(sent.sent) == 1  # one request in all: neither client nor step retried
        assert down.requests == requests_before  # refused before any page was served
        failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
        assert "STUUT_API_TOKEN" in failure and "tok-Bad-Secret-991" not in failure
    assert not (data_dir / "raw").exists()


def test_a_superseded_record_is_flattened_once_in_its_latest_version(data_dir) -> None:
    import httpx

    from stuut_pipeline.stuut_api import StuutClient

    generator = factories.generator(seed=23, n_workflows=1)
    workflow = generator.workflow_ids()[0]
    calls = [generator.call(i, workflow_id=workflow) for i in range(4)]
    newer = {**calls[0], "modified_at": "2027-01-01T00:00:00Z", "summary": "updated"}
    pages = [
        {"data": [calls[0], calls[1]], "current_page": 0, "total_records": 4, "next_page": 1},
        {"data": [newer, calls[2]], "current_page": 1, "total_records": 4, "next_page": 2},
        {"data": [calls[3]], "current_page": 2, "total_records": 4, "next_page": None},
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=orjson.dumps(pages[int(request.url.params["page"])]))

    class ChangingApi(StuutApiResource):
        def client(self) -> StuutClient:
            return StuutClient("http://x.invalid", "t", transport=httpx.MockTransport(answer))

    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, workflow, api=ChangingApi(page_size=2))
    assert result.success
    rows = read(data_dir, "calls", workflow).to_pylist()
    assert sorted(r["call_id"] for r in rows) == sorted(c["id"] for c in calls)
    first = next(r for r in rows if r["call_id"] == calls[0]["id"])
    assert first["summary"] == "updated"
    lines = raw_lines(data_dir / raw_calls_key(workflow))
    assert len(lines) == 4


def test_the_tables_are_selected_together(sim, data_dir) -> None:
    workflow = sim.store.workflow_ids()[0]
    with dg.instance_for_test() as instance:
        result = materialize(
            instance, data_dir, workflow, selection=[dg.AssetKey("calls")], raise_on_error=False
        )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "select all four" in error
    assert not (data_dir / "parquet").exists()

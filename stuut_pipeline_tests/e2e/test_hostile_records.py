"""Hostile records through the whole job: the simulator's `hostile_fraction` at 5% of one
workflow. The run succeeds, the landing holds every record byte for byte as served, the keyable
ones are published (their unfit values null, counted as drift), the others quarantined."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.layout import quarantine_key, raw_calls_key
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator
from stuut_pipeline.simulator.hostile import KINDS
from stuut_pipeline.simulator.store import CallFilter
from stuut_pipeline_tests import factories

from ..defs.test_ingest_assets import TABLE_KEYS, checks_by_name, materialize, raw_lines, read

SIM = SimulatorSettings(calls=600, workflows=1, seed=3, hostile_fraction=0.05)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """The whole job for the one workflow of `SIM`; (served calls, data dir, workflow, result)."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        factories.use_embedded_simulator(monkeypatch, SIM)
        sim = embedded_simulator(SIM)
        workflow = sim.store.workflow_ids()[0]
        served = sim.store.select(CallFilter(workflow=workflow))
        data_dir = tmp_path_factory.mktemp("hostile") / "data"
        job = defs().resolve_job_def(PIPELINE_JOB_NAME)
        resources = {"stuut_api": StuutApiResource(), "storage": StorageResource(url=str(data_dir))}
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("workflow", [workflow])
            result = job.execute_in_process(
                instance=instance, partition_key=workflow, resources=resources
            )
        yield served, data_dir, workflow, result
    finally:
        monkeypatch.undo()


def parsed(body: bytes) -> object:
    """Python's json: takes lone surrogates, duplicate keys (last wins) and deep nesting."""
    return json.loads(body)


def keyable(body: bytes) -> bool:
    record = parsed(body)
    return isinstance(record, dict) and isinstance(record.get("id"), str) and bool(record["id"])


def test_the_simulator_serves_every_kind_at_about_the_fraction(hostile_run) -> None:
    served, *_ = hostile_run
    hostile = [c for c in served if c.hostile]
    assert {c.hostile for c in hostile} == set(KINDS)
    assert 0.02 * len(served) <= len(hostile) <= 0.08 * len(served)
    surrogate = next(c for c in hostile if c.hostile == "lone_surrogate")
    assert rb"\ud800" in surrogate.body and parsed(surrogate.body)["summary"].endswith("\ud800")


def test_the_run_succeeds_and_the_landing_is_byte_exact(hostile_run) -> None:
    served, data_dir, workflow, result = hostile_run
    assert result.success
    lines = raw_lines(data_dir / raw_calls_key(workflow))
    assert sorted(lines) == sorted(c.body for c in served)


def test_received_is_published_plus_quarantined(hostile_run) -> None:
    served, data_dir, workflow, result = hostile_run
    good = [c for c in served if keyable(c.body)]
    bad = [c for c in served if not keyable(c.body)]
    assert bad and {c.hostile for c in bad} == {"missing_id", "null_id"}
    rows = read(data_dir, "calls", workflow).to_pylist()
    assert sorted(r["call_id"] for r in rows) == sorted(parsed(c.body)["id"] for c in good)
    assert len(rows) + len(bad) == len(served)
    check = checks_by_name(result)[("raw_calls", "no_quarantined_records")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["received"].value == len(served)
    assert check.metadata["quarantined"].value == len(bad)
    assert check.metadata["keyed"].value == len(rows)


def test_the_quarantine_file_holds_each_unkeyable_record_with_its_reason(hostile_run) -> None:
    served, data_dir, workflow, _ = hostile_run
    quarantine = [json.loads(x) for x in raw_lines(data_dir / quarantine_key(workflow))]
    bad = [c.body.decode() for c in served if not keyable(c.body)]
    assert sorted(q["record"] for q in quarantine) == sorted(bad)
    assert all("id" in q["reason"] for q in quarantine)


def test_keyable_hostile_records_are_published_with_unfit_values_null(hostile_run) -> None:
    served, data_dir, workflow, result = hostile_run
    rows = {r["call_id"]: r for r in read(data_dir, "calls", workflow).to_pylist()}

    def rows_of(kind: str) -> list[tuple[dict, dict]]:
        calls = [parsed(c.body) for c in served if c.hostile == kind]
        assert calls, kind
        return [(call, rows[call["id"]]) for call in calls]

    for call, row in rows_of("lone_surrogate"):
        assert row["summary"] is None
        assert json.loads(row["extra_fields"])["summary"] == call["summary"]
    for _, row in rows_of("wrong_types"):
        assert row["end_time"] is None and row["is_automated"] is None
        extra = json.loads(row["extra_fields"])
        assert extra["end_time"] == 1788220000 and extra["is_automated"] == "yes"
        assert row["approver_email"] is None  # not an object: its JSON column keeps it as sent
        assert json.loads(row["approver_json"]) == "not an object"
    for call, row in rows_of("huge_string"):
        assert row["summary"] == call["summary"] and len(row["summary"]) == 200_000
    for call, row in rows_of("deep_nesting"):
        assert json.loads(row["extra_fields"])["nested_unknown"] == call["nested_unknown"]
    for call, row in rows_of("duplicate_keys"):
        assert row["summary"] == call["summary"] == "a second summary"  # the last one wins
    drift = checks_by_name(result)[("calls", "no_drift")]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    drifted = [c for c in served if c.hostile in {"lone_surrogate", "wrong_types", "deep_nesting"}]
    assert drift.metadata["extra_fields/rows_with_extra_fields"].value == len(drifted)
    assert checks_by_name(result)[("calls", "matches_contract")].passed


def test_the_tables_rebuilt_from_the_landing_alone_are_the_same(hostile_run, monkeypatch) -> None:
    served, data_dir, workflow, _ = hostile_run
    before = read(data_dir, "calls", workflow).sort_by("call_id")
    monkeypatch.setenv("STUUT_API_BASE_URL", "http://api.invalid")  # no API: the landing only
    monkeypatch.setenv("STUUT_API_TOKEN", "unused")
    with dg.instance_for_test() as instance:
        rebuilt = materialize(instance, data_dir, workflow, selection=TABLE_KEYS)
    assert rebuilt.success
    after = read(data_dir, "calls", workflow).sort_by("call_id")
    assert after == before
    assert after.num_rows + sum(not keyable(c.body) for c in served) == len(served)

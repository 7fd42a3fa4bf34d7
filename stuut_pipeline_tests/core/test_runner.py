"""`stuut_pipeline.runner`: in-process runs on the embedded simulator, against its records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import dagster as dg
import pytest

from stuut_pipeline import runner, settings
from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import InvalidWorkflowIdError
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator

SIM = SimulatorSettings(calls=120, workflows=2, seed=5)


@pytest.fixture
def sim(monkeypatch):
    monkeypatch.setenv("STUUT_SIM_CALLS", "120")
    monkeypatch.setenv("STUUT_SIM_WORKFLOWS", "2")
    monkeypatch.setenv("STUUT_SIM_SEED", "5")
    return embedded_simulator(SIM)


def _workflows(records: list[dict]) -> list[str]:
    return sorted({r["workflow"]["id"] for r in records if r.get("workflow")})


def _expected_rows(records: list[dict]) -> dict[str, int]:
    """Rows per table, from the raw JSON: a call, each classification, each task, each invoice."""
    classifications = [c for r in records for c in r.get("classifications") or []]
    return {
        "raw_calls": len(records),
        "calls": len(records),
        "call_classifications": len(classifications),
        "call_tasks": sum(len(c.get("tasks") or []) for c in classifications),
        "call_invoices": sum(len(r.get("invoices") or []) for r in records),
    }


def _week_start(record: dict) -> datetime:
    stamp = record.get("start_time") or record["created_at"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def test_run_one_workflow_matches_the_simulators_records(sim) -> None:
    workflow = _workflows(sim.store.records())[0]
    records = sim.store.records(workflow)
    lines: list[str] = []
    [outcome] = runner.run([workflow], out=lines.append)

    assert outcome.workflow_id == workflow and outcome.success and outcome.error is None
    for asset, rows in _expected_rows(records).items():
        assert outcome.rows[asset] == rows, asset
    weeks = [_week_start(r) for r in records]
    latest = max(weeks)
    assert outcome.rows["workflow_kpis"] == len(set(weeks))
    assert outcome.kpis["calls"] == weeks.count(latest)
    iso = latest.isocalendar()
    assert outcome.kpis["latest_week"] == f"{iso.year}-W{iso.week:02d}"
    assert outcome.checks and set(outcome.checks.values()) <= {"passed", "warn"}

    text = "\n".join(lines)
    assert f"{workflow}: ok; rows: " in text and f"calls={len(records)}" in text
    kpi_line = next(x for x in text.splitlines() if x.strip().startswith("KPIs"))
    assert f"KPIs {outcome.kpis['latest_week']} ({weeks.count(latest)} calls): connect " in kpi_line
    assert lines[0] == "registered 1 new workflow partitions"
    assert dg.DagsterInstance.get().get_dynamic_partitions("workflow") == [workflow]

    # The last line says where the reports are: a file:// URL of the index, which exists.
    assert lines[-2].startswith("outputs under ")
    assert lines[-1].startswith("reports: file://")
    url = urlsplit(lines[-1].removeprefix("reports: "))
    index = Path(url2pathname(url.path))
    assert index == settings.data_dir() / "reports" / "index" / "index.html"
    assert index.is_file() and workflow in index.read_text()


def test_a_failed_run_names_its_failed_steps(sim, monkeypatch) -> None:
    workflow = _workflows(sim.store.records())[1]
    build = wh.build_rollup

    def failing_kpis(con, rollup, *args, **kwargs):
        if rollup.name == "workflow_kpis":
            raise RuntimeError("boom in the KPI rollup")
        return build(con, rollup, *args, **kwargs)

    monkeypatch.setattr(wh, "build_rollup", failing_kpis)
    lines: list[str] = []
    [outcome] = runner.run([workflow], out=lines.append)

    assert not outcome.success and outcome.kpis == {}
    assert outcome.error.startswith("failed steps: workflow_kpis")
    assert "workflow_kpis" not in outcome.rows
    assert outcome.rows["calls"] == len(sim.store.records(workflow))
    line = runner.summary_line(outcome)
    assert line.startswith(f"{workflow}: FAILED (failed steps: workflow_kpis")
    assert "KPIs" not in line
    assert any(x.startswith(f"{workflow}: FAILED") for x in lines)


def test_summary_line_of_a_failed_outcome_lists_the_steps() -> None:
    outcome = runner.WorkflowOutcome(
        "otwfl_x",
        False,
        "run-1",
        rows={"raw_calls": 3},
        checks={"a:b": "passed", "c:d": "error"},
        error="failed steps: ingest_calls, workflow_kpis",
    )
    assert runner.summary_line(outcome) == (
        "otwfl_x: FAILED (failed steps: ingest_calls, workflow_kpis); rows: raw_calls=3;"
        " checks: 1 passed, 0 warn, 1 failed; run run-1"
    )


def test_an_invalid_id_is_refused_before_anything_runs(sim, monkeypatch) -> None:
    def must_not_run(*args, **kwargs):
        raise AssertionError("nothing should run")

    monkeypatch.setattr(runner, "add_partitions", must_not_run)
    lines: list[str] = []
    with pytest.raises(InvalidWorkflowIdError, match="invalid workflow id '../etc'"):
        runner.run(["otwfl_ok", "../etc"], out=lines.append)
    assert lines == []
    assert dg.DagsterInstance.get().get_dynamic_partitions("workflow") == []
    assert dg.DagsterInstance.get().get_runs() == []


def test_discover_workflow_ids_finds_the_records_workflows(sim) -> None:
    records = sim.store.records()
    lines: list[str] = []
    assert runner.discover_workflow_ids(lines.append) == _workflows(records)
    without = sum(1 for r in records if not r.get("workflow"))
    assert len(lines) == 1
    assert lines[0].startswith(f"discovered 2 workflows in {len(records)} calls (")
    assert lines[0].endswith(f"; {without} calls have no workflow and belong to no partition")

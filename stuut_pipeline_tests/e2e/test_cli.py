"""The `stuut-pipeline` command line, in-process, on a test instance and data dir."""

from __future__ import annotations

import dagster as dg
import pytest

from stuut_pipeline.cli import main
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator


@pytest.fixture
def small_sim(monkeypatch):
    settings = SimulatorSettings(calls=80, workflows=2, seed=3)
    monkeypatch.setenv("STUUT_SIM_CALLS", str(settings.calls))
    monkeypatch.setenv("STUUT_SIM_WORKFLOWS", str(settings.workflows))
    monkeypatch.setenv("STUUT_SIM_SEED", str(settings.seed))
    return embedded_simulator(settings)


def test_partitions_add_and_list(capsys) -> None:
    assert main(["partitions", "add", "otwfl_b", "otwfl_a", "otwfl_b"]) == 0
    assert "added 2" in capsys.readouterr().out
    assert main(["partitions", "add", "otwfl_a"]) == 0
    assert "added 0" in capsys.readouterr().out
    assert main(["partitions", "list"]) == 0
    assert capsys.readouterr().out.split() == ["otwfl_b", "otwfl_a"]


def test_partitions_add_refuses_an_invalid_id(capsys) -> None:
    assert main(["partitions", "add", "otwfl_ok", "../../etc"]) == 2
    assert "invalid workflow id '../../etc'" in capsys.readouterr().err
    assert dg.DagsterInstance.get().get_dynamic_partitions("workflow") == []


def test_run_one_workflow_through_dagster(small_sim, capsys, tmp_path) -> None:
    workflow = small_sim.store.workflow_ids()[1]
    assert main(["run", "--workflow", workflow]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith(workflow))
    assert f"calls={len(small_sim.store.ids(workflow))}" in line and "0 failed" in line
    assert "KPIs" in out and "connect" in out
    instance = dg.DagsterInstance.get()
    assert instance.get_dynamic_partitions("workflow") == [workflow]
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].tags["dagster/partition"] == workflow
    assert (tmp_path / "data" / "parquet" / "calls" / f"workflow_id={workflow}").is_dir()

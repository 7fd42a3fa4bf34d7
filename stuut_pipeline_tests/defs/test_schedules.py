"""The nightly schedule and the automation defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.schedules import nightly_pipeline_schedule
from stuut_pipeline.settings import automation_running


def evaluate(instance, when: datetime):
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        repository_def=defs().get_repository_def(),
    )
    return nightly_pipeline_schedule.evaluate_tick(context)


def test_no_partitions_yet_is_a_skip() -> None:
    with dg.instance_for_test() as instance:
        result = evaluate(instance, datetime(2026, 11, 27, 2, tzinfo=UTC))
        assert not result.run_requests
        assert "no workflow partitions" in result.skip_message


def test_one_run_per_workflow_keyed_by_date_and_partition() -> None:
    workflows = ["otwfl_b", "otwfl_a", "otwfl_c"]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", workflows)
        night = datetime(2026, 11, 27, 2, tzinfo=UTC)
        first = evaluate(instance, night).run_requests
        again = evaluate(instance, night).run_requests
        next_night = evaluate(instance, datetime(2026, 11, 28, 2, tzinfo=UTC)).run_requests
    assert sorted(r.partition_key for r in first) == sorted(workflows)
    assert [r.run_key for r in first] == [r.run_key for r in again]
    assert len({r.run_key for r in first}) == 3
    assert all("2026-11-27" in r.run_key and r.partition_key in r.run_key for r in first)
    assert not {r.run_key for r in first} & {r.run_key for r in next_night}


def test_schedule_targets_the_whole_graph_job() -> None:
    assert nightly_pipeline_schedule.job_name == PIPELINE_JOB_NAME
    assert nightly_pipeline_schedule.cron_schedule == "0 2 * * *"


@pytest.mark.parametrize(
    ("value", "running"), [(None, True), ("running", True), ("stopped", False)]
)
def test_automation_default(monkeypatch, value, running) -> None:
    if value is None:
        monkeypatch.delenv("STUUT_AUTOMATION_DEFAULT", raising=False)
    else:
        monkeypatch.setenv("STUUT_AUTOMATION_DEFAULT", value)
    assert automation_running() is running


def test_automation_default_refuses_nonsense(monkeypatch) -> None:
    monkeypatch.setenv("STUUT_AUTOMATION_DEFAULT", "sometimes")
    with pytest.raises(ValueError, match="running' or 'stopped"):
        automation_running()

"""The workflow discovery sensor, on a test instance against the in-process simulator."""

from __future__ import annotations

import json

import dagster as dg
import orjson
import pytest

from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.ingest.sensors import PAGES_PER_TICK, workflow_discovery_sensor
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator


@pytest.fixture
def sim_env(monkeypatch):
    settings = SimulatorSettings(calls=3 * 200 * PAGES_PER_TICK // 2, workflows=4, seed=21)
    monkeypatch.setenv("STUUT_SIM_CALLS", str(settings.calls))
    monkeypatch.setenv("STUUT_SIM_WORKFLOWS", str(settings.workflows))
    monkeypatch.setenv("STUUT_SIM_SEED", str(settings.seed))
    return embedded_simulator(settings)


def tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"stuut_api": StuutApiResource()}
    )
    return workflow_discovery_sensor(context)


def test_discovery_adds_new_workflows_with_a_bounded_scan(sim_env) -> None:
    pages_in_account = -(-len(sim_env.store) // 200)
    assert pages_in_account > PAGES_PER_TICK
    with dg.instance_for_test() as instance:
        seen: set[str] = set()
        cursors = []
        cursor = None
        for _ in range(2):
            before = sim_env.requests
            result = tick(instance, cursor)
            assert sim_env.requests - before <= PAGES_PER_TICK
            added = {k for r in result.dynamic_partitions_requests for k in r.partition_keys}
            assert not added & seen
            assert {r.partition_key for r in result.run_requests} == added
            seen |= added
            instance.add_dynamic_partitions("workflow", sorted(added))
            cursor = result.cursor
            cursors.append(json.loads(cursor)["next_page"])
        # first tick stops at its page budget, the second reaches the end and wraps to page 0
        assert cursors == [PAGES_PER_TICK, 0]
        assert seen == set(sim_env.store.workflow_ids())
        result = tick(instance, cursor)
        assert not result.dynamic_partitions_requests and not result.run_requests
        assert "0 new" in str(result.skip_reason)


def test_calls_without_workflow_are_counted(sim_env) -> None:
    with dg.instance_for_test() as instance:
        result = tick(instance)
        state = json.loads(result.cursor)
        newest_first = sorted(
            sim_env.store.records(), key=lambda c: (c["created_at"], c["id"]), reverse=True
        )
        first_pages = newest_first[: 200 * PAGES_PER_TICK]
        assert state["calls_without_workflow"] == sum(1 for c in first_pages if not c["workflow"])


def test_ids_listed_by_hand_are_added_and_invalid_ones_refused(sim_env, monkeypatch) -> None:
    monkeypatch.setenv("STUUT_WORKFLOW_IDS", "otwfl_manual-1, ../../etc ,bad id")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", sim_env.store.workflow_ids())
        result = tick(instance)
        added = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
        assert added == ["otwfl_manual-1"]
        # once nothing is new, the tick's skip reason names the refused ids
        instance.add_dynamic_partitions("workflow", added)
        again = tick(instance)
        assert not again.dynamic_partitions_requests
        assert (
            "'../../etc'" in again.skip_reason.skip_message
            and "'bad id'" in again.skip_reason.skip_message
        )


def test_invalid_ids_in_the_data_never_become_partitions(monkeypatch) -> None:
    from stuut_pipeline.stuut_api import StuutClient

    calls = [
        {"id": "c1", "workflow": {"id": "otwfl_ok", "name": "ok"}},
        {"id": "c2", "workflow": {"id": "../evil", "name": "evil"}},
        {"id": "c3", "workflow": {"id": "x" * 200}},
        {"id": "c4", "workflow": None},
    ]
    import httpx

    body = orjson.dumps({"data": calls, "current_page": 0, "total_records": 4, "next_page": None})

    class FakeApi(StuutApiResource):
        def client(self) -> StuutClient:
            return StuutClient(
                "http://x.invalid",
                "t",
                transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body)),
            )

    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"stuut_api": FakeApi()})
        result = workflow_discovery_sensor(context)
        added = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
        assert added == ["otwfl_ok"]
        assert json.loads(result.cursor)["calls_without_workflow"] == 1
        instance.add_dynamic_partitions("workflow", added)
        again = workflow_discovery_sensor(context)
        assert not again.dynamic_partitions_requests
        assert "refused invalid workflow ids" in again.skip_reason.skip_message
        assert (
            "'../evil'" in again.skip_reason.skip_message
            and "'" + "x" * 40 in again.skip_reason.skip_message  # shortened
        )

"""Workflow discovery reads only `workflow` off each call: a call with no usable id, a lone
surrogate escape or odd other fields still tells its workflow, and a record that is not an
object is counted, never a crash (the discovery of `stuut-pipeline run`, of the sensor, smoke)."""

from __future__ import annotations

import json

import msgspec

from stuut_pipeline.simulator import FaultConfig, SimulatorTransport
from stuut_pipeline.simulator.store import CallFilter
from stuut_pipeline.stuut_api import StuutClient
from stuut_pipeline.stuut_api.discovery import scan_workflows

from .. import factories


def test_hostile_calls_still_tell_their_workflow() -> None:
    sim = factories.simulator(
        calls=700, workflows=3, seed=5, faults=FaultConfig(hostile_fraction=0.15)
    )
    stored = sim.store.select(CallFilter())
    assert {c.hostile for c in stored} - {None}  # every kind of hostile call is served
    served = [json.loads(c.body) for c in stored]  # Python's json reads them all
    expected = {c["workflow"]["id"] for c in served if c.get("workflow")}
    with StuutClient(
        "http://sim.invalid", factories.TOKEN, transport=SimulatorTransport(sim)
    ) as client:
        scan = scan_workflows(client)
    assert set(scan.workflows) == expected
    assert scan.calls_scanned == len(served)
    assert scan.calls_without_workflow == sum(1 for c in served if not c.get("workflow"))
    assert scan.calls_unreadable == 0


class _OnePage:
    """A client whose only page holds `records` (raw JSON)."""

    def __init__(self, records: list[bytes]) -> None:
        self.records = [msgspec.Raw(r) for r in records]

    def get_page(self, query, page):
        return len(self.records), self.records if page == 0 else [], None


def test_records_whose_workflow_cannot_be_read_are_counted() -> None:
    scan = scan_workflows(
        _OnePage(
            [
                b'{"id": null, "workflow": {"id": "otwfl_a", "name": "A \\ud800"}}',
                b"[1, 2, 3]",
                b'{"id": "call_2", "workflow": "otwfl_b"}',
                b'{"id": "call_3", "workflow": {"id": "../etc", "name": null}}',
                b'{"id": "call_4"}',
                b'{"id": "call_5", "workflow": {"id": "otwfl_c", "name": 7}}',
            ]
        )
    )
    assert scan.workflows == {"otwfl_a": "A \ufffd", "otwfl_c": None}
    assert scan.calls_unreadable == 2
    assert scan.invalid_ids == {"'../etc'": 1}
    assert scan.calls_without_workflow == 1
    assert scan.calls_scanned == 6

"""The simulator's `hostile_fraction` switch: which calls are hostile (by seed and index), and
what each kind of hostile JSON really is when read by Python's own json module."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stuut_pipeline.cli import build_parser
from stuut_pipeline.simulator import FaultConfig
from stuut_pipeline.simulator.hostile import KINDS, hostile_kind
from stuut_pipeline.simulator.store import CallFilter

from .. import factories

TOKEN = factories.TOKEN


@pytest.fixture(scope="module")
def hostile_sim():
    return factories.simulator(
        calls=700, workflows=2, seed=5, faults=FaultConfig(hostile_fraction=0.1)
    )


def depth(value: object) -> int:
    return 1 + max(map(depth, value.values()), default=0) if isinstance(value, dict) else 0


def test_the_hostile_calls_are_about_the_fraction_and_reproducible(hostile_sim) -> None:
    kinds = Counter(c.hostile for c in hostile_sim.store.select(CallFilter()))
    hostile = sum(n for kind, n in kinds.items() if kind)
    assert 0.06 * 700 <= hostile <= 0.14 * 700
    assert set(kinds) - {None} == set(KINDS)
    again = factories.simulator(
        calls=700, workflows=2, seed=5, faults=FaultConfig(hostile_fraction=0.1)
    )
    assert [c.body for c in again.store.select(CallFilter())] == [
        c.body for c in hostile_sim.store.select(CallFilter())
    ]
    other_seed = [hostile_kind(6, i, 0.1) for i in range(700)]
    assert other_seed != [hostile_kind(5, i, 0.1) for i in range(700)]
    assert not any(hostile_kind(5, i, 0.0) for i in range(700))


def test_each_kind_is_what_it_says(hostile_sim) -> None:
    calls = hostile_sim.store.select(CallFilter())
    clean = {
        c.id: c
        for c in factories.simulator(calls=700, workflows=2, seed=5).store.select(CallFilter())
    }
    for stored in calls:
        if not stored.hostile:
            assert stored.body == clean[stored.id].body
            continue
        record = json.loads(stored.body)
        original = json.loads(clean[stored.id].body)
        kind = stored.hostile
        if kind == "lone_surrogate":
            assert rb"\ud800" in stored.body and record["summary"].endswith("\ud800")
        elif kind == "missing_id":
            assert "id" not in record
        elif kind == "null_id":
            assert record["id"] is None
        elif kind == "wrong_types":
            assert isinstance(record["end_time"], int)
            assert isinstance(record["is_automated"], str) and isinstance(record["approver"], str)
        elif kind == "huge_string":
            assert len(record["summary"]) == 200_000
        elif kind == "deep_nesting":
            assert depth(record["nested_unknown"]) == 200
        elif kind == "duplicate_keys":
            assert stored.body.count(b'"summary":') == 2
            assert record["summary"] == "a second summary"  # what Python keeps: the last
        if kind not in {"missing_id", "null_id"}:
            assert record["id"] == original["id"] == stored.id


def test_a_served_page_carries_the_hostile_bytes(hostile_sim) -> None:
    stored = next(
        c for c in hostile_sim.store.select(CallFilter()) if c.hostile == "lone_surrogate"
    )
    page = 0
    while True:
        answer = hostile_sim.handle(
            "GET",
            "/v1/calls",
            [("page", str(page)), ("limit", "100")],
            {"authorization": f"Bearer {TOKEN}"},
        )
        if stored.body in answer.body:
            break
        page += 1
        assert json.loads(answer.body)["next_page"] is not None


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_the_fraction_is_checked(fraction) -> None:
    with pytest.raises(ValueError, match="hostile_fraction"):
        FaultConfig(hostile_fraction=fraction)


def test_the_serve_command_takes_the_switch() -> None:
    args = build_parser().parse_args(["simulator", "serve", "--hostile-fraction", "0.05"])
    assert args.hostile_fraction == 0.05


def test_records_reads_hostile_bodies_too(hostile_sim) -> None:
    records = hostile_sim.store.records()
    assert len(records) == 700
    assert sum(
        isinstance(r.get("summary"), str) and r["summary"].endswith("\ud800") for r in records
    ) == sum(c.hostile == "lone_surrogate" for c in hostile_sim.store.select(CallFilter()))

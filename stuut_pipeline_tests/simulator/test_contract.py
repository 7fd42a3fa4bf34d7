"""Contract test of the call generator against the documented shape (docs/stuut-api/list-calls.txt).

The shape is parsed from the reference page's JSON response example (see `reference_shape.py`),
never typed by hand; generated calls must match it at every nesting level.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from stuut_pipeline.simulator.generator import (
    DISCONNECTION_REASONS,
    DRIFT_CALL_FIELD,
    DRIFT_CLASSIFICATION,
    DRIFT_CLASSIFICATION_FIELD,
    DRIFT_INVOICE_FIELD,
    DRIFT_SENTIMENT,
    NOT_CONNECTED_REASONS,
    STRING_AMOUNT_FIELDS,
    CallGenerator,
)
from stuut_pipeline_tests.reference_shape import (
    DATETIME,
    LIST,
    NULL,
    OBJECT,
    Node,
    ShapeReport,
    check_record,
    documented_enums,
    iter_paths,
    load_reference_call,
    load_reference_response,
    reference_shape,
)

from .. import factories
from ..api_page import REPO_ROOT

SAMPLE_SIZE = 300
ROOT = REPO_ROOT
# call path of each enum query parameter documented on the page
ENUM_PATHS = {
    "sentiment": "$.sentiment",
    "direction": "$.direction",
    "classification": "$.classifications[].classification",
}
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def shape() -> Node:
    return reference_shape()


@pytest.fixture(scope="module")
def generator() -> CallGenerator:
    return factories.generator(seed=7)


@pytest.fixture(scope="module")
def calls(generator: CallGenerator) -> list[dict]:
    # decoded from the JSON as served, so tests see what a client sees
    return [orjson.loads(generator.call_json(i)) for i in range(SAMPLE_SIZE)]


@pytest.fixture(scope="module")
def report(shape: Node, calls: list[dict]) -> ShapeReport:
    rep = ShapeReport()
    for call in calls:
        check_record(shape, call, rep)
    return rep


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def _walk(value: object, path: str = "$"):
    """Yield (path, value) for every value of a JSON tree."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, f"{path}[]")


def _num(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- the reference itself


def test_reference_page_parses_to_the_full_call_shape(shape: Node) -> None:
    response = load_reference_response()
    assert set(response) == {"data", "current_page", "total_records", "next_page"}
    call = load_reference_call()
    for key in ("id", "partner", "invoices", "classifications", "transcript", "workflow"):
        assert key in call
    paths = dict(iter_paths(shape))
    assert len(paths) > 1000  # the page documents ~1180 paths
    assert paths["$.invoices[].partner.contacts[].addresses[].is_primary"].kind != NULL
    assert paths["$.classifications[].tasks[].trigger_event.timestamp"].kind == DATETIME
    assert paths["$.invoices"].kind == LIST and paths["$.workflow"].kind == OBJECT
    enums = documented_enums()
    assert enums["sentiment"] == ("positive", "negative", "neutral", "unknown")
    assert enums["direction"] == ("inbound", "outbound")
    assert len(enums["classification"]) == 15 and "payment_promise" in enums["classification"]


def test_checker_detects_each_kind_of_violation(shape: Node, calls: list[dict]) -> None:
    base = next(c for c in calls if c["invoices"] and c["classifications"] and c["workflow"])
    bad = copy.deepcopy(base)
    del bad["invoices"][0]["partner"]["contacts"][0]["address"]["city"]
    bad["classifications"][0]["agent_confidence_score"] = "90"
    bad["in_voicemail"] = 0
    bad["created_at"] = "2026-09-14 13:02:11"
    bad["invoices"][0]["promised_to_pay_date"] = "2026-09-14T00:00:00Z"
    bad["workflow"]["active_days"] = 5
    bad["surprise"] = 1
    rep = ShapeReport()
    check_record(shape, bad, rep)
    errors = "\n".join(rep.errors)
    assert "$.invoices[].partner.contacts[].address.city: missing" in errors
    assert "$.classifications[].agent_confidence_score: expected number" in errors
    assert "$.in_voicemail: expected bool" in errors
    assert "$.created_at: expected datetime" in errors
    assert "$.invoices[].promised_to_pay_date: expected date" in errors
    assert "$.workflow.active_days: expected list" in errors
    assert rep.extra_keys == ["$.surprise"]
    all_null = ShapeReport()
    check_record(shape, {k: None for k in base}, all_null)
    assert not all_null.errors
    assert "$.id" in all_null.unseen(shape) and "$.workflow.name" in all_null.unseen(shape)


# -------------------------------------------------------------------------- shape and types


def test_every_documented_key_present_with_documented_type(report: ShapeReport) -> None:
    assert report.records == SAMPLE_SIZE
    assert report.errors == [], "\n".join(report.errors[:30])


def test_no_undocumented_keys_in_default_mode(report: ShapeReport) -> None:
    assert sorted(set(report.extra_keys)) == []


def test_every_documented_path_has_a_non_null_value(report: ShapeReport, shape: Node) -> None:
    unseen = report.unseen(shape)
    assert unseen == [], f"{len(unseen)} documented paths never non-null: {unseen[:20]}"


def test_enum_fields_take_documented_values(report: ShapeReport) -> None:
    enums = documented_enums()
    for param, path in ENUM_PATHS.items():
        seen = report.values.get(path, Counter())
        assert seen, path
        assert set(seen) <= set(enums[param]), (path, set(seen) - set(enums[param]))
    assert set(report.values["$.sentiment"]) == set(enums["sentiment"])
    assert set(report.values["$.direction"]) == set(enums["direction"])
    assert len(report.values["$.classifications[].classification"]) >= 12


def test_values_are_realistic_not_placeholders(calls: list[dict]) -> None:
    for call in calls:
        for path, value in _walk(call):
            if isinstance(value, str):
                assert value not in ("<string>", "<unknown>", "<array>"), path
            if path.endswith(".participants[]"):
                assert "@" in value, (path, value)
            if path.endswith(".currency") and isinstance(value, str):
                assert re.fullmatch(r"[A-Z]{3}", value), (path, value)
            if path.endswith(".timezone") and isinstance(value, str):
                assert "/" in value, (path, value)


def test_unicode_names_appear(calls: list[dict]) -> None:
    names = {c["partner"]["name"] for c in calls}
    names |= {ct["name"] for c in calls for ct in c["partner"]["contacts"]}
    assert any(not n.isascii() for n in names)
    assert orjson.loads(orjson.dumps(calls[0])) == calls[0]


# ------------------------------------------------------------------------------- determinism


def test_deterministic_and_order_independent() -> None:
    a = factories.generator(seed=3)
    b = factories.generator(seed=3)
    forward = [a.call_json(i) for i in range(40)]
    backward = [b.call_json(i) for i in reversed(range(40))][::-1]
    assert forward == backward
    assert a.call_json(17) == forward[17]  # repeated calls too
    other = factories.generator(seed=4)
    assert all(other.call_json(i) != forward[i] for i in range(40))
    assert a.workflow_ids() != other.workflow_ids()


def test_deterministic_across_processes() -> None:
    """Same bytes in processes with different string-hash salts (no `hash()` of strings)."""
    code = (
        "import hashlib\n"
        "from stuut_pipeline_tests import factories\n"
        "g = factories.generator(seed=11, schema_drift_share=0.3)\n"
        "print(hashlib.sha256(b''.join(g.call_json(i) for i in range(25))).hexdigest())\n"
    )
    local = factories.generator(seed=11, schema_drift_share=0.3)
    expected = hashlib.sha256(b"".join(local.call_json(i) for i in range(25))).hexdigest()
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected


# ----------------------------------------------------------------------- ids and references


def test_ids_unique_and_prefixed(calls: list[dict], generator: CallGenerator) -> None:
    call_ids = [c["id"] for c in calls]
    assert len(set(call_ids)) == len(call_ids)
    assert all(i.startswith("call_") and _ID_RE.match(i) for i in call_ids)
    assert [generator.index_of(i) for i in call_ids] == list(range(SAMPLE_SIZE))
    assert generator.index_of("call_nope") is None
    task_ids = [t["id"] for c in calls for cl in c["classifications"] for t in cl["tasks"]]
    assert task_ids and len(set(task_ids)) == len(task_ids)
    assert all(t.startswith("task_") for t in task_ids)
    wf_ids = generator.workflow_ids()
    assert len(wf_ids) == 3 and len(set(wf_ids)) == 3
    assert all(w.startswith("otwfl_") and _ID_RE.match(w) for w in wf_ids)
    for c in calls:
        assert c["partner"]["id"].startswith("ptn_")
        assert all(inv["id"].startswith("inv_") for inv in c["invoices"])
        if c["approver"]:
            assert c["approver"]["id"].startswith("usr_")
        # no invoice twice in one call
        assert len({inv["id"] for inv in c["invoices"]}) == len(c["invoices"])
    partners = {c["partner"]["id"] for c in calls}
    assert 10 <= len(partners) <= 40


def test_referential_facts(calls: list[dict], generator: CallGenerator) -> None:
    wf_ids = set(generator.workflow_ids())
    assert {w["id"] for w in generator.workflows} == wf_ids
    partner_ids = set(generator.partner_ids())
    for c in calls:
        assert c["partner_id"] == c["partner"]["id"]
        assert c["partner_id"] in partner_ids
        assert {i["id"] for i in c["invoices"]} <= set(generator.invoice_ids(c["partner_id"]))
        assert c["approver_id"] == (c["approver"]["id"] if c["approver"] else None)
        if c["workflow"] is not None:
            assert c["workflow"]["id"] in wf_ids
        for inv in c["invoices"]:
            assert inv["partner_id"] == c["partner_id"] == inv["partner"]["id"]
            # the same partner object: every field of call.partner is equal in invoice.partner
            assert {k: inv["partner"][k] for k in c["partner"]} == c["partner"]
            assert c["id"] in inv["calls"]
            assert all(li["invoice_id"] == inv["id"] for li in inv["line_items"])
            assert all(p["invoice_id"] == inv["id"] for p in inv["payments"])
            assert all(p["payment_id"] == p["payment"]["id"] for p in inv["payments"])
        for contact in c["partner"]["contacts"]:
            assert contact["partner_id"] == c["partner_id"]
        for cl in c["classifications"]:
            for t in cl["tasks"]:
                assert t["assignee_id"] == (t["assignee"]["id"] if t["assignee"] else None)
                assert t["trigger_event_id"] == t["trigger_event"]["id"]
                assert t["trigger_event"]["entity_id"] == c["id"]
                assert all(d["task_id"] == t["id"] for d in t["data"])


def test_classification_order_and_values(calls: list[dict]) -> None:
    multi = 0
    for c in calls:
        labels = [cl["classification"] for cl in c["classifications"]]
        assert len(labels) == len(set(labels)) <= 3
        scores = [cl["agent_confidence_score"] for cl in c["classifications"]]
        assert scores == sorted(scores, reverse=True)  # the first one is the primary label
        assert all(0 <= s <= 100 for s in scores)
        assert all(len(cl["tasks"]) <= 2 for cl in c["classifications"])
        multi += len(labels) > 1
    assert multi > 0
    counts = Counter(len(c["classifications"]) for c in calls)
    assert counts[0] and counts[1] and counts[3]


# ------------------------------------------------------------------------- values and times


def test_timestamps_are_ordered(calls: list[dict], generator: CallGenerator) -> None:
    epoch = generator.config.epoch
    for c in calls:
        created, start, end = (
            _parse(c["created_at"]),
            _parse(c["start_time"]),
            _parse(c["end_time"]),
        )
        assert epoch - timedelta(hours=1) <= created <= start <= end
        assert _parse(c["modified_at"]) >= created
        for cl in c["classifications"]:
            assert _parse(cl["modified_at"]) >= _parse(cl["created_at"]) >= end
        for inv in c["invoices"]:
            assert _parse(inv["due_date"]) >= _parse(inv["issued_at"])
    created = [_parse(c["created_at"]) for c in calls]
    assert all(created[i] < created[i + 10] for i in range(len(created) - 10))


def test_created_at_spreads_over_the_span() -> None:
    gen = factories.generator(span_days=60, span_calls=1000)
    first = _parse(gen.call(0)["created_at"])
    last = _parse(gen.call(999)["created_at"])
    assert timedelta(days=59) <= last - first <= timedelta(days=61)
    assert gen.default_created_at(500) == gen.config.epoch + timedelta(days=30)


def test_amounts_are_consistent(calls: list[dict]) -> None:
    n = 0
    for c in calls:
        for inv in c["invoices"]:
            n += 1
            total, due, paid = inv["total_amount"], inv["amount_due"], inv["amount_paid"]
            assert all(isinstance(x, int | float) for x in (total, due, paid))
            assert 0 <= due <= total
            assert paid == pytest.approx(total - due, abs=0.005)
            assert sum(p["amount"] for p in inv["payments"]) == pytest.approx(paid, abs=0.005)
            assert inv["total_amount"] == pytest.approx(
                inv["subtotal"] - inv["total_discount"] + inv["total_tax"], abs=0.005
            )
            lines = sum(li["total_amount"] for li in inv["line_items"])
            assert lines == pytest.approx(total, abs=0.01 * len(inv["line_items"]))
    assert n > 100


def test_disconnection_and_voicemail(calls: list[dict]) -> None:
    reasons = Counter(c["disconnection_reason"] for c in calls)
    assert set(reasons) <= set(DISCONNECTION_REASONS)
    assert reasons["voicemail_reached"] > 0 and reasons["dial_no_answer"] > 0
    connected = sum(v for k, v in reasons.items() if k not in NOT_CONNECTED_REASONS)
    assert connected / len(calls) > 0.7
    for c in calls:
        assert c["in_voicemail"] == (c["disconnection_reason"] == "voicemail_reached")
        if c["disconnection_reason"] in NOT_CONNECTED_REASONS:
            assert c["transcript"] is None and not c["transcript_str"]
            assert c["sentiment"] == "unknown"
        assert (c["transferred_to"] is not None) == (c["disconnection_reason"] == "call_transfer")


def test_transcript_forms(calls: list[dict]) -> None:
    forms = Counter(type(c["transcript"]).__name__ for c in calls)
    assert forms["str"] and forms["list"] and forms["NoneType"]
    for c in calls:
        t = c["transcript"]
        if isinstance(t, str):
            assert t == c["transcript_str"] and t
        elif isinstance(t, list):
            assert t and isinstance(c["transcript_str"], str)
            for turn in t:
                assert set(turn) == {"role", "content", "words"}
                assert turn["role"] in ("agent", "user")
                assert turn["content"] in c["transcript_str"]
                assert [w["word"] for w in turn["words"]] == turn["content"].split()
                assert all(w["start"] <= w["end"] for w in turn["words"])


def test_no_workflow_share() -> None:
    gen = factories.generator(seed=5)
    none = sum(gen.call(i)["workflow"] is None for i in range(2000))
    assert 15 <= none <= 70  # 2% of 2000 = 40
    half = factories.generator(seed=5, no_workflow_share=0.5)
    none = sum(half.call(i)["workflow"] is None for i in range(400))
    assert 150 <= none <= 250


def test_overrides(generator: CallGenerator) -> None:
    wf = generator.workflow_ids()[2]
    base = generator.call(42)
    forced = generator.call(42, workflow_id=wf)
    assert forced["workflow"]["id"] == wf
    assert forced["partner_id"] == base["partner_id"] and forced["id"] == base["id"]
    assert generator.call(42, workflow_id=None)["workflow"] is None
    with pytest.raises(ValueError):
        generator.call(42, workflow_id="otwfl_missing")
    when = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)
    moved = generator.call(42, created_at=when)
    assert moved["created_at"] == "2026-12-24T18:30:00Z"
    assert when <= _parse(moved["start_time"]) <= _parse(moved["end_time"])
    assert moved["partner_id"] == base["partner_id"]
    assert generator.call(42) == base  # overrides leave no trace


# ----------------------------------------------------------------------- fault injection


def test_schema_drift(shape: Node, calls: list[dict]) -> None:
    n = 400
    drift_gen = factories.generator(seed=7, schema_drift_share=0.25)
    plain_gen = factories.generator(seed=7)
    drifted = 0
    for i in range(n):
        call = orjson.loads(drift_gen.call_json(i))
        rep = ShapeReport()
        check_record(shape, call, rep)
        if not drift_gen.is_drift(i):
            assert rep.errors == [] and rep.extra_keys == []
            assert orjson.dumps(call) == plain_gen.call_json(i)
            assert DRIFT_CALL_FIELD not in call
            continue
        drifted += 1
        assert rep.errors == []  # drift adds keys and values, it does not break types
        assert call["sentiment"] == DRIFT_SENTIMENT
        assert isinstance(call[DRIFT_CALL_FIELD], int)
        assert sum(cl["classification"] == DRIFT_CLASSIFICATION for cl in call["classifications"])
        assert sum(DRIFT_CLASSIFICATION_FIELD in cl for cl in call["classifications"]) == 1
        assert sum(DRIFT_INVOICE_FIELD in inv for inv in call["invoices"]) == 1
        assert set(rep.extra_keys) == {
            f"$.{DRIFT_CALL_FIELD}",
            f"$.classifications[].{DRIFT_CLASSIFICATION_FIELD}",
            f"$.invoices[].{DRIFT_INVOICE_FIELD}",
        }
        enums = documented_enums()
        assert call["sentiment"] not in enums["sentiment"]
        assert DRIFT_CLASSIFICATION not in enums["classification"]
    assert 0.15 * n <= drifted <= 0.35 * n
    assert sum(DRIFT_CALL_FIELD in c for c in calls) == 0


def test_string_amounts() -> None:
    gen = factories.generator(seed=9, string_amount_share=0.5)
    plain = factories.generator(seed=9)
    as_str = as_num = 0
    for i in range(300):
        call = orjson.loads(gen.call_json(i))
        ref = plain.call(i)
        for inv, ref_inv in zip(call["invoices"], ref["invoices"], strict=True):
            kinds = {type(inv[f]) for f in STRING_AMOUNT_FIELDS}
            assert len(kinds) == 1  # all amounts of an invoice have one representation
            if str in kinds:
                as_str += 1
                for f in STRING_AMOUNT_FIELDS:
                    assert re.fullmatch(r"\d+(\.\d{2})?", inv[f]), inv[f]
                    assert float(inv[f]) == pytest.approx(ref_inv[f], abs=0.001)
                assert float(inv["amount_paid"]) == pytest.approx(
                    float(inv["total_amount"]) - float(inv["amount_due"]), abs=0.005
                )
            else:
                as_num += 1
                assert all(inv[f] == ref_inv[f] for f in STRING_AMOUNT_FIELDS)
        assert {k: v for k, v in call.items() if k != "invoices"} == {
            k: v for k, v in orjson.loads(plain.call_json(i)).items() if k != "invoices"
        }
    assert as_str > 40 and as_num > 40
    assert 0.35 <= as_str / (as_str + as_num) <= 0.65


# ----------------------------------------------------------------------------------- size


def test_average_call_size(generator: CallGenerator) -> None:
    sizes = [len(generator.call_json(i)) for i in range(SAMPLE_SIZE)]
    avg = sum(sizes) / len(sizes)
    assert 20_000 <= avg <= 45_000, avg

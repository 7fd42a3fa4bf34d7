"""decode_call: fast path, drift (unknown keys, wrong types) and malformed records."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import orjson
import pytest

from stuut_pipeline.flatten.decode import (
    INVALID_VALUE,
    UNKNOWN_FIELD,
    MalformedRecordError,
    decode_call,
    decode_calls,
)

from .. import factories
from ..api_page import PAGE


def page_call() -> dict[str, Any]:
    text = PAGE.read_text()
    body, _ = json.JSONDecoder().raw_decode(text[text.index('{\n  "data"') :])
    call = body["data"][0]
    call["id"] = "call_page"
    return call


def test_page_example_decodes_on_the_fast_path() -> None:
    call = page_call()
    record = decode_call(orjson.dumps(call))
    assert record.id == "call_page"
    assert record.modified_at == "2023-11-07T05:31:56Z"
    assert record.drift is None and record.extras is None
    assert record.objects["approver"].email == "<string>"
    assert record.objects["workflow"].active_days == [123]
    assert record.objects["partner"].timezone == "Africa/Abidjan"
    invoice = record.call.invoices[0]
    assert bytes(invoice.amount_due) == b"123"  # money stays JSON text: parsed exactly later
    assert invoice.promised_to_pay_date == "2023-12-25"
    assert bytes(invoice.partner).startswith(b"{")  # deep objects stay raw JSON
    task = record.call.classifications[0].tasks[0]
    assert task.status == "open" and isinstance(task.assignee, msgspec.Raw)


@pytest.mark.parametrize("wrap", [bytes, memoryview, msgspec.Raw, bytearray])
def test_accepts_bytes_memoryview_and_raw(wrap: Any) -> None:
    record = decode_call(wrap(orjson.dumps(page_call())))
    assert record.id == "call_page"


def test_generator_records_decode_with_drift_exactly_where_injected() -> None:
    gen = factories.generator(seed=3, schema_drift_share=0.3)
    for i in range(150):
        record = decode_call(gen.call_json(i), i)
        assert record.id == gen.call_id(i)
        if gen.is_drift(i):
            assert record.drift is not None
            paths = {p for kind, p in record.drift if kind == UNKNOWN_FIELD}
            assert paths == {
                "escalation_level",
                "classifications[].sub_label",
                "invoices[].collection_stage",
            }
        else:
            assert record.drift is None


def _with(call: dict, mutate) -> bytes:
    call = copy.deepcopy(call)
    mutate(call)
    return orjson.dumps(call)


def _set(path: list[Any], key: str, value: Any):
    def mutate(call: dict) -> None:
        target = call
        for step in path:
            target = target[step]
        target[key] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "row_key", "extras_key", "drift_path"),
    [
        ([], ("calls", ()), "new_key", "new_key"),
        (["approver"], ("calls", ()), "approver.new_key", "approver.new_key"),
        (["workflow"], ("calls", ()), "workflow.new_key", "workflow.new_key"),
        (["partner"], ("calls", ()), "partner.new_key", "partner.new_key"),
        (
            ["classifications", 0],
            ("call_classifications", (0,)),
            "new_key",
            "classifications[].new_key",
        ),
        (
            ["classifications", 0, "tasks", 0],
            ("call_tasks", (0, 0)),
            "new_key",
            "classifications[].tasks[].new_key",
        ),
        (["invoices", 0], ("call_invoices", (0,)), "new_key", "invoices[].new_key"),
    ],
)
def test_unknown_key_at_every_checked_level_is_kept_and_reported(
    path: list[Any], row_key: tuple, extras_key: str, drift_path: str
) -> None:
    raw = _with(page_call(), _set(path, "new_key", {"a": [1, "x"]}))
    record = decode_call(raw)
    assert record.drift == [(UNKNOWN_FIELD, drift_path)]
    assert record.extras is not None
    assert bytes(record.extras[row_key][extras_key]) == b'{"a":[1,"x"]}'
    # everything documented is still decoded
    assert record.call.classifications[0].tasks[0].status == "open"
    assert record.objects["partner"].name == "<string>"


@pytest.mark.parametrize(
    ("path", "key", "value", "row_key", "drift_path"),
    [
        ([], "in_voicemail", "yes", ("calls", ()), "in_voicemail"),
        (["approver"], "email", 42, ("calls", ()), "approver.email"),
        (
            ["classifications", 0],
            "agent_confidence_score",
            {"v": 1},
            ("call_classifications", (0,)),
            "classifications[].agent_confidence_score",
        ),
        (
            ["classifications", 0, "tasks", 0],
            "status",
            5,
            ("call_tasks", (0, 0)),
            "classifications[].tasks[].status",
        ),
        (["invoices", 0], "in_dispute", "no", ("call_invoices", (0,)), "invoices[].in_dispute"),
    ],
)
def test_value_of_the_wrong_type_becomes_drift_not_a_crash(
    path: list[Any], key: str, value: Any, row_key: tuple, drift_path: str
) -> None:
    record = decode_call(_with(page_call(), _set(path, key, value)))
    assert record.drift == [(INVALID_VALUE, drift_path)]
    rel = drift_path.split(".")[-1] if path != ["approver"] else "approver.email"
    assert orjson.loads(bytes(record.extras[row_key][rel])) == value


def test_amounts_may_be_strings_and_enums_unknown_without_drift() -> None:
    def mutate(call: dict) -> None:
        call["invoices"][0]["amount_due"] = "1234.50"
        call["sentiment"] = "ecstatic"
        call["classifications"][0]["classification"] = "brand_new"

    record = decode_call(_with(page_call(), mutate))
    assert record.drift is None
    assert bytes(record.call.invoices[0].amount_due) == b'"1234.50"'
    assert record.call.sentiment == "ecstatic"


def test_non_object_list_item_keeps_the_indexes_of_the_others() -> None:
    def mutate(call: dict) -> None:
        call["classifications"] = ["oops", call["classifications"][0]]

    record = decode_call(_with(page_call(), mutate))
    assert record.call.classifications[0] is None
    assert record.call.classifications[1].classification == "payment_inquiry"
    assert record.drift == [(INVALID_VALUE, "classifications")]
    assert bytes(record.extras[("calls", ())]["classifications[0]"]) == b'"oops"'


def test_approver_that_is_not_an_object_is_reported() -> None:
    record = decode_call(_with(page_call(), _set([], "approver", "usr_1")))
    assert record.objects["approver"] is None
    assert bytes(record.call.approver) == b'"usr_1"'  # still reaches approver_json
    assert record.drift == [(INVALID_VALUE, "approver")]


def test_null_objects_and_lists() -> None:
    def mutate(call: dict) -> None:
        call.update(approver=None, workflow=None, classifications=None, invoices=None)

    record = decode_call(_with(page_call(), mutate))
    assert record.drift is None
    assert record.objects["approver"] is None and record.objects["workflow"] is None
    assert record.call.classifications is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'{"id": "call_x", "direction": ', "call"),
        (b"[1, 2]", "not a valid JSON object"),
        (b"{}", "no string `id`"),
        (b'{"id": 17, "object": "call"}', "got 17"),
        (b'{"id": "", "object": "call"}', "no string `id`"),
    ],
)
def test_malformed_records_raise_a_clear_error(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedRecordError, match="record #7") as info:
        decode_call(raw, 7)
    assert info.value.position == 7
    if message != "call":
        assert message in str(info.value)


def test_decode_calls_names_the_position() -> None:
    good = orjson.dumps(page_call())
    with pytest.raises(MalformedRecordError, match="record #2"):
        decode_calls([good, good, b"{"])
    assert [r.id for r in decode_calls([good, good])] == ["call_page", "call_page"]

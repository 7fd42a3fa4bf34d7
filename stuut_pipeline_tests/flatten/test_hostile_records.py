"""Hostile records: lone surrogate escapes, missing or wrong-typed ids."""

from __future__ import annotations

import orjson
import pytest

from stuut_pipeline.flatten import MalformedRecordError, decode_call, flatten_raw
from stuut_pipeline.flatten.decode import INVALID_VALUE

from .. import factories

GENERATOR = factories.generator(seed=41, n_workflows=1)
WORKFLOW = GENERATOR.workflow_ids()[0]


def call_with(summary_json: bytes) -> bytes:
    call = {**GENERATOR.call(0, workflow_id=WORKFLOW), "summary": "@@"}
    raw = orjson.dumps(call)
    assert raw.count(b'"@@"') == 1
    return raw.replace(b'"@@"', summary_json)


@pytest.mark.parametrize("escape", [rb'"hi\ud800"', rb'"\udc00 there"', rb'"\ud800\u0041"'])
def test_a_lone_surrogate_nulls_its_field_and_keeps_the_raw_value(escape) -> None:
    raw = call_with(escape)
    record = decode_call(raw)
    assert (INVALID_VALUE, "summary") in record.drift
    calls = flatten_raw([raw]).tables["calls"].to_pylist()
    (row,) = calls
    assert row["call_id"] == orjson.loads(call_with(b'"x"'))["id"]
    assert row["summary"] is None
    # the raw value exactly as received (its escape is ASCII, so the column stays valid UTF-8)
    assert row["extra_fields"] == '{"summary":' + escape.decode() + "}"


def test_a_valid_pair_and_an_escaped_backslash_are_text() -> None:
    row = flatten_raw([call_with(rb'"\ud83d\ude00 \\ud800"')]).tables["calls"].to_pylist()[0]
    assert row["summary"] == "\U0001f600 \\ud800"
    assert row["extra_fields"] is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"summary": "x"}',
        b'{"id": null, "summary": "x"}',
        b'{"id": 12, "summary": "x"}',
        b'{"id": "\\ud800", "summary": "x"}',
        b"[1, 2]",
        b'{"id": "a", ',
    ],
)
def test_a_record_without_a_string_id_is_malformed(raw) -> None:
    with pytest.raises(MalformedRecordError):
        decode_call(raw, 3)

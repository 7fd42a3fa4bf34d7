"""flatten_calls: row counts, exact schemas, values, string amounts, drift."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
import pyarrow as pa
import pytest

from stuut_pipeline.flatten.contract import TABLES, Column
from stuut_pipeline.flatten.decode import decode_call
from stuut_pipeline.flatten.flatten import FlatBatch, flatten_calls, flatten_raw
from stuut_pipeline.simulator.generator import (
    DRIFT_CALL_FIELD,
    DRIFT_CLASSIFICATION,
    DRIFT_CLASSIFICATION_FIELD,
    DRIFT_INVOICE_FIELD,
    DRIFT_SENTIMENT,
    STRING_AMOUNT_FIELDS,
)

from .. import factories
from .expected_sources import SOURCES

N = 300


@cache
def generated() -> tuple[list[dict], list[bytes], FlatBatch]:
    gen = factories.generator(seed=1, schema_drift_share=0.3, string_amount_share=0.3)
    calls = [gen.call(i) for i in range(N)]
    raws = [orjson.dumps(c) for c in calls]
    return calls, raws, flatten_raw(raws)


def rows_of(calls: list[dict], table: str) -> list[tuple[dict, dict, tuple[int, ...]]]:
    """(call, row object, indexes) of every row of `table`, computed from plain dicts."""
    out = []
    for call in calls:
        if table == "calls":
            out.append((call, call, ()))
        elif table == "call_classifications":
            out += [(call, c, (i,)) for i, c in enumerate(call["classifications"] or [])]
        elif table == "call_tasks":
            for i, c in enumerate(call["classifications"] or []):
                out += [(call, t, (i, j)) for j, t in enumerate(c["tasks"] or [])]
        else:
            out += [(call, inv, (i,)) for i, inv in enumerate(call["invoices"] or [])]
    return out


def test_row_counts_equal_the_generated_records() -> None:
    calls, _, batch = generated()
    for name in TABLES:
        assert batch[name].num_rows == len(rows_of(calls, name)), name
    assert batch.num_rows["calls"] == N
    assert batch["call_tasks"].num_rows > 0 and batch["call_invoices"].num_rows > 0


def test_tables_have_exactly_the_contract_schema() -> None:
    _, _, batch = generated()
    for name, table in TABLES.items():
        assert batch[name].schema.equals(table.arrow_schema(), check_metadata=True)


def _path_value(row: dict, call: dict, rel: str, table: str) -> Any:
    value: Any = call if table == "calls" else row
    for step in rel.split("."):
        if value is None:
            return None
        value = value.get(step)
    return value


def _expected(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "json":
        return value
    if col.kind == "text":
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if pa.types.is_timestamp(col.type):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    if pa.types.is_date(col.type):
        return date.fromisoformat(value)
    if pa.types.is_floating(col.type):
        return float(value)
    if pa.types.is_decimal(col.type):
        # a float's repr is the shortest text reading back to it: the digits the JSON carries
        return Decimal(value if isinstance(value, str) else repr(value))
    return value


@pytest.mark.parametrize("table", list(TABLES))
def test_every_sourced_column_holds_the_record_value(table: str) -> None:
    calls, _, batch = generated()
    contract = TABLES[table]
    prefix = contract.row_source + "." if contract.row_source else ""
    rows = rows_of(calls, table)
    data = batch[table].to_pydict()
    checked = 0
    for col in contract.columns:
        source = SOURCES[table][col.name]
        if source is None:
            continue
        rel = source.removeprefix(prefix)
        for i, (call, row, _) in enumerate(rows):
            got = data[col.name][i]
            want = _expected(col, _path_value(row, call, rel, table))
            if col.kind == "json":
                got = None if got is None else orjson.loads(got)
            assert got == want, (table, col.name, i)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("table", list(TABLES))
def test_keys_and_indexes(table: str) -> None:
    calls, _, batch = generated()
    rows = rows_of(calls, table)
    data = batch[table].to_pydict()
    assert data["call_id"] == [call["id"] for call, _, _ in rows]
    names = {
        "call_classifications": ["classification_index"],
        "call_tasks": ["classification_index", "task_index"],
        "call_invoices": ["invoice_index"],
    }.get(table, [])
    for pos, name in enumerate(names):
        assert data[name] == [ix[pos] for _, _, ix in rows]


def test_derived_call_columns() -> None:
    calls, _, batch = generated()
    data = batch["calls"].to_pydict()
    for i, call in enumerate(calls):
        start = datetime.fromisoformat(call["start_time"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(call["end_time"].replace("Z", "+00:00"))
        assert data["duration_seconds"][i] == (end - start).total_seconds()
        classes = call["classifications"] or []
        assert data["classification_count"][i] == len(classes)
        assert data["task_count"][i] == sum(len(c["tasks"] or []) for c in classes)
        assert data["invoice_count"][i] == len(call["invoices"] or [])
    per_class = batch["call_classifications"].to_pydict()["task_count"]
    assert per_class == [
        len(c["tasks"] or []) for _, c, _ in rows_of(calls, "call_classifications")
    ]


def test_string_amounts_become_the_same_numbers() -> None:
    calls, _, batch = generated()
    invoices = [inv for _, inv, _ in rows_of(calls, "call_invoices")]
    as_strings = [i for i, inv in enumerate(invoices) if isinstance(inv["amount_due"], str)]
    assert as_strings, "the generator sent no string amounts"
    data = batch["call_invoices"].to_pydict()
    for name in STRING_AMOUNT_FIELDS:
        assert batch["call_invoices"].schema.field(name).type == pa.decimal128(24, 6)
        for i in as_strings:
            assert data[name][i] == Decimal(invoices[i][name])
    assert not batch.drift.invalid_values


def test_generated_drift_lands_in_extra_fields_and_the_report() -> None:
    calls, _, batch = generated()
    drifted = [c for c in calls if DRIFT_CALL_FIELD in c]
    assert drifted
    report = batch.drift
    assert report.records_with_drift == len(drifted)
    assert report.unknown_fields == {
        DRIFT_CALL_FIELD: len(drifted),
        f"classifications[].{DRIFT_CLASSIFICATION_FIELD}": len(drifted),
        f"invoices[].{DRIFT_INVOICE_FIELD}": len(drifted),
    }
    assert report.unknown_enum_values["calls.sentiment"] == {DRIFT_SENTIMENT: len(drifted)}
    assert report.unknown_enum_values["call_classifications.classification"] == {
        DRIFT_CLASSIFICATION: sum(
            1
            for c in calls
            for k in c["classifications"] or []
            if k["classification"] == DRIFT_CLASSIFICATION
        )
    }
    extra = batch["calls"].to_pydict()["extra_fields"]
    for i, call in enumerate(calls):
        if DRIFT_CALL_FIELD in call:
            assert orjson.loads(extra[i]) == {DRIFT_CALL_FIELD: call[DRIFT_CALL_FIELD]}
        else:
            assert extra[i] is None
    for table, key in (
        ("call_classifications", DRIFT_CLASSIFICATION_FIELD),
        ("call_invoices", DRIFT_INVOICE_FIELD),
    ):
        extra = batch[table].to_pydict()["extra_fields"]
        for i, (_, row, _) in enumerate(rows_of(calls, table)):
            want = {key: row[key]} if key in row else None
            assert (orjson.loads(extra[i]) if extra[i] else None) == want


def _schema_ok(batch: FlatBatch) -> None:
    for name, table in TABLES.items():
        assert batch[name].schema.equals(table.arrow_schema(), check_metadata=True), name


def test_empty_batch_has_the_exact_schema() -> None:
    batch = flatten_calls([])
    _schema_ok(batch)
    assert all(n == 0 for n in batch.num_rows.values())
    assert batch.drift.is_empty


def test_all_null_columns_keep_the_exact_schema() -> None:
    nulls = [
        orjson.dumps({"id": f"call_{i}", "approver": None, "partner": None, "invoices": []})
        for i in range(3)
    ]
    batch = flatten_raw(nulls)
    _schema_ok(batch)
    calls = batch["calls"]
    assert calls.num_rows == 3
    assert calls.column("created_at").null_count == 3
    assert calls.column("duration_seconds").null_count == 3
    assert calls.column("partner_json").null_count == 3
    assert calls.to_pydict()["classification_count"] == [0, 0, 0]


def test_only_string_amounts_keep_the_exact_schema() -> None:
    gen = factories.generator(seed=2, string_amount_share=1.0)
    raws = [gen.call_json(i) for i in range(40)]
    batch = flatten_raw(raws)
    _schema_ok(batch)
    assert batch["call_invoices"].column("amount_due").null_count == 0


def test_unparseable_values_become_null_and_are_kept_in_extra_fields() -> None:
    gen = factories.generator(seed=4, max_invoices=3)
    call = next(
        c for c in (gen.call(i) for i in range(100)) if c["invoices"] and c["classifications"]
    )
    call = copy.deepcopy(call)
    call["created_at"] = "yesterday"
    call["start_time"] = "2026-09-01T10:00:00"  # naive: read as UTC
    call["invoices"][0]["amount_due"] = "12,50"
    call["invoices"][0]["promised_to_pay_date"] = "2026-13-45"
    batch = flatten_raw([orjson.dumps(call)])
    _schema_ok(batch)
    calls = batch["calls"].to_pylist()[0]
    assert calls["created_at"] is None
    assert calls["start_time"] == datetime(2026, 9, 1, 10, tzinfo=UTC)
    assert orjson.loads(calls["extra_fields"]) == {"created_at": "yesterday"}
    invoice = batch["call_invoices"].to_pylist()[0]
    assert invoice["amount_due"] is None and invoice["promised_to_pay_date"] is None
    assert orjson.loads(invoice["extra_fields"]) == {
        "amount_due": "12,50",
        "promised_to_pay_date": "2026-13-45",
    }
    assert batch.drift.invalid_values == {
        "created_at": 1,
        "invoices[].amount_due": 1,
        "invoices[].promised_to_pay_date": 1,
    }


def test_transcript_forms_and_recording_url() -> None:
    calls, _, batch = generated()
    data = batch["calls"].to_pydict()
    forms = set()
    for i, call in enumerate(calls):
        transcript = call["transcript"]
        forms.add(type(transcript).__name__)
        got = data["transcript_json"][i]
        assert (None if got is None else orjson.loads(got)) == transcript
        assert data["recording_url"][i] == call["recording_url"]
    assert forms == {"list", "str", "NoneType"}


def test_decoded_records_flatten_the_same_as_raw() -> None:
    _, raws, batch = generated()
    again = flatten_calls([decode_call(r) for r in raws[:50]])
    for name in TABLES:
        expected = batch[name]
        n = again[name].num_rows
        assert again[name].equals(expected.slice(0, n)), name


def test_json_columns_larger_than_a_chunk_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    from stuut_pipeline.flatten import flatten as flatten_module

    _, raws, batch = generated()
    monkeypatch.setattr(flatten_module, "_MAX_CHUNK_BYTES", 100_000)
    small = flatten_raw(raws[:40])
    _schema_ok(small)
    partner = small["calls"].column("partner_json")
    assert partner.num_chunks > 1
    for name in TABLES:
        assert small[name].equals(batch[name].slice(0, small[name].num_rows)), name


def test_timestamp_parsing_fallbacks() -> None:
    from stuut_pipeline.flatten.flatten import _parse_times

    ts = pa.timestamp("us", tz="UTC")
    values = [
        "2026-09-01T10:00:00Z",
        "2026-09-01T12:00:00+02:00",
        "2026-09-01T10:00:00",  # naive: UTC
        "2026-09-01T10:00:00.123456789Z",  # nanoseconds: truncated to us
        "9999-12-31T00:00:00Z",
        "not a time",
        None,
    ]
    got = _parse_times(values, ts).to_pylist()
    assert got[:3] == [datetime(2026, 9, 1, 10, tzinfo=UTC)] * 3
    assert got[3] == datetime(2026, 9, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert got[4] == datetime(9999, 12, 31, tzinfo=UTC)
    assert got[5:] == [None, None]
    dates = _parse_times(["2026-09-01", "2026-09-02T00:00:00Z", "x"], pa.date32()).to_pylist()
    assert dates == [date(2026, 9, 1), date(2026, 9, 2), None]

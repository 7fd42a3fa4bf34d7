"""Decoded call records -> the four typed Arrow tables of the contract, plus a drift report.

Columns are built one at a time from the decoded structs (no per-row dicts). Strings, booleans,
integers and lists go straight to Arrow; timestamps and dates are parsed by Arrow's ISO-8601 cast
(about 10x faster than `pd.to_datetime(format="ISO8601")`), with pandas as the tolerant fallback
for anything else (naive or odd timestamps, numbers sent as strings). Money (decimal columns)
goes from its JSON text (a number or a numeric string) to `Decimal` and Arrow's decimal exactly,
never through a float, and is never rounded. A value that fits no column type (for money: too
many decimals, too many digits, NaN, an infinity, a non-numeric string) becomes null, is kept as
received in the row's `extra_fields` and counted in the drift report. Every table
has exactly its contract schema, whatever the data.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .contract import TABLES, Column, TableContract, join_path, relative_path
from .decode import (
    NULL,
    ROOT,
    UNKNOWN_FIELD,
    CallRecord,
    decode_call,
    projection_decoder,
    value_type,
)

_encode = msgspec.json.encode


@dataclass
class DriftReport:
    """What in a batch did not fit the contract. Paths are from the call's root (`a[].b`).

    `unknown_fields`: keys the contract does not know, by path -> occurrences.
    `invalid_values`: values whose JSON type or text did not fit their column (they are null in
    the column and kept in `extra_fields`), by path -> occurrences.
    `unknown_enum_values`: "table.column" -> value outside the column's allowed values -> rows.
    `records_with_drift`: calls whose decoding met unknown keys or wrongly typed values.
    """

    unknown_fields: dict[str, int] = field(default_factory=dict)
    invalid_values: dict[str, int] = field(default_factory=dict)
    unknown_enum_values: dict[str, dict[str, int]] = field(default_factory=dict)
    records_with_drift: int = 0

    @property
    def is_empty(self) -> bool:
        """True when the batch matched the contract exactly."""
        return not (self.unknown_fields or self.invalid_values or self.unknown_enum_values)

    def merge(self, other: DriftReport) -> DriftReport:
        """Add `other`'s counts into this report (for a partition written in batches)."""
        for mine, theirs in (
            (self.unknown_fields, other.unknown_fields),
            (self.invalid_values, other.invalid_values),
        ):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n
        for col, counts in other.unknown_enum_values.items():
            mine_counts = self.unknown_enum_values.setdefault(col, {})
            for value, n in counts.items():
                mine_counts[value] = mine_counts.get(value, 0) + n
        self.records_with_drift += other.records_with_drift
        return self

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form (for Dagster metadata and logs)."""
        return {
            "unknown_fields": dict(sorted(self.unknown_fields.items())),
            "invalid_values": dict(sorted(self.invalid_values.items())),
            "unknown_enum_values": {
                k: dict(sorted(v.items())) for k, v in sorted(self.unknown_enum_values.items())
            },
            "records_with_drift": self.records_with_drift,
        }


@dataclass
class FlatBatch:
    """The four tables of one batch of calls (contract schemas) and the batch's drift."""

    tables: dict[str, pa.Table]
    drift: DriftReport

    def __getitem__(self, table: str) -> pa.Table:
        return self.tables[table]

    @property
    def num_rows(self) -> dict[str, int]:
        """Rows per table."""
        return {name: t.num_rows for name, t in self.tables.items()}


# --------------------------------------------------------------------------------------------
# Rows of each table
# --------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """The rows of one table: owning record index, list indexes, and the row's struct."""

    owners: list[int]
    indexes: list[tuple[int, ...]]
    structs: list[Any]


def _gather(records: Sequence[CallRecord], row_source: str) -> _Rows:
    if not row_source:
        return _Rows(list(range(len(records))), [()] * len(records), [r.call for r in records])
    steps = [s.removesuffix("[]") for s in row_source.split(".")]
    owners: list[int] = []
    indexes: list[tuple[int, ...]] = []
    structs: list[Any] = []

    def walk(k: int, obj: Any, depth: int, idx: tuple[int, ...]) -> None:
        items = getattr(obj, steps[depth])
        if not items:
            return
        last = depth == len(steps) - 1
        for i, item in enumerate(items):
            if item is None:  # not an object: reported by the decoder, no row
                continue
            if last:
                owners.append(k)
                indexes.append((*idx, i))
                structs.append(item)
            else:
                walk(k, item, depth + 1, (*idx, i))

    for k, record in enumerate(records):
        walk(k, record.call, 0, ())
    return _Rows(owners, indexes, structs)


class _Batch:
    """The records of one batch, with each table's rows and each root object list computed once."""

    def __init__(self, records: Sequence[CallRecord]) -> None:
        self.records = records
        self._rows: dict[str, _Rows] = {}
        self._objects: dict[str, list[Any]] = {}

    def rows(self, row_source: str) -> _Rows:
        if row_source not in self._rows:
            self._rows[row_source] = _gather(self.records, row_source)
        return self._rows[row_source]

    def objects(self, key: str) -> list[Any]:
        if key not in self._objects:
            self._objects[key] = [r.objects[key] for r in self.records]
        return self._objects[key]


# --------------------------------------------------------------------------------------------
# Column values
# --------------------------------------------------------------------------------------------


class _Invalid:
    """Per-table collector of values that fit no column: row -> {relative path: raw JSON}."""

    def __init__(self, table: TableContract) -> None:
        self.table = table
        self.by_row: dict[int, dict[str, msgspec.Raw]] = {}
        self.counts: Counter[str] = Counter()

    def add(self, row: int, rel: str, value: Any, *, keep: bool = True) -> None:
        if keep:
            raw = value if isinstance(value, msgspec.Raw) else msgspec.Raw(_encode(value))
            self.by_row.setdefault(row, {})[rel] = raw
        self.counts[join_path(self.table.row_source, rel)] += 1


def _raw_values(
    table: TableContract, col: Column, rows: _Rows, batch: _Batch, bad: _Invalid
) -> list[Any]:
    """The decoded value of `col.source` for every row (Raw for json/text, None if absent)."""
    assert col.source is not None
    rel = relative_path(col.source, table.row_source) if table.row_source else col.source
    assert rel is not None
    head, _, rest = rel.partition(".")
    if not rest:
        return list(map(attrgetter(head), rows.structs))
    if not table.row_source and head in ROOT.objects:
        get = attrgetter(rest)
        return [None if o is None else get(o) for o in batch.objects(head)]
    # A value inside an object kept as Raw (e.g. a task's assignee.email): decode just that.
    leaf = value_type(col.type) if col.kind == "value" else msgspec.Raw
    decoder, chain = projection_decoder(rel, leaf)
    out: list[Any] = []
    for i, raw in enumerate(map(attrgetter(head), rows.structs)):
        value = None
        if raw is not None and raw != NULL:
            try:
                value = decoder.decode(raw)
            except msgspec.ValidationError:
                bad.add(i, rel, raw, keep=False)  # the whole object is in its JSON column
                value = None
            for attr in chain:
                if value is None:
                    break
                value = getattr(value, attr)
        out.append(value)
    return out


_MAX_CHUNK_BYTES = 2**31 - 1  # int32 offsets of pa.string()


def _json_text(values: list[Any]) -> pa.Array | pa.ChunkedArray:
    """Raw JSON values -> string array, copying each value's bytes once (JSON null -> null)."""
    keep = [v is not None and v != NULL for v in values]
    parts = [v for v, k in zip(values, keep, strict=True) if k]
    lengths = np.fromiter(
        (len(v) if k else 0 for v, k in zip(values, keep, strict=True)),
        dtype=np.int64,
        count=len(values),
    )
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > _MAX_CHUNK_BYTES:
        half = len(values) // 2
        chunks = [_json_text(values[:half]), _json_text(values[half:])]
        return pa.chunked_array(
            [c for chunk in chunks for c in getattr(chunk, "chunks", [chunk])], type=pa.string()
        )
    validity = pa.array(keep, type=pa.bool_())
    arr = pa.StringArray.from_buffers(
        len(values),
        pa.py_buffer(offsets.astype(np.int32)),
        pa.py_buffer(b"".join(parts)),
        validity.buffers()[1],
        len(values) - len(parts),
    )
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8 inside a value kept as JSON
        text = [
            bytes(v).decode("utf-8", "replace") if k else None
            for v, k in zip(values, keep, strict=True)
        ]
        return pa.array(text, type=pa.string())
    return arr


def _text(values: list[Any]) -> pa.Array:
    out: list[str | None] = []
    for v in values:
        if v is None or v == NULL:
            out.append(None)
            continue
        b = bytes(v)
        out.append(msgspec.json.decode(b, type=str) if b[:1] == b'"' else b.decode("utf-8"))
    return pa.array(out, type=pa.string())


def _parse_times(values: list[Any], typ: pa.DataType) -> pa.Array:
    strings = pa.array(values, type=pa.string())
    try:
        return pc.cast(strings, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    import pandas as pd  # the tolerant fallback only: importing pandas costs ~0.4 s

    parsed = pd.to_datetime(
        pd.Series(values, dtype=object), utc=True, format="ISO8601", errors="coerce"
    )
    arr = pa.array(parsed, from_pandas=True)
    arr = arr.cast(typ) if pa.types.is_date(typ) else arr.cast(typ, safe=False)
    if arr.null_count == values.count(None):
        return arr
    # What pandas could not place (e.g. year 9999 at its resolution): Arrow, value by value.
    out = arr.to_pylist()
    for i, (got, value) in enumerate(zip(out, values, strict=True)):
        if got is None and value is not None:
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                out[i] = pc.cast(pa.array([value], type=pa.string()), typ)[0].as_py()
    return pa.array(out, type=typ)


def _parse_numbers(values: list[Any], typ: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    import pandas as pd

    parsed = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return pa.array(parsed, type=typ, from_pandas=True)


#: A numeric JSON string ("1234.50", "-0.0001", "1e3"): what a money string may hold.
NUMERIC_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
#: In a JSON array of scalars: an item that is a string not holding exactly NUMERIC_TEXT.
_ODD_STRING = re.compile(rb'[\[,]"(?!' + NUMERIC_TEXT.pattern.encode() + rb'")')
_decimal_list = msgspec.json.Decoder(list[Decimal])
_decimal = msgspec.json.Decoder(Decimal)
_string = msgspec.json.Decoder(str)


def decimal_of(raw: msgspec.Raw | bytes) -> Decimal | None:
    """The exact value of a JSON number or numeric JSON string ("123.45"); None for any other.

    The digits go from the JSON text to `Decimal` directly, never through a binary float.
    """
    try:
        value = _decimal.decode(raw)
        if bytes(memoryview(raw)[:1]) == b'"' and not NUMERIC_TEXT.fullmatch(_string.decode(raw)):
            return None  # Decimal() alone would take "1_000", " 5", "NaN", "Infinity"
    except msgspec.ValidationError:
        return None
    return value


def _decimals(values: list[Any]) -> list[Decimal | None]:
    """Raw JSON values (or None) -> exact Decimals; None where a value is not a number."""
    present = [v for v in values if v is not None]
    joined = b"[" + b",".join(present) + b"]"
    if not _ODD_STRING.search(joined):
        try:  # one C-speed decode of every value
            decoded = iter(_decimal_list.decode(joined))
            return [None if v is None else next(decoded) for v in values]
        except msgspec.ValidationError:
            pass
    return [None if v is None else decimal_of(v) for v in values]


def _parse_decimals(values: list[Any], typ: pa.DataType) -> pa.Array:
    """JSON numbers and numeric strings -> `typ`, exactly; what does not fit it becomes null.

    Never rounds: a value with more decimals than the scale, too many digits for the precision,
    NaN, an infinity or a non-numeric string is null (the caller keeps it as drift).
    """
    numbers = _decimals(values)
    try:
        return pa.array(numbers, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return _per_value(numbers, typ)


def _per_value(values: list[Any], typ: pa.DataType) -> pa.Array:
    """Slow conversion value by value: what does not convert becomes null."""
    out = []
    for v in values:
        try:
            pa.scalar(v, type=typ)
            out.append(v)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            out.append(None)
    return pa.array(out, type=typ)


def _to_arrow(col: Column, values: list[Any], rel: str, bad: _Invalid) -> pa.Array:
    if col.kind == "json":
        return _json_text(values)
    if col.kind == "text":
        return _text(values)
    typ = col.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        arr = _parse_times(values, typ)
    elif pa.types.is_floating(typ):
        arr = _parse_numbers(values, typ)
    elif pa.types.is_decimal(typ):
        values = [None if v is None or v == NULL else v for v in values]
        arr = _parse_decimals(values, typ)
    else:
        try:
            return pa.array(values, type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arr = _per_value(values, typ)
    if arr.null_count > values.count(None):
        given = pa.array([v is not None for v in values], type=pa.bool_())
        for i in pc.indices_nonzero(pc.and_(pc.is_null(arr), given)).to_pylist():
            bad.add(i, rel, values[i])
    return arr


# --------------------------------------------------------------------------------------------
# Derived columns
# --------------------------------------------------------------------------------------------

Derived = Callable[["_Context"], pa.Array]


@dataclass
class _Context:
    table: TableContract
    batch: _Batch
    rows: _Rows
    arrays: dict[str, pa.Array]


def _count_by_owner(ctx: _Context, child_source: str) -> pa.Array:
    """Rows of the child table per call (for the calls table)."""
    owners = ctx.batch.rows(child_source).owners
    counts = np.bincount(np.asarray(owners, dtype=np.int64), minlength=len(ctx.rows.owners))
    return pa.array(counts.astype(np.int32), type=pa.int32())


def _tasks_per_classification(ctx: _Context) -> pa.Array:
    tasks = ctx.batch.rows("classifications[].tasks[]")
    per = Counter(zip(tasks.owners, (ix[0] for ix in tasks.indexes), strict=True))
    keys = zip(ctx.rows.owners, (ix[0] for ix in ctx.rows.indexes), strict=True)
    return pa.array([per.get(key, 0) for key in keys], type=pa.int32())


def _duration(ctx: _Context) -> pa.Array:
    delta = pc.subtract(ctx.arrays["end_time"], ctx.arrays["start_time"])
    return pc.divide(pc.cast(delta, pa.int64()), 1_000_000.0)


def _index(pos: int) -> Derived:
    return lambda ctx: pa.array([ix[pos] for ix in ctx.rows.indexes], type=pa.int32())


def _parent_id(ctx: _Context) -> pa.Array:
    ids = [r.call.id for r in ctx.batch.records]
    return pa.array([ids[k] for k in ctx.rows.owners], type=pa.string())


DERIVED: dict[str, dict[str, Derived]] = {
    "calls": {
        "duration_seconds": _duration,
        "classification_count": lambda ctx: _count_by_owner(ctx, "classifications[]"),
        "task_count": lambda ctx: _count_by_owner(ctx, "classifications[].tasks[]"),
        "invoice_count": lambda ctx: _count_by_owner(ctx, "invoices[]"),
    },
    "call_classifications": {
        "call_id": _parent_id,
        "classification_index": _index(0),
        "task_count": _tasks_per_classification,
    },
    "call_tasks": {
        "call_id": _parent_id,
        "classification_index": _index(0),
        "task_index": _index(1),
    },
    "call_invoices": {"call_id": _parent_id, "invoice_index": _index(0)},
}
"""How each derived column is computed (`extra_fields` is built by `_extra_fields`)."""


def _extra_fields(ctx: _Context, bad: _Invalid) -> pa.Array:
    name = ctx.table.name
    records = ctx.batch.records
    decoded = [
        records[k].extras.get((name, ix)) if records[k].extras else None
        for k, ix in zip(ctx.rows.owners, ctx.rows.indexes, strict=True)
    ]
    if not bad.by_row and not any(decoded):
        return pa.nulls(len(ctx.rows.owners), pa.string())
    out: list[str | None] = []
    for i, extras in enumerate(decoded):
        merged = {**(extras or {}), **bad.by_row.get(i, {})}
        out.append(_encode(merged).decode() if merged else None)
    return pa.array(out, type=pa.string())


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _unknown_enums(table: TableContract, arrays: dict[str, pa.Array]) -> dict[str, dict]:
    found: dict[str, dict[str, int]] = {}
    for name, allowed in table.enum_columns().items():
        values = pc.drop_null(arrays[name])
        outside = pc.filter(values, pc.invert(pc.is_in(values, value_set=pa.array(allowed))))
        if len(outside):
            counts = pc.value_counts(outside).to_pylist()
            found[f"{table.name}.{name}"] = {c["values"]: c["counts"] for c in counts}
    return found


def _build_table(table: TableContract, batch: _Batch, drift: DriftReport) -> pa.Table:
    rows = batch.rows(table.row_source)
    ctx = _Context(table, batch, rows, {})
    bad = _Invalid(table)
    derived = DERIVED[table.name]
    for col in table.columns:  # sourced columns first: derived ones may read them
        if col.source is not None:
            rel = relative_path(col.source, table.row_source) if table.row_source else col.source
            values = _raw_values(table, col, rows, batch, bad)
            ctx.arrays[col.name] = _to_arrow(col, values, rel or col.source, bad)
    for col in table.columns:
        if col.source is None and col.name != "extra_fields":
            ctx.arrays[col.name] = derived[col.name](ctx)
    ctx.arrays["extra_fields"] = _extra_fields(ctx, bad)
    for path, n in bad.counts.items():
        drift.invalid_values[path] = drift.invalid_values.get(path, 0) + n
    drift.unknown_enum_values.update(_unknown_enums(table, ctx.arrays))
    schema = table.arrow_schema()
    return pa.Table.from_arrays([ctx.arrays[f.name] for f in schema], schema=schema)


def flatten_calls(records: Sequence[CallRecord]) -> FlatBatch:
    """Flatten decoded calls into the contract's tables (`TABLES` order) and a drift report."""
    drift = DriftReport()
    for record in records:
        if record.drift:
            drift.records_with_drift += 1
            for kind, path in record.drift:
                target = drift.unknown_fields if kind == UNKNOWN_FIELD else drift.invalid_values
                target[path] = target.get(path, 0) + 1
    batch = _Batch(records)
    tables = {name: _build_table(t, batch, drift) for name, t in TABLES.items()}
    return FlatBatch(tables, drift)


def flatten_raw(raws: Sequence[bytes | memoryview | msgspec.Raw]) -> FlatBatch:
    """Decode then flatten raw call records (MalformedRecordError on a malformed one)."""
    return flatten_calls([decode_call(raw, i) for i, raw in enumerate(raws)])

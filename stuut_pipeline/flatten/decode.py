"""Typed, lazy decoding of one call record's JSON into msgspec structs built from the contract.

Fast path: one strict decode (`forbid_unknown_fields=True`) of the call with its classifications,
tasks and invoices, then one per approver/workflow/partner. Values no column reads, and values
kept as JSON text, stay `msgspec.Raw` (never materialised). Scalars are typed loosely (enums as
`str`, floats as `float | str`) so that only unknown keys and wrong JSON types leave the fast path.
Money (decimal columns) stays `msgspec.Raw` too: the flattener decodes it exactly.
Slow path (drift, rare): the failing object is read key by key (`dict[str, Raw]`); unknown keys
and values of the wrong type are kept as drift in `CallRecord.extras` (they end in the
`extra_fields` columns) and listed in `CallRecord.drift`. A lone UTF-16 surrogate escape
(`"\\ud800"`, which msgspec refuses anywhere in a document) makes its top-level field unfit: the
field is null and its raw JSON kept as drift. Only a record that is not a JSON object, or has no
string `id`, raises `MalformedRecordError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pyarrow as pa

from ..stuut_api.surrogates import MARK, MARK_TEXT, replace_lone_surrogates
from .contract import TABLES, Column, checked_objects, join_path, owning_table, relative_path

NULL = msgspec.Raw(b"null")

#: Drift kinds: a key the contract does not know, or a value whose JSON type does not fit.
UNKNOWN_FIELD = "unknown_field"
INVALID_VALUE = "invalid_value"

RowKey = tuple[str, tuple[int, ...]]
"""(table name, list indexes of the row): ("calls", ()), ("call_tasks", (ci, ti)), ..."""


class MalformedRecordError(ValueError):
    """A record that cannot be a call: not a JSON object, or no string `id`.

    The message names the record's position (when the caller gave it) and shows its first bytes.
    """

    def __init__(self, message: str, raw: bytes | memoryview | msgspec.Raw, position: int | None):
        where = f"record #{position}" if position is not None else "record"
        head = bytes(memoryview(raw)[:80])
        super().__init__(f"{where}: {message}; it starts with {head!r}")
        self.position = position


def value_type(arrow_type: pa.DataType) -> Any:
    """The loose msgspec type a `value` column of `arrow_type` is decoded as."""
    if pa.types.is_list(arrow_type):
        return list[value_type(arrow_type.value_type)] | None
    if pa.types.is_boolean(arrow_type):
        return bool | None
    if pa.types.is_integer(arrow_type):
        return int | None
    if pa.types.is_floating(arrow_type):
        return float | str | None
    if pa.types.is_decimal(arrow_type):
        return msgspec.Raw  # parsed exactly by the flattener, never through a float
    return str | None  # strings, enums, timestamps and dates (parsed by the flattener)


def _struct_name(path: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", path) if path else ["call"]
    return "".join(w.capitalize() for w in words if w) + "Struct"


@dataclass
class Level:
    """An object whose keys are checked: its strict struct and how to decode it key by key."""

    path: str
    table: str
    prefix: str
    struct: type[msgspec.Struct]
    lenient: type[msgspec.Struct]
    decoder: msgspec.json.Decoder
    lenient_decoder: msgspec.json.Decoder
    types: dict[str, Any]
    lists: dict[str, Level] = field(default_factory=dict)
    objects: dict[str, Level] = field(default_factory=dict)


def _columns_by_source() -> dict[str, Column]:
    return {c.source: c for t in TABLES.values() for c in t.columns if c.source is not None}


def _build_level(path: str, checked: dict[str, tuple[str, ...]], by_source: dict) -> Level:
    table = owning_table(path)
    rel = relative_path(path, table.row_source) if path != table.row_source else None
    fields: list[tuple[str, Any, None]] = []
    lenient_fields: list[tuple[str, Any, None]] = []
    types: dict[str, Any] = {}
    lists: dict[str, Level] = {}
    objects: dict[str, Level] = {}
    for key in checked[path]:
        sub = join_path(path, key)
        if sub + "[]" in checked:
            child = _build_level(sub + "[]", checked, by_source)
            lists[key] = child
            typ: Any = list[child.struct] | None
            lenient_fields.append((key, list[child.lenient] | None, None))
        elif sub in checked:
            if path:
                raise AssertionError(f"{sub}: checked objects must sit on the call's root")
            objects[key] = _build_level(sub, checked, by_source)
            typ = msgspec.Raw
        else:
            col = by_source.get(sub)
            typ = value_type(col.type) if col is not None and col.kind == "value" else msgspec.Raw
        types[key] = typ
        fields.append((key, typ, None))
        if key not in lists:
            lenient_fields.append((key, typ, None))
    name = _struct_name(path)
    struct = msgspec.defstruct(name, fields, forbid_unknown_fields=True, gc=False, module=__name__)
    lenient = msgspec.defstruct("Lenient" + name, lenient_fields, gc=False, module=__name__)
    return Level(
        path=path,
        table=table.name,
        prefix=f"{rel}." if rel else "",
        struct=struct,
        lenient=lenient,
        decoder=msgspec.json.Decoder(struct),
        lenient_decoder=msgspec.json.Decoder(lenient),
        types=types,
        lists=lists,
        objects=objects,
    )


ROOT: Level = _build_level("", checked_objects(), _columns_by_source())
CallStruct = ROOT.struct


def _all_levels(level: Level) -> Iterable[Level]:
    yield level
    for child in (*level.lists.values(), *level.objects.values()):
        yield from _all_levels(child)


#: Every checked level by path ("", "approver", "classifications[]", ...).
LEVELS: dict[str, Level] = {lv.path: lv for lv in _all_levels(ROOT)}


class CallRecord:
    """One decoded call: its root struct, its approver/workflow/partner structs, and its drift.

    `objects` maps "approver"/"workflow"/"partner" to their struct (None when absent or null);
    their JSON text stays in `call.<key>` as `msgspec.Raw`. `extras` maps a row key to the
    values no typed column holds ({relative path: raw JSON}); `drift` lists (kind, path) events.
    Both are None for the (usual) record without drift.
    """

    __slots__ = ("call", "objects", "extras", "drift")

    def __init__(
        self,
        call: msgspec.Struct,
        objects: dict[str, msgspec.Struct | None],
        extras: dict[RowKey, dict[str, msgspec.Raw]] | None = None,
        drift: list[tuple[str, str]] | None = None,
    ) -> None:
        self.call = call
        self.objects = objects
        self.extras = extras
        self.drift = drift

    @property
    def id(self) -> str:
        """The call id."""
        return self.call.id  # type: ignore[attr-defined]

    @property
    def modified_at(self) -> str | None:
        """The call's `modified_at` as sent (the API client dedupes on id and this)."""
        value = self.call.modified_at  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return f"CallRecord(id={self.id!r}, drift={len(self.drift or ())})"


class _Drift:
    """Collects the drift of one record while it is decoded key by key."""

    __slots__ = ("extras", "events")

    def __init__(self) -> None:
        self.extras: dict[RowKey, dict[str, msgspec.Raw]] = {}
        self.events: list[tuple[str, str]] = []

    def add(self, kind: str, level: Level, idx: tuple[int, ...], key: str, raw: msgspec.Raw):
        self.extras.setdefault((level.table, idx), {})[level.prefix + key] = raw
        self.events.append((kind, join_path(level.path, key.split("[")[0])))


_dict_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_list_decoder = msgspec.json.Decoder(list[msgspec.Raw] | None)


@functools.cache
def _decoder_of(typ: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(typ)


def _scan_unknown(
    raw: msgspec.Raw | bytes | memoryview, level: Level, idx: tuple[int, ...], drift: _Drift
) -> None:
    """Report the unknown keys of an object (and of its list levels) whose types all fit."""
    for key, value in _dict_decoder.decode(raw).items():
        if key not in level.types:
            drift.add(UNKNOWN_FIELD, level, idx, key, value)
            continue
        child = level.lists.get(key)
        if child is not None:
            for i, item in enumerate(_list_decoder.decode(value) or ()):
                _scan_unknown(item, child, (*idx, i), drift)


def _decode_keywise(
    raw: msgspec.Raw | bytes | memoryview, level: Level, idx: tuple[int, ...], drift: _Drift
) -> msgspec.Struct:
    """Decode one object key by key; raises ValidationError only when it is not an object."""
    values: dict[str, Any] = {}
    for key, value in _dict_decoder.decode(raw).items():
        typ = level.types.get(key)
        if typ is None:
            drift.add(UNKNOWN_FIELD, level, idx, key, value)
            continue
        child = level.lists.get(key)
        if child is not None:
            try:
                items = _list_decoder.decode(value)
            except msgspec.ValidationError:
                drift.add(INVALID_VALUE, level, idx, key, value)
                continue
            if items is None:
                continue
            built: list[msgspec.Struct | None] = []
            for i, item in enumerate(items):
                try:
                    built.append(child.decoder.decode(item))
                    continue
                except msgspec.ValidationError:
                    pass
                try:
                    built.append(_decode_drifted(item, child, (*idx, i), drift))
                except msgspec.ValidationError:
                    built.append(None)  # not an object: no row; kept in the parent's extras
                    drift.add(INVALID_VALUE, level, idx, f"{key}[{i}]", item)
            values[key] = built
        elif typ is msgspec.Raw:
            values[key] = value
        else:
            try:
                values[key] = _decoder_of(typ).decode(value)
            except msgspec.ValidationError:
                drift.add(INVALID_VALUE, level, idx, key, value)
    return level.struct(**values)


def _decode_drifted(
    raw: msgspec.Raw | bytes | memoryview, level: Level, idx: tuple[int, ...], drift: _Drift
) -> msgspec.Struct:
    """Decode an object the strict struct refused; raises ValidationError if not an object."""
    try:
        decoded = level.lenient_decoder.decode(raw)  # only unknown keys: C speed, then find them
    except msgspec.ValidationError:
        return _decode_keywise(raw, level, idx, drift)  # a value of the wrong type somewhere
    _scan_unknown(raw, level, idx, drift)
    return decoded


def _decode_object(
    raw: msgspec.Raw | None, level: Level, drift: _Drift | None
) -> tuple[msgspec.Struct | None, _Drift | None]:
    if raw is None or raw == NULL:
        return None, drift
    try:
        return level.decoder.decode(raw), drift
    except msgspec.ValidationError:
        drift = drift or _Drift()
        try:
            return _decode_drifted(raw, level, (), drift), drift
        except msgspec.ValidationError:
            # Not an object: its JSON column keeps it as sent; report it.
            drift.events.append((INVALID_VALUE, level.path))
            return None, drift


def _mark_lone_surrogates(raw: bytes) -> tuple[bytes, list[bytes]]:
    """The record with each lone surrogate escape replaced by `MARK`, and the escapes replaced."""
    return replace_lone_surrogates(raw, MARK)


def _decode_with_lone_surrogates(
    raw: bytes | memoryview | msgspec.Raw,
    position: int | None,
    error: msgspec.DecodeError,
    what: str,
) -> CallRecord:
    """Decode a record msgspec refused for lone surrogates: their top-level fields become drift.

    Without a lone surrogate, raises MalformedRecordError saying `what` the record is not.
    """
    marked, lone = _mark_lone_surrogates(bytes(raw))
    if not lone:
        raise MalformedRecordError(f"{what} ({error})", raw, position) from error
    try:
        fields = _dict_decoder.decode(marked)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedRecordError(f"not a valid JSON object ({exc})", raw, position) from exc
    kept: dict[str, msgspec.Raw] = {}
    unfit: dict[str, msgspec.Raw] = {}
    escapes = iter(lone)
    for key, value in fields.items():
        for _ in range(key.count(MARK_TEXT)):
            next(escapes, None)  # a lone surrogate in a key: the key is unknown drift anyway
        text = bytes(value)
        if MARK not in text:
            kept[key] = value
            continue
        if key == "id":
            raise MalformedRecordError(
                "no string `id` (it holds a lone surrogate escape)", raw, position
            )
        parts = text.split(MARK)
        original = parts[0] + b"".join(next(escapes, MARK) + part for part in parts[1:])
        unfit[key] = msgspec.Raw(original)
    record = decode_call(msgspec.json.encode(kept), position)
    extras = dict(record.extras or {})
    row = dict(extras.get(("calls", ()), {}))
    drift = list(record.drift or [])
    for key, value in unfit.items():
        row[key] = value
        drift.append((INVALID_VALUE, key))
    extras[("calls", ())] = row
    return CallRecord(record.call, record.objects, extras, drift)


def decode_call(raw: bytes | memoryview | msgspec.Raw, position: int | None = None) -> CallRecord:
    """Decode one call record (its JSON bytes). `position` only serves error messages.

    Raises MalformedRecordError when the bytes are not a JSON object or have no string `id`.
    """
    drift: _Drift | None = None
    try:
        call = ROOT.decoder.decode(raw)
    except msgspec.ValidationError:
        drift = _Drift()
        try:
            call = _decode_drifted(raw, ROOT, (), drift)
        except msgspec.DecodeError as exc:
            return _decode_with_lone_surrogates(raw, position, exc, "not a valid JSON object")
    except msgspec.DecodeError as exc:
        return _decode_with_lone_surrogates(raw, position, exc, "not valid JSON")
    call_id = call.id  # type: ignore[attr-defined]
    if not isinstance(call_id, str) or not call_id:
        raw_id = drift.extras.get(("calls", ()), {}).get("id") if drift else None
        got = bytes(raw_id).decode("utf-8", "replace") if raw_id is not None else repr(call_id)
        raise MalformedRecordError(f"no string `id` (got {got})", raw, position)
    objects: dict[str, msgspec.Struct | None] = {}
    for key, level in ROOT.objects.items():
        objects[key], drift = _decode_object(getattr(call, key), level, drift)
    if drift is None:
        return CallRecord(call, objects)
    return CallRecord(call, objects, drift.extras or None, drift.events or None)


def decode_calls(raws: Iterable[bytes | memoryview | msgspec.Raw]) -> list[CallRecord]:
    """Decode many records; a malformed one raises MalformedRecordError naming its position."""
    return [decode_call(raw, i) for i, raw in enumerate(raws)]


@functools.cache
def projection_decoder(path: str, leaf_type: Any) -> tuple[msgspec.json.Decoder, list[str]]:
    """A lenient decoder of the object at `path`'s first segment reading only the rest of `path`.

    For a source like `assignee.email` below a row: returns a decoder of the `assignee` object
    that materialises only `email` (typed `leaf_type`), and the attribute chain to read.
    """
    parts = path.split(".")
    typ = leaf_type
    for depth in range(len(parts) - 1, 0, -1):
        name = _struct_name(".".join(parts[: depth + 1])) + "Projection"
        typ = msgspec.defstruct(name, [(parts[depth], typ, None)], gc=False, module=__name__)
        typ = typ | None
    return msgspec.json.Decoder(typ), parts[1:]

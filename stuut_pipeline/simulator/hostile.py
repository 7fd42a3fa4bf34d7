"""Hostile records (issue 14): calls served with JSON a careless API might send.

Which calls are hostile, and how, depends only on the seed and the call's index, so a run is
reproducible. Every body is still one JSON value; some are legal JSON that strict decoders refuse.
"""

from __future__ import annotations

import hashlib

import orjson

#: The kinds of hostile record, in the order `hostile_kind` picks them.
KINDS = (
    "lone_surrogate",  # `summary` ends with the escape `\ud800` (what json.dumps writes)
    "missing_id",  # no `id` key
    "null_id",  # `"id": null`
    "wrong_types",  # a number for `end_time`, a string for `is_automated`, for `approver`
    "huge_string",  # a 200 KB `summary`
    "deep_nesting",  # an unknown field nested 200 levels deep
    "duplicate_keys",  # `summary` twice in the object
)
#: Records without a usable `id`: they cannot be keyed (quarantined by the pipeline).
UNKEYABLE = frozenset({"missing_id", "null_id"})

HUGE_STRING_BYTES = 200_000
NESTING_DEPTH = 200
_SENTINEL = "\U0010fffe"  # a noncharacter the generator never writes, swapped for `\ud800`


def _unit(seed: int, index: int, salt: str) -> int:
    digest = hashlib.sha256(f"{seed}:{index}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def hostile_kind(seed: int, index: int, fraction: float) -> str | None:
    """The hostile kind of call `index` (None: served as generated); about `fraction` are."""
    if fraction <= 0 or _unit(seed, index, "hostile") >= fraction * 2**64:
        return None
    return KINDS[_unit(seed, index, "kind") % len(KINDS)]


def hostile_body(call: dict, kind: str) -> bytes:
    """The JSON served for `call` made hostile in the way `kind` says."""
    call = dict(call)
    if kind == "lone_surrogate":
        call["summary"] = f"{call.get('summary') or ''} {_SENTINEL}"
        return orjson.dumps(call).replace(_SENTINEL.encode(), rb"\ud800")
    if kind == "missing_id":
        call.pop("id", None)
    elif kind == "null_id":
        call["id"] = None
    elif kind == "wrong_types":
        call.update(end_time=1788220000, is_automated="yes", approver="not an object")
    elif kind == "huge_string":
        call["summary"] = "x" * HUGE_STRING_BYTES
    elif kind == "deep_nesting":
        body = orjson.dumps(call)
        nested = b'{"a":' * NESTING_DEPTH + b"0" + b"}" * NESTING_DEPTH
        return body[:-1] + b',"nested_unknown":' + nested + b"}"
    elif kind == "duplicate_keys":
        body = orjson.dumps(call)
        return body[:-1] + b',"summary":"a second summary"}'
    else:
        raise ValueError(f"unknown hostile kind {kind!r}; known: {', '.join(KINDS)}")
    return orjson.dumps(call)

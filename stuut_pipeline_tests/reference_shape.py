"""The documented shape of a call, read from the vendored reference page (list-calls.txt).

The page's JSON response example is the contract of every field of a call. This module parses it
(never a hand-typed copy) into a tree of `Node`s and checks records against it: every documented
key present, each value of the documented type, no undocumented keys, and which documented paths
were ever seen with a non-null value.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "stuut-api" / "list-calls.txt"

# Node kinds
ANY = "any"  # "<unknown>": any JSON value
NULL = "null"  # documented as null: any value (null or a realistic one)
STRING = "string"  # "<string>"
ENUM = "enum"  # a concrete example string such as "inbound" or "ADP": a string
DATETIME = "datetime"  # "2023-11-07T05:31:56Z"
DATE = "date"  # "2023-12-25"
NUMBER = "number"  # 123
BOOL = "bool"  # true / false
FREE_OBJECT = "free_object"  # {}: an object of any keys
OBJECT = "object"  # an object with documented keys
LIST = "list"  # [item]: a list of items of the item shape
ARRAY = "array"  # "<array>": any list

_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Node:
    """One documented value: its kind, its example, and its children (objects) or item (lists)."""

    kind: str
    example: Any = None
    children: dict[str, Node] = field(default_factory=dict)
    item: Node | None = None


def reference_text(path: Path = DOC_PATH) -> str:
    """The reference page's text."""
    return path.read_text(encoding="utf-8")


def load_reference_response(path: Path = DOC_PATH) -> dict:
    """The page's JSON response example (`{"data": [...], "current_page": ...}`), parsed."""
    text = reference_text(path)
    curl = text.index("curl ")
    start = text.index("\n{\n", curl) + 1  # the first line that is exactly "{" after the curl
    value, _end = json.JSONDecoder().raw_decode(text, start)
    if not isinstance(value, dict) or "data" not in value:
        raise ValueError("the JSON example of the page is not the list response envelope")
    return value


def load_reference_call(path: Path = DOC_PATH) -> dict:
    """The documented call: the single item of the example's `data` list."""
    data = load_reference_response(path)["data"]
    if len(data) != 1 or not isinstance(data[0], dict):
        raise ValueError("expected exactly one example call in the page's `data` list")
    return data[0]


def documented_enums(path: Path = DOC_PATH) -> dict[str, tuple[str, ...]]:
    """Query parameters documented as enums on the page -> their 'Available options'."""
    lines = [line.strip() for line in reference_text(path).splitlines()]
    enums: dict[str, tuple[str, ...]] = {}
    for i, line in enumerate(lines):
        if line != "Available options:":
            continue
        if i < 2 or not lines[i - 1].startswith("enum<"):
            continue
        name = lines[i - 2]
        values = []
        for option in lines[i + 1 :]:
            values.append(option.rstrip(","))
            if not option.endswith(","):
                break
        enums[name] = tuple(values)
    return enums


def build_shape(example: Any) -> Node:
    """The documented shape of an example value."""
    if example is None:
        return Node(NULL)
    if isinstance(example, bool):
        return Node(BOOL, example)
    if isinstance(example, int | float):
        return Node(NUMBER, example)
    if isinstance(example, str):
        if example == "<unknown>":
            return Node(ANY, example)
        if example == "<array>":
            return Node(ARRAY, example)
        if example == "<string>":
            return Node(STRING, example)
        if _DATETIME_RE.match(example):
            return Node(DATETIME, example)
        if _DATE_RE.match(example):
            return Node(DATE, example)
        return Node(ENUM, example)
    if isinstance(example, dict):
        if not example:
            return Node(FREE_OBJECT, {})
        return Node(OBJECT, None, {k: build_shape(v) for k, v in example.items()})
    if isinstance(example, list):
        if len(example) != 1:
            raise ValueError(f"documented lists have one example item, got {example!r}")
        return Node(LIST, None, item=build_shape(example[0]))
    raise TypeError(f"unexpected JSON value {example!r}")


def reference_shape(path: Path = DOC_PATH) -> Node:
    """The documented shape of one call."""
    return build_shape(load_reference_call(path))


def iter_paths(node: Node, path: str = "$") -> list[tuple[str, Node]]:
    """Every documented path under `node` (itself included), e.g. `$.invoices[].partner.id`."""
    out = [(path, node)]
    if node.kind == OBJECT:
        for key, child in node.children.items():
            out.extend(iter_paths(child, f"{path}.{key}"))
    elif node.kind == LIST and node.item is not None:
        out.extend(iter_paths(node.item, f"{path}[]"))
    return out


def is_utc_datetime(value: str) -> bool:
    """True for an ISO-8601 date-time string with a UTC offset (`Z` or `+00:00`)."""
    if not _DATETIME_RE.match(value):
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.utcoffset() == timedelta(0)


def is_date(value: str) -> bool:
    """True for a `YYYY-MM-DD` calendar date."""
    if not _DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass
class ShapeReport:
    """What checking records against the shape found."""

    errors: list[str] = field(default_factory=list)  # missing keys and wrong types
    extra_keys: list[str] = field(default_factory=list)  # undocumented keys: "$.path.key"
    seen: Counter = field(default_factory=Counter)  # path -> records with a non-null typed value
    values: dict[str, Counter] = field(default_factory=dict)  # ENUM/STRING path -> values seen
    records: int = 0

    def unseen(self, shape: Node) -> list[str]:
        """Documented paths never seen with a non-null value of the documented type.

        Paths documented as null are exempt; lists count as seen when non-empty.
        """
        return [p for p, n in iter_paths(shape) if n.kind != NULL and not self.seen[p]]


def check_record(shape: Node, record: Any, report: ShapeReport, path: str = "$") -> None:
    """Check one record against the documented shape, adding what it finds to `report`."""
    if path == "$":
        report.records += 1
    _check(shape, record, report, path)


def _type_error(report: ShapeReport, path: str, expected: str, value: Any) -> None:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    report.errors.append(f"{path}: expected {expected}, got {type(value).__name__} {shown}")


def _check(node: Node, value: Any, report: ShapeReport, path: str) -> None:
    kind = node.kind
    if value is None or kind == NULL:
        return  # nulls are allowed anywhere (the API may send them); doc-null: anything
    if kind == ANY:
        report.seen[path] += 1
        return
    ok = True
    if kind in (STRING, ENUM):
        ok = isinstance(value, str)
        if ok:
            report.values.setdefault(path, Counter())[value] += 1
    elif kind == DATETIME:
        ok = isinstance(value, str) and is_utc_datetime(value)
    elif kind == DATE:
        ok = isinstance(value, str) and is_date(value)
    elif kind == NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == FREE_OBJECT:
        ok = isinstance(value, dict)
    elif kind == ARRAY:
        ok = isinstance(value, list)
    elif kind == OBJECT:
        if not isinstance(value, dict):
            _type_error(report, path, "object", value)
            return
        for key, child in node.children.items():
            if key not in value:
                report.errors.append(f"{path}.{key}: missing")
            else:
                _check(child, value[key], report, f"{path}.{key}")
        for key in value:
            if key not in node.children:
                report.extra_keys.append(f"{path}.{key}")
        report.seen[path] += 1
        return
    elif kind == LIST:
        if not isinstance(value, list):
            _type_error(report, path, "list", value)
            return
        assert node.item is not None
        for item in value:
            _check(node.item, item, report, f"{path}[]")
        if value:
            report.seen[path] += 1
        return
    if ok:
        report.seen[path] += 1
    else:
        _type_error(report, path, kind, value)

"""The data dictionary's markdown: table contracts with an example value per column.

Plain rendering (no I/O, no data): `warehouse.dictionary` gathers the examples and writes the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .columns import TableContract, duckdb_type

#: Where the data dictionary lives in the repository (linked from README and asset descriptions).
DATA_DICTIONARY_PATH = "docs/data-dictionary.md"
#: The one-line link appended to the Dagster asset descriptions.
DATA_DICTIONARY_NOTE = f"See {DATA_DICTIONARY_PATH} for every column, its types and an example."

_MAX_EXAMPLE = 60


@dataclass(frozen=True)
class DictionarySection:
    """One section of the dictionary: its tables, and an example value per table and column."""

    title: str
    intro: str
    tables: Sequence[TableContract]
    examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | str):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return json.dumps([_plain(v) if not isinstance(v, int | str) else v for v in value])
    return str(value)


def example_cell(value: Any) -> str:
    """A markdown cell showing `value` (shortened; `–` for none)."""
    if value is None:
        return "–"
    text = " ".join(_plain(value).split())
    if len(text) > _MAX_EXAMPLE:
        text = text[: _MAX_EXAMPLE - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: TableContract, examples: Mapping[str, Any]) -> list[str]:
    keys = f"Primary key: `{', '.join(table.primary_key)}`."
    if table.parent_key:
        keys += f" Parent key: `{table.parent_key}` -> `calls.call_id`."
    if table.row_source is not None:
        keys += f" One row per `{table.row_source or 'call'}` of the API response."
    lines = [
        f"### `{table.name}`",
        "",
        table.description,
        "",
        keys,
        "",
        "| column | Arrow type | DuckDB type | nullable | source | allowed values | description "
        "| example |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in table.columns:
        source = f"`{c.source}` ({c.kind})" if c.source else str(c.kind)
        allowed = ", ".join(f"`{v}`" for v in c.allowed) if c.allowed else ""
        lines.append(
            f"| `{c.name}` | `{c.type}` | `{duckdb_type(c.type)}` | "
            f"{'yes' if c.nullable else 'no'} | {_cell(source)} | {allowed} | "
            f"{_cell(c.description)} | {example_cell(examples.get(c.name))} |"
        )
    return [*lines, ""]


def join_keys(tables: Sequence[TableContract]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(child, parent, columns): a table joins another on that one's primary key when it has
    all of its columns (`call_tasks` -> `call_classifications` on `call_id`,
    `classification_index`)."""
    out = []
    for child in tables:
        for parent in tables:
            pk = parent.primary_key
            if parent is not child and set(pk) <= set(child.column_names):
                out.append((child.name, parent.name, pk))
    return out


def join_keys_markdown(tables: Sequence[TableContract], partition_column: str) -> str:
    """The join keys between `tables`, as a markdown table."""
    lines = ["| table | joins | on |", "|---|---|---|"]
    for child, parent, cols in join_keys(tables):
        on = ", ".join(f"`{c}`" for c in (partition_column, *cols))
        lines.append(f"| `{child}` | `{parent}` | {on} |")
    return "\n".join(lines) + "\n"


def dictionary_markdown(header: str, sections: Sequence[DictionarySection]) -> str:
    """The whole dictionary: `header` (markdown), then each section with its tables."""
    lines = [header.rstrip(), ""]
    for section in sections:
        lines += [f"## {section.title}", "", section.intro.rstrip(), ""]
        for table in section.tables:
            lines += _table(table, section.examples.get(table.name, {}))
    return "\n".join(lines).rstrip() + "\n"

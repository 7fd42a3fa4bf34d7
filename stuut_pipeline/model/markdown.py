"""Markdown for documentation and Dagster metadata: table contracts, and rows as tables
(plain Python: no pandas needed to show a few rows)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..layout import PARTITION_COLUMN
from .columns import TableContract


def _cell(value: Any, kind: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}" if kind == "num1" else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,.2f}" if v is not None else f"{k} –" for k, v in value.items())
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> str:
    """A markdown table of `rows`; `columns` are (key, header, kind) with kind "", "pct", "num1"."""
    lines = [
        "| " + " | ".join(h for _, h, _ in columns) + " |",
        "|" + "|".join("---:" if k != "" else "---" for _, _, k in columns) + "|",
    ]
    for row in rows:
        lines.append(
            "| " + " | ".join(_cell(row.get(key), kind) for key, _, kind in columns) + " |"
        )
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: TableContract) -> str:
    """Markdown documentation of one table: description, keys, and a row per column."""
    lines = [
        f"### `{table.name}`",
        "",
        table.description,
        "",
        f"Primary key: `{', '.join(table.primary_key)}`."
        + (f" Parent key: `{table.parent_key}` -> `calls.call_id`." if table.parent_key else "")
        + f" Partitioned by `{PARTITION_COLUMN}` (Hive directory, not a file column).",
        "",
        "| column | type | nullable | source | description |",
        "|---|---|---|---|---|",
    ]
    for c in table.columns:
        source = f"`{c.source}` ({c.kind})" if c.source else c.kind
        desc = c.description
        if c.allowed:
            desc += " Allowed: " + ", ".join(f"`{v}`" for v in c.allowed) + "."
        lines.append(
            f"| `{c.name}` | `{c.type}` | {'yes' if c.nullable else 'no'} | "
            f"{_markdown_cell(source)} | {_markdown_cell(desc)} |"
        )
    return "\n".join(lines) + "\n"

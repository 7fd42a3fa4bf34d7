"""Columns and tables: names, Arrow types (and their DuckDB spelling), nullability, sources.

A column's `source` is its path in a call record as the API sends it, from the call's root
(`direction`, `approver.email`, `classifications[].tasks[].assignee.email`; `[]` steps into a list).
Kinds:
- `value`: a scalar (or list of scalars) cast to the column's Arrow type;
- `json`: the JSON text of the value as received (JSON `null` becomes a null cell);
- `text`: a value the API types as unknown: the string itself when it is a string, else JSON text;
- `derived`: computed by the pipeline (keys, indexes, counts, durations, rollup figures).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import pyarrow as pa

ColumnKind = Literal["value", "json", "text", "derived"]

TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
STRING = pa.string()
BOOL = pa.bool_()
INT32 = pa.int32()
INT64 = pa.int64()
FLOAT64 = pa.float64()
#: Money: exact decimals. Scale 6 holds ISO 4217's up to 4 minor units with headroom; 18 integer
#: digits hold any real amount, and leave a sum of 10^14 of them room in DuckDB's DECIMAL(38,6).
MONEY = pa.decimal128(24, 6)
#: A sum of MONEY amounts: what DuckDB's `sum` of a DECIMAL(24,6) gives (the widest decimal).
MONEY_SUM = pa.decimal128(38, MONEY.scale)
# Lists name their item "element", as Parquet's compliant nested types do: a schema read back
# from a file then equals the contract's exactly.
STRING_LIST = pa.list_(pa.field("element", pa.string()))
INT64_LIST = pa.list_(pa.field("element", pa.int64()))


@dataclass(frozen=True)
class Column:
    """One column of an output table."""

    name: str
    type: pa.DataType
    description: str
    source: str | None = None
    #: Defaults to "value" for a column with a source, "derived" for one without.
    kind: ColumnKind | None = None
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    #: For a `json` column holding a checked object: every documented key of that object.
    object_keys: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", "value" if self.source else "derived")

    def arrow_field(self) -> pa.Field:
        """The Arrow field: type, nullability, and description/source/allowed as metadata."""
        meta = {"description": self.description}
        if self.source is not None:
            meta["source"] = self.source
        if self.allowed is not None:
            meta["allowed"] = json.dumps(list(self.allowed))
        return pa.field(self.name, self.type, nullable=self.nullable, metadata=meta)


@dataclass(frozen=True)
class TableContract:
    """One output table: its columns in file order, keys, and the API object a row comes from."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    #: Path of the API object one row comes from (`""`: the call); None for derived tables.
    row_source: str | None = None
    parent_key: str | None = None
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        """Column names in file order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if none)."""
        return self._by_name[name]

    @cached_property
    def _schema(self) -> pa.Schema:
        return pa.schema(
            [c.arrow_field() for c in self.columns],
            metadata={
                "stuut.table": self.name,
                "stuut.primary_key": ",".join(self.primary_key),
                "description": self.description,
            },
        )

    def arrow_schema(self) -> pa.Schema:
        """The exact schema of the table's Parquet files (field order, types, nullability)."""
        return self._schema

    def column_descriptions(self) -> dict[str, str]:
        """Column name -> description, in file order (for Dagster column metadata)."""
        return {c.name: c.description for c in self.columns}

    def statistics_columns(self) -> list[str]:
        """Columns whose Parquet min/max statistics are worth writing: the flat, non-JSON ones.

        Min/max of whole JSON documents prune nothing and would weigh a few KB per row group in
        every file footer (and in the writer's memory until the file is closed); list columns'
        statistics are per element and prune nothing either.
        """
        return [
            c.name
            for c in self.columns
            if c.kind != "json" and c.name != "extra_fields" and not pa.types.is_nested(c.type)
        ]

    def enum_columns(self) -> dict[str, tuple[str, ...]]:
        """Column name -> allowed values, for the columns that declare them."""
        return {c.name: c.allowed for c in self.columns if c.allowed is not None}


_SCALAR_DUCKDB_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
}


def duckdb_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type of an Arrow type of the contracts (as DuckDB's DESCRIBE spells it)."""
    if arrow_type in _SCALAR_DUCKDB_TYPES:
        return _SCALAR_DUCKDB_TYPES[arrow_type]
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_list(arrow_type):
        return duckdb_type(arrow_type.value_type) + "[]"
    if pa.types.is_map(arrow_type):
        return f"MAP({duckdb_type(arrow_type.key_type)}, {duckdb_type(arrow_type.item_type)})"
    raise TypeError(f"no DuckDB type declared for {arrow_type}")


@dataclass(frozen=True)
class ColumnDoc:
    """What a reader is told about one column (rendered as Dagster column metadata)."""

    name: str
    type: str
    description: str
    nullable: bool
    unique: bool
    notes: tuple[str, ...]


def column_docs(
    columns: Iterable[Column],
    *,
    primary_key: Sequence[str] = (),
    type_name: Callable[[pa.DataType], str] = str,
) -> list[ColumnDoc]:
    """The documentation of `columns`: type, nullability, allowed values and source."""
    docs = []
    for col in columns:
        notes = [f"allowed: {', '.join(col.allowed)}"] if col.allowed else []
        if col.source:
            notes.append(f"source: {col.source}")
        docs.append(
            ColumnDoc(
                col.name,
                type_name(col.type),
                col.description,
                col.nullable,
                tuple(primary_key) == (col.name,),
                tuple(notes),
            )
        )
    return docs

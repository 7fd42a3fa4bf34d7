"""Metadata conventions shared by every domain: owners, and column schemas from the contracts."""

from collections.abc import Callable, Iterable, Sequence

import dagster as dg
import pyarrow as pa

from stuut_pipeline.flatten import Column

OWNERS = ["team:ar-analytics"]


def column_schema(
    columns: Iterable[Column],
    *,
    primary_key: Sequence[str] = (),
    type_name: Callable[[pa.DataType], str] = str,
) -> dg.TableSchema:
    """A declared contract as Dagster column metadata (shown on the asset page)."""
    out = []
    for col in columns:
        other = [f"allowed: {', '.join(col.allowed)}"] if col.allowed else []
        if col.source:
            other.append(f"source: {col.source}")
        out.append(
            dg.TableColumn(
                col.name,
                type=type_name(col.type),
                description=col.description,
                constraints=dg.TableColumnConstraints(
                    nullable=col.nullable, unique=tuple(primary_key) == (col.name,), other=other
                ),
            )
        )
    return dg.TableSchema(columns=out)

"""The shared model of every output table and check (plain data: no Dagster, no I/O).

`columns` declares what a column and a table are (Arrow types, DuckDB types, nullability,
sources, allowed values; MONEY, the one exact type of amounts); `checks` what a check is and what
it found; `markdown` renders tables and rows as markdown; `dictionary` the data dictionary.
The flattened tables (`flatten.contract`) and the rollups (`warehouse.contract`) are both
declared with these classes.
"""

from .checks import CheckOutcome, CheckSpec, MetadataValue
from .columns import (
    MONEY,
    MONEY_SUM,
    Column,
    ColumnDoc,
    ColumnKind,
    TableContract,
    column_docs,
    duckdb_type,
)
from .dictionary import DATA_DICTIONARY_NOTE, DATA_DICTIONARY_PATH
from .markdown import markdown_table, table_markdown

__all__ = [
    "DATA_DICTIONARY_NOTE",
    "DATA_DICTIONARY_PATH",
    "MONEY",
    "MONEY_SUM",
    "CheckOutcome",
    "CheckSpec",
    "Column",
    "ColumnDoc",
    "ColumnKind",
    "MetadataValue",
    "TableContract",
    "column_docs",
    "duckdb_type",
    "markdown_table",
    "table_markdown",
]

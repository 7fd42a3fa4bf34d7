"""The analysts' DuckDB file: a catalog of views over every table and mart, never written in place.

The views glob every workflow partition, so a new partition needs no rebuild. The file is rebuilt
only when its definition changes (a contract, a dataset's first file, a column appearing), by
writing a new file beside it and renaming it over the old one: a reader holding the old file
keeps reading it and never blocks a run, and nobody ever sees a half-built catalog.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from stuut_pipeline.layout import dataset_glob, mart_dir
from stuut_pipeline.publish import fsync_path

from .contract import ROLLUPS
from .db import comment_sql, load_sql, quote_ident
from .views import (
    CALL_FACTS_DESCRIPTION,
    CALL_FACTS_VIEW,
    TABLES,
    ViewDef,
    source_view_defs,
    view_def,
)

#: Bump when the catalog's layout changes in a way its statements do not show.
CATALOG_VERSION = "1"


@dataclass(frozen=True)
class CatalogPublish:
    """What `publish_catalog` did."""

    path: Path
    rebuilt: bool
    definition: str


def catalog_statements(data_dir: Path) -> list[str]:
    """Every statement that builds the catalog of the data under `data_dir`, in order."""
    with duckdb.connect(":memory:") as scratch:
        sources = source_view_defs(scratch, data_dir)
        marts: list[ViewDef] = [
            view_def(
                scratch,
                r.name,
                r.db_columns,
                dataset_glob(mart_dir(Path(data_dir), r.name)),
                partition_first=True,
            )
            for r in ROLLUPS.values()
        ]
    statements = ["SET TimeZone = 'UTC'"]
    for d in sources:
        statements += [d.sql, comment_sql("VIEW", quote_ident(d.name), TABLES[d.name].description)]
    statements += [
        load_sql("call_facts.sql"),
        comment_sql("VIEW", CALL_FACTS_VIEW, CALL_FACTS_DESCRIPTION),
    ]
    for d, r in zip(marts, ROLLUPS.values(), strict=True):
        statements += [d.sql, comment_sql("VIEW", quote_ident(d.name), r.contract.description)]
    return statements


def _definition(statements: list[str]) -> str:
    text = "\n;\n".join([CATALOG_VERSION, *statements])
    return hashlib.sha256(text.encode()).hexdigest()


def _definition_file(path: Path) -> Path:
    return path.with_name(path.name + ".definition")


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def publish_catalog(data_dir: Path, path: Path) -> CatalogPublish:
    """Rebuild the catalog at `path` if its definition changed; replace it atomically."""
    path = Path(path)
    statements = catalog_statements(data_dir)
    definition = _definition(statements)
    marker = _definition_file(path)
    if path.is_file() and marker.is_file() and marker.read_text().strip() == definition:
        return CatalogPublish(path, False, definition)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with duckdb.connect(str(tmp)) as con:
            for sql in statements:
                con.execute(sql)
            con.execute("CHECKPOINT")
        fsync_path(tmp)
        # a write-ahead log left beside the old file by an earlier writer must not be replayed
        # into the new one
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            Path(f"{tmp}.wal").unlink()
    _replace_text(marker, definition + "\n")
    return CatalogPublish(path, True, definition)

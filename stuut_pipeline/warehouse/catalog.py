"""The analysts' DuckDB file: a catalog of views over every table and mart, never written in place.

The views glob every workflow partition, so a new partition needs no rebuild. The file is rebuilt
only when its definition changes (a contract, a dataset's first file, a column appearing), by
writing a new file and putting it in place whole: locally by a rename over the old one (a reader
holding the old file keeps reading it and never blocks a run), on S3 by one upload and a
server-side copy to `warehouse/stuut.duckdb`. Nobody ever sees a half-built catalog.

For data on S3 the views read `s3://` URLs: an analyst's DuckDB reads them with `httpfs`; the
pipeline itself registers the location's pyarrow filesystem instead (`open_catalog`), so it never
needs a DuckDB extension.

Working out the definition reads every file's footer, so a rollup of one workflow asks first
whether the published catalog still covers every dataset (`publish_catalog(..., workflow_id=...)`):
the catalog's own table `_stuut_catalog` records what it was built from (the columns each view
found), and a workflow whose files bring no other column costs a listing per dataset and its own
footers, however many workflows there are. Catalog and record are one file, replaced together;
a build during which another run published files is done again.

A build killed midway leaves a temporary file (local) or a staging directory (S3); the next
publish removes those older than `STALE_BUILD_S`, far longer than any build takes (builds of
runs of different workflows may overlap, so a younger one may be another run's).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from stuut_pipeline.layout import (
    PARTITION_COLUMN,
    WAREHOUSE_FILE,
    dataset_glob,
    mart_dir,
    parquet_scan,
    partition_dir,
    table_dir,
)
from stuut_pipeline.storage import (
    DataLocation,
    as_location,
    clean_stale_staging,
    fsync_path,
    new_staging,
    publish_file,
    register_location,
)

from .contract import ROLLUPS
from .db import comment_sql, load_sql, quote_ident
from .views import (
    CALL_FACTS_DESCRIPTION,
    CALL_FACTS_VIEW,
    TABLES,
    ViewDef,
    catalog_view_defs,
    glob_view_def,
    view_sql,
)

#: Bump when the catalog's layout changes in a way its statements do not show.
CATALOG_VERSION = "3"
#: The catalog's own table: what it was built from (one row), read by the next publish.
META_TABLE = "_stuut_catalog"
#: Full builds a publish redoes when another run published files while it built.
REBUILD_ATTEMPTS = 3


#: Seconds after which a catalog build's leftovers are an orphan (a build takes a second).
STALE_BUILD_S = 3600.0


@dataclass(frozen=True)
class CatalogPublish:
    """What `publish_catalog` did: where the catalog is (a local path or an `s3://` URI)."""

    where: str
    rebuilt: bool
    definition: str


def _view_defs(location: DataLocation) -> tuple[list[ViewDef], list[ViewDef]]:
    """The views of the four tables and of the marts over every file at `location`."""
    with duckdb.connect(":memory:") as scratch:
        register_location(scratch, location)
        sources = catalog_view_defs(scratch, location)
        marts = [
            glob_view_def(
                scratch,
                location,
                r.name,
                r.db_columns,
                dataset_glob(mart_dir(r.name)),
                partition_first=True,
            )
            for r in ROLLUPS.values()
        ]
    return sources, marts


def _statements(sources: list[ViewDef], marts: list[ViewDef]) -> list[str]:
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


def catalog_statements(location: DataLocation | Path | str) -> list[str]:
    """Every statement that builds the catalog of the data at `location`, in order."""
    return _statements(*_view_defs(as_location(location)))


def _dataset_dirs() -> dict[str, str]:
    """View name -> directory of every dataset the catalog reads."""
    return {
        **{name: table_dir(name) for name in TABLES},
        **{name: mart_dir(name) for name in ROLLUPS},
    }


def _dataset_columns(name: str):
    """The contract columns of the table or rollup `name`."""
    return TABLES[name].columns if name in TABLES else ROLLUPS[name].db_columns


def _frame(location: DataLocation) -> str:
    """A hash of everything the definition holds besides which columns the files have: the
    location, the contracts, the SQL of every view both with files (every contract column
    present) and without."""
    with_files = []
    for name, directory in _dataset_dirs().items():
        columns = _dataset_columns(name)
        scan = parquet_scan(location.uri(dataset_glob(directory)))
        present = [c.name for c in columns]
        view = view_sql(name, columns, scan, 1, present, partition_first=name in ROLLUPS)
        with_files.append(view.sql)
    sources = [view_sql(n, t.columns, "", 0, []) for n, t in TABLES.items()]
    marts = [view_sql(n, r.db_columns, "", 0, [], partition_first=True) for n, r in ROLLUPS.items()]
    return _definition([location.uri(), *with_files, *_statements(sources, marts)])


def _contract_columns(name: str) -> set[str]:
    return {c.name for c in _dataset_columns(name)}


def _covers(location: DataLocation, columns: dict[str, list[str]], workflow_id: str) -> bool:
    """Whether views that found `columns` (view -> columns; none for an empty view) are still
    right after `workflow_id`'s files changed: every dataset still has (or still lacks) files,
    no view reads a column only older files had, and `workflow_id`'s files have no column the
    views lack. One listing per dataset and that workflow's footers, however many workflows."""
    mine = f"/{partition_dir(workflow_id)}/"
    for name, directory in _dataset_dirs().items():
        keys = location.list_files(pattern=dataset_glob(directory))
        if bool(keys) != (name in columns):
            return False  # a dataset's first file, or its last one gone: its view changes
        known = {*columns.get(name, ()), PARTITION_COLUMN}
        if not known <= _contract_columns(name) | {PARTITION_COLUMN}:
            return False  # a column of an older contract: it may be gone from every file now
        for key in (k for k in keys if mine in f"/{k}"):
            with location.open_input_file(key) as src:
                if not set(pq.read_schema(src).names) <= known:
                    return False
    return True


def _listing(location: DataLocation) -> dict[str, float]:
    """Every file the catalog reads, with its last modification."""
    found: dict[str, float] = {}
    for directory in _dataset_dirs().values():
        found |= location.modified(directory)
    return found


def _definition(statements: list[str]) -> str:
    text = "\n;\n".join([CATALOG_VERSION, *statements])
    return hashlib.sha256(text.encode()).hexdigest()


def _build_file(location: DataLocation, statements: list[str], path: Path, meta: dict) -> None:
    """Run `statements` into a new DuckDB file at `path` (which must not exist), with `meta`
    (what it was built from) in its own table, so that the two are replaced together."""
    with duckdb.connect(str(path)) as con:
        register_location(con, location)
        for sql in statements:
            con.execute(sql)
        con.execute(f"CREATE TABLE {META_TABLE} AS SELECT ?::VARCHAR AS meta", [json.dumps(meta)])
        con.execute(
            comment_sql(
                "TABLE",
                META_TABLE,
                "Internal: what this catalog was built from (read by the pipeline's next publish).",
            )
        )
        con.execute("CHECKPOINT")


def _clean_stale_builds(location: DataLocation, path: Path | None) -> None:
    """Remove what killed catalog builds left: local temporary files, S3 staging."""
    if path is None:
        clean_stale_staging(location, "catalog", STALE_BUILD_S)
        return
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            if now - tmp.stat().st_mtime > STALE_BUILD_S:
                tmp.unlink()


def _publish_local(location: DataLocation, statements: list[str], path: Path, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        _build_file(location, statements, tmp, meta)
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


def _publish_object(location: DataLocation, key: str, data: bytes) -> None:
    """Put `data` at `key` whole: upload to staging, then one server-side copy."""
    staging = new_staging(location, "catalog")
    try:
        staged = staging.key_for(key.rsplit("/", 1)[-1])
        location.write_bytes(staged, data)
        target, name = key.rsplit("/", 1)
        publish_file(location, staged, target, name, replace_partition=False)
    finally:
        staging.discard()


def _read_meta(path: Path) -> dict | None:
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            (text,) = con.execute(f"SELECT meta FROM {META_TABLE}").fetchone()
    except (duckdb.Error, TypeError):
        return None  # a catalog of CATALOG_VERSION 2 (no meta table): rebuilt once
    meta = json.loads(text)
    return meta if isinstance(meta, dict) and "definition" in meta else None


def _published_meta(location: DataLocation, path: Path | None) -> dict | None:
    """What the published catalog says it was built from (None: no catalog, or an older one).

    Read from a copy: an analyst may hold the catalog open read-write (the DuckDB CLI does), and
    DuckDB's file lock would refuse a second process."""
    with tempfile.TemporaryDirectory(prefix="stuut-catalog-") as tmp:
        copy = Path(tmp) / "stuut.duckdb"
        if path is not None:
            try:
                copy.write_bytes(path.read_bytes())
            except FileNotFoundError:
                return None
        elif location.exists(WAREHOUSE_FILE):
            copy.write_bytes(location.read_bytes(WAREHOUSE_FILE))
        else:
            return None
        return _read_meta(copy)


def _publish(location: DataLocation, path: Path | None, statements: list[str], meta: dict) -> None:
    if path is not None:
        _publish_local(location, statements, path, meta)
        return
    with tempfile.TemporaryDirectory(prefix="stuut-catalog-") as tmp:
        built = Path(tmp) / "stuut.duckdb"
        _build_file(location, statements, built, meta)
        _publish_object(location, WAREHOUSE_FILE, built.read_bytes())


def publish_catalog(
    location: DataLocation | Path | str, path: Path | None = None, *, workflow_id: str | None = None
) -> CatalogPublish:
    """Rebuild the catalog if its definition changed, and put it in place whole.

    Local data: the file is `path` (default `<data dir>/warehouse/stuut.duckdb`). S3 data: the
    object `warehouse/stuut.duckdb` of the location, or the local file `path` when given. With
    `workflow_id` (the workflow whose files just changed), a catalog that still covers every
    dataset is kept after reading that workflow's footers only. A build during which another run
    published files is done again (at most `REBUILD_ATTEMPTS` times), so the last catalog
    published is never older than the files it missed.
    """
    loc = as_location(location)
    if path is None and loc.is_local:
        path = Path(loc.path(WAREHOUSE_FILE))
    path = Path(path) if path is not None else None
    where = str(path) if path is not None else loc.uri(WAREHOUSE_FILE)
    _clean_stale_builds(loc, path)
    published = _published_meta(loc, path)
    frame = _frame(loc)
    if (
        workflow_id is not None
        and published is not None
        and published.get("frame") == frame
        and _covers(loc, published.get("columns", {}), workflow_id)
    ):
        return CatalogPublish(where, False, published["definition"])
    rebuilt = False
    for _ in range(REBUILD_ATTEMPTS):
        before = _listing(loc)
        sources, marts = _view_defs(loc)
        statements = _statements(sources, marts)
        definition = _definition(statements)
        if published is not None and published["definition"] == definition:
            return CatalogPublish(where, rebuilt, definition)
        meta = {
            "definition": definition,
            "frame": frame,
            "columns": {d.name: list(d.present) for d in [*sources, *marts] if d.files},
        }
        _publish(loc, path, statements, meta)
        rebuilt = True
        if _listing(loc) == before:
            break
        published = meta  # another run published files meanwhile: build again if they matter
    return CatalogPublish(where, rebuilt, definition)


@contextlib.contextmanager
def open_catalog(
    location: DataLocation | Path | str, path: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published catalog (FileNotFoundError when there is none).

    On S3 the catalog object is downloaded to a temporary file, and the location's filesystem is
    registered so that its `s3://` views read without `httpfs`.
    """
    loc = as_location(location)
    if path is None and loc.is_local:
        path = Path(loc.path(WAREHOUSE_FILE))
    with tempfile.TemporaryDirectory(prefix="stuut-catalog-") as tmp:
        if path is None:
            path = Path(tmp) / "stuut.duckdb"
            path.write_bytes(loc.read_bytes(WAREHOUSE_FILE))
        elif not Path(path).is_file():
            raise FileNotFoundError(f"no catalog at {path}: materialise a rollup first")
        con = duckdb.connect(str(path), read_only=True)
        try:
            register_location(con, loc)
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

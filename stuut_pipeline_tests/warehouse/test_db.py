"""The in-memory partition database, the analysts' catalog, connections, parameterised SQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import WAREHOUSE_FILE, mart_key, parquet_scan
from stuut_pipeline.simulator.generator import CLASSIFICATIONS

from ..reference import (
    ROLLUP_NAMES,
)


def test_views_show_every_table_with_workflow_id(built_once):
    data_dir, by_wf = built_once
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        for view in (*wh.SOURCE_VIEWS, wh.CALL_FACTS_VIEW):
            columns = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            assert "workflow_id" in columns
        calls = dict(con.execute("SELECT workflow_id, count(*) FROM calls GROUP BY ALL").fetchall())
        assert calls == {wf: len(recs) for wf, recs in by_wf.items()}
        n_cls = con.execute("SELECT count(*) FROM call_classifications").fetchone()[0]
        assert n_cls == sum(len(r["classifications"]) for recs in by_wf.values() for r in recs)


def test_views_and_rollups_on_an_empty_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    with wh.partition_db(data_dir, "otwfl_empty") as (con, report):
        assert report.files == dict.fromkeys(wh.SOURCE_VIEWS, 0)
        wh.ensure_tables(con)
        columns = [r[0] for r in con.execute("DESCRIBE calls").fetchall()]
        assert columns[:2] == ["call_id", "object"] and "workflow_id" in columns
        assert wh.build_rollup(con, "sentiment_rollup", "otwfl_empty", data_dir).rows == 0
        build = wh.build_rollup(con, "classification_rollup", "otwfl_empty", data_dir)
        assert build.rows == len(CLASSIFICATIONS) and all(c.passed for c in build.checks)
        assert wh.build_rollup(con, "workflow_kpis", "otwfl_empty", data_dir).rows == 0
    assert pq.read_table(data_dir / mart_key("workflow_kpis", "otwfl_empty")).num_rows == 0
    catalog = wh.publish_catalog(tmp_path / "empty", (tmp_path / "empty" / WAREHOUSE_FILE))
    with wh.connection(catalog.where, read_only=True) as con:
        for view in (*wh.SOURCE_VIEWS, wh.CALL_FACTS_VIEW, *ROLLUP_NAMES):
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] == 0
        columns = [r[0] for r in con.execute("DESCRIBE workflow_kpis").fetchall()]
        assert columns[:2] == ["workflow_id", "week_start"]


def test_read_only_connection_reads_while_nothing_writes(built_once):
    data_dir, by_wf = built_once
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert n == sum(len(v) for v in by_wf.values())
        assert con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0] > 0
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM workflow_kpis")
    with pytest.raises(FileNotFoundError):
        wh.connect(data_dir / "missing.duckdb", read_only=True)


def _stale_record(db: Path) -> None:
    """Make the catalog's record of what it was built from say something else."""
    with duckdb.connect(str(db)) as con:
        con.execute("""UPDATE _stuut_catalog SET meta = '{"definition": "stale"}'""")


_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print(con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0], flush=True)
con.close()
"""


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_a_reader_holding_the_catalog_never_blocks_a_rebuild(built, mode):
    """An analyst's open connection (read-only, or read-write as the DuckDB CLI opens it) keeps
    reading the old file; the rebuild replaces it without waiting, and a new connection reads
    the new file."""
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    _stale_record(db)  # so that the publish below rebuilds
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = int(holder.stdout.readline())
        assert before > 0
        inode = db.stat().st_ino
        assert wh.publish_catalog(data_dir, db).rebuilt  # the record was made stale below
        assert db.stat().st_ino != inode
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert int(holder.stdout.readline()) == before  # the held file still answers
        with wh.connection(db, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0] == before
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
    assert not list(db.parent.glob(".*.tmp")), "no temporary catalog left behind"


def test_the_catalog_is_rebuilt_only_when_its_definition_changes(built):
    data_dir, _ = built
    db = data_dir / WAREHOUSE_FILE
    first = wh.publish_catalog(data_dir, db)
    assert not first.rebuilt  # `built` published it already
    inode = db.stat().st_ino
    assert not wh.publish_catalog(data_dir, db).rebuilt and db.stat().st_ino == inode
    # a dataset that had no file gets its first one: the view's definition changes
    empty = data_dir / "marts" / "sentiment_rollup"
    moved = data_dir / "elsewhere"
    empty.rename(moved)
    second = wh.publish_catalog(data_dir, db)
    assert second.rebuilt and second.definition != first.definition
    with wh.connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0] == 0
    moved.rename(empty)
    third = wh.publish_catalog(data_dir, db)
    assert third.rebuilt and third.definition == first.definition
    with wh.connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0] > 0


def test_a_killed_builds_leftovers_go_once_they_are_stale(built):
    data_dir, _ = built
    db = data_dir / WAREHOUSE_FILE
    stale = db.with_name(f".{db.name}.0123456789ab.tmp")
    stale_wal = db.with_name(f"{stale.name}.wal")
    young = db.with_name(f".{db.name}.ba9876543210.tmp")  # maybe another run's build
    for path in (stale, stale_wal, young):
        path.write_bytes(b"half a catalog")
    two_hours_ago = time.time() - 2 * 3600
    for path in (stale, stale_wal):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert not wh.publish_catalog(data_dir, db).rebuilt

    assert not stale.exists() and not stale_wal.exists()
    assert young.read_bytes() == b"half a catalog"


class _Recorder:
    """A connection proxy recording the text of every statement."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = None):
        self.statements.append(sql)
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_no_workflow_id_is_pasted_into_sql(built):
    data_dir, by_wf = built
    statements = []
    for wf in by_wf:
        with wh.partition_db(data_dir, wf) as (con, _):
            wh.ensure_tables(con)
            recorder = _Recorder(con)
            for rollup in ROLLUP_NAMES:
                wh.build_rollup(recorder, rollup, wf, data_dir)
                wh.latest_figures_markdown(recorder, rollup, wf)
                wh.headline_figures(recorder, rollup, wf)
            wh.sentiment_chart_markdown(recorder, wf)
            statements += recorder.statements
    assert len(statements) > 20
    for sql in statements:
        assert not any(wf in sql for wf in by_wf), sql
    sql_dir = Path(wh.__file__).parent / "sql"
    for path in sql_dir.glob("*.sql"):
        text = path.read_text()
        assert "otwfl_" not in text
        assert "workflow_id = $workflow_id" in text or path.name == "call_facts.sql"


def _add_column(data_dir: Path, workflow: str) -> tuple[Path, pa.Table]:
    """Give `workflow`'s classification mart a column no contract has; return the file and its
    table as it was."""
    key = data_dir / mart_key("classification_rollup", workflow)
    table = pq.read_table(key)
    pq.write_table(table.append_column("reviewed_by", pa.array(["qa"] * table.num_rows)), key)
    return key, table


def _two_workflows(by_wf: dict) -> tuple[str, str]:
    first, second, *_ = sorted(by_wf)
    return first, second


def test_a_workflows_refresh_reads_only_its_own_files_when_the_catalog_covers_them(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, other = _two_workflows(by_wf)
    inode = db.stat().st_ino
    # another workflow's file is unreadable: a check that read it would fail
    theirs = data_dir / mart_key("workflow_kpis", other)
    theirs.write_bytes(b"not parquet")
    kept = wh.publish_catalog(data_dir, db, workflow_id=mine)
    assert not kept.rebuilt and db.stat().st_ino == inode
    with pytest.raises(duckdb.Error):
        wh.publish_catalog(data_dir, db)  # the full definition reads every footer


def test_a_workflows_new_column_rebuilds_the_catalog_from_the_fast_path(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, other = _two_workflows(by_wf)
    key, table = _add_column(data_dir, mine)
    # the other workflow's files are unchanged: asking about them keeps the catalog
    assert not wh.publish_catalog(data_dir, db, workflow_id=other).rebuilt
    rebuilt = wh.publish_catalog(data_dir, db, workflow_id=mine)
    assert rebuilt.rebuilt
    with wh.connection(db, read_only=True) as con:
        values = con.execute(
            "SELECT DISTINCT reviewed_by FROM classification_rollup WHERE workflow_id = ?", [mine]
        ).fetchall()
    assert values == [("qa",)]
    assert not wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt


def test_a_datasets_first_file_rebuilds_the_catalog_from_the_fast_path(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    marts = data_dir / "marts" / "sentiment_rollup"
    moved = data_dir / "elsewhere"
    marts.rename(moved)
    assert wh.publish_catalog(data_dir, db).rebuilt  # an empty, typed view
    moved.rename(marts)
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    with wh.connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0] > 0


def test_a_catalog_of_an_older_version_is_rebuilt_once(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    with duckdb.connect(str(db)) as con:  # version 2 had no record of what it was built from
        con.execute("DROP TABLE _stuut_catalog")
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    assert not wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt


def test_a_column_gone_from_every_file_is_dropped_from_its_view(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    key, table = _add_column(data_dir, mine)
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    pq.write_table(table, key)  # the refresh of the only workflow that had the column
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    with wh.connection(db, read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE classification_rollup").fetchall()]
        assert "reviewed_by" not in columns
        assert con.execute("SELECT count(*) FROM classification_rollup").fetchone()[0] > 0


def test_a_dataset_emptied_is_seen_from_the_fast_path(built):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    (data_dir / "marts" / "sentiment_rollup").rename(data_dir / "elsewhere")
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    with wh.connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0] == 0


def test_a_change_of_the_scan_sql_rebuilds_from_the_fast_path(built, monkeypatch):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    from stuut_pipeline.warehouse import catalog, views

    def scan(pattern: str) -> str:
        return parquet_scan(pattern).replace("union_by_name = true", "union_by_name = 1")

    monkeypatch.setattr(catalog, "parquet_scan", scan)
    monkeypatch.setattr(views, "parquet_scan", scan)
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt


def test_a_build_during_which_another_run_published_is_done_again(built, monkeypatch):
    data_dir, by_wf = built
    db = data_dir / WAREHOUSE_FILE
    mine, _ = _two_workflows(by_wf)
    marts, moved = data_dir / "marts" / "sentiment_rollup", data_dir / "elsewhere"
    marts.rename(moved)
    assert wh.publish_catalog(data_dir, db).rebuilt  # an empty sentiment view
    # this run's own change: a column the catalog does not have yet
    key, table = _add_column(data_dir, mine)
    from stuut_pipeline.warehouse import catalog

    real, calls = catalog._view_defs, []

    def racing(location):
        found = real(location)
        if not calls:
            moved.rename(marts)  # another run publishes the dataset's first files meanwhile
        calls.append(1)
        return found

    monkeypatch.setattr(catalog, "_view_defs", racing)
    assert wh.publish_catalog(data_dir, db, workflow_id=mine).rebuilt
    assert len(calls) == 2  # the first build missed the other run's files: built again
    with wh.connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0] > 0
        assert con.execute("SELECT count(reviewed_by) FROM classification_rollup").fetchone()[0]

"""Connections, views over the Parquet tables, and parameterised SQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.simulator.generator import CLASSIFICATIONS

from ..reference import (
    ROLLUP_NAMES,
)


def test_views_show_every_table_with_workflow_id(built_once):
    data_dir, by_wf = built_once
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        for view in (*wh.SOURCE_VIEWS, wh.CALL_FACTS_VIEW):
            columns = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            assert "workflow_id" in columns
        calls = dict(con.execute("SELECT workflow_id, count(*) FROM calls GROUP BY ALL").fetchall())
        assert calls == {wf: len(recs) for wf, recs in by_wf.items()}
        n_cls = con.execute("SELECT count(*) FROM call_classifications").fetchone()[0]
        assert n_cls == sum(len(r["classifications"]) for recs in by_wf.values() for r in recs)


def test_views_and_rollups_on_an_empty_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    with wh.connection(wh.default_db_path(data_dir)) as con:
        report = wh.ensure_views(con, data_dir)
        assert report.files == dict.fromkeys(wh.SOURCE_VIEWS, 0)
        wh.ensure_tables(con)
        columns = [r[0] for r in con.execute("DESCRIBE calls").fetchall()]
        assert columns[:2] == ["call_id", "object"] and "workflow_id" in columns
        assert wh.build_rollup(con, "sentiment_rollup", "otwfl_empty", data_dir).rows == 0
        build = wh.build_rollup(con, "classification_rollup", "otwfl_empty", data_dir)
        assert build.rows == len(CLASSIFICATIONS) and all(c.passed for c in build.checks)
        assert wh.build_rollup(con, "workflow_kpis", "otwfl_empty", data_dir).rows == 0
    assert (
        pq.read_table(wh.mart_dir(data_dir, "workflow_kpis", "otwfl_empty") / wh.MART_FILE).num_rows
        == 0
    )


def test_read_only_connection_reads_while_nothing_writes(built_once):
    data_dir, by_wf = built_once
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert n == sum(len(v) for v in by_wf.values())
        assert con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0] > 0
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM workflow_kpis")
    with pytest.raises(FileNotFoundError):
        wh.connect(data_dir / "missing.duckdb", read_only=True)


_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_lock_held_elsewhere_is_reported_then_waited_for(built_once):
    data_dir, _ = built_once
    db = wh.default_db_path(data_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(wh.WarehouseLockedError, match="locked by another process"):
            wh.connect(db, read_only=True, lock_timeout=0)
        result: dict[str, Any] = {}

        def wait_for_lock() -> None:
            with wh.connection(db, read_only=True, lock_timeout=120) as con:
                result["rows"] = con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0]

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        holder.stdin.close()
        waiter.join()
        assert result["rows"] > 0
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


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
    with wh.connection(wh.default_db_path(data_dir)) as con:
        recorder = _Recorder(con)
        for wf in by_wf:
            for rollup in ROLLUP_NAMES:
                wh.build_rollup(recorder, rollup, wf, data_dir)
                wh.latest_figures_markdown(recorder, rollup, wf)
                wh.headline_figures(recorder, rollup, wf)
            wh.sentiment_chart_markdown(recorder, wf)
    assert len(recorder.statements) > 20
    for sql in recorder.statements:
        assert not any(wf in sql for wf in by_wf), sql
    sql_dir = Path(wh.__file__).parent / "sql"
    for path in sql_dir.glob("*.sql"):
        text = path.read_text()
        assert "otwfl_" not in text
        assert "workflow_id = $workflow_id" in text or path.name == "call_facts.sql"

"""build_rollup: every figure against the independent computation, partitions, transactions."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import orjson
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import WAREHOUSE_FILE, mart_key
from stuut_pipeline.simulator.generator import DRIFT_SENTIMENT, SENTIMENTS
from stuut_pipeline.warehouse import db as db_module

from .. import factories
from ..reference import (
    EXPECTED,
    ROLLUP_NAMES,
    call_time,
    compare,
    expected_sentiment,
    keyed,
    week_start,
)
from .inputs import build_all, mart_rows, write_parquet


@pytest.mark.parametrize("rollup", ROLLUP_NAMES)
def test_every_figure_matches_independent_computation(built_once, rollup):
    data_dir, by_wf = built_once
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        for wf, recs in by_wf.items():
            expected = EXPECTED[rollup](recs)
            db_rows = wh.fetch_rollup(con, rollup, wf)
            assert {r.pop("workflow_id") for r in db_rows} == {wf}
            compare(rollup, keyed(rollup, db_rows), expected)
            compare(rollup, keyed(rollup, mart_rows(data_dir, rollup, wf)), expected)


def test_edge_cases_are_really_in_the_inputs(built_once):
    """The fixture's edge cases reach the rollups (so the comparison above covers them)."""
    data_dir, by_wf = built_once
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        for wf in by_wf:
            kpis = wh.fetch_rollup(con, "workflow_kpis", wf)
            assert sum(r["calls_unknown_disconnection"] for r in kpis) == 1
            sentiments = {r["sentiment"] for r in wh.fetch_rollup(con, "sentiment_rollup", wf)}
            assert {None, DRIFT_SENTIMENT} <= sentiments
            classifications = wh.fetch_rollup(con, "classification_rollup", wf)
            assert any(not r["is_documented_classification"] for r in classifications)
            # one invoice on two calls of a week, with different amounts
            seen: dict[tuple, set] = defaultdict(set)
            for rec in by_wf[wf]:
                for inv in rec["invoices"]:
                    seen[(week_start(call_time(rec)), inv["id"])].add(float(inv["amount_due"]))
            assert any(len(amounts) > 1 for amounts in seen.values())


def test_unknown_sentiment_kept_as_its_own_row(tmp_path):
    data_dir = tmp_path / "data"
    config = factories.generator_config(
        seed=2, n_workflows=1, no_workflow_share=0.0, schema_drift_share=0.5
    )
    gen = factories.generator(config)
    recs = [orjson.loads(gen.call_json(i)) for i in range(120)]
    assert sum(r["sentiment"] == DRIFT_SENTIMENT for r in recs) > 20
    (wf,) = write_parquet(data_dir, recs)
    build_all(data_dir, [wf])
    rows = mart_rows(data_dir, "sentiment_rollup", wf)
    mixed = [r for r in rows if r["sentiment"] == DRIFT_SENTIMENT]
    assert mixed and not any(r["is_documented_sentiment"] for r in mixed)
    assert sum(r["calls"] for r in mixed) == sum(r["sentiment"] == DRIFT_SENTIMENT for r in recs)
    assert sum(r["calls"] for r in rows) == len(recs)
    groups = {(r["day"], r["direction"]) for r in rows}
    for group in groups:
        in_group = {r["sentiment"] for r in rows if (r["day"], r["direction"]) == group}
        assert set(SENTIMENTS) <= in_group
    compare("sentiment_rollup", keyed("sentiment_rollup", rows), expected_sentiment(recs))


def test_rebuilding_one_workflow_leaves_the_other_untouched(built):
    data_dir, by_wf = built
    wf_a, wf_b = sorted(by_wf)
    db = data_dir / WAREHOUSE_FILE
    with wh.connection(db, read_only=True) as con:
        before_b = {r: wh.fetch_rollup(con, r, wf_b) for r in ROLLUP_NAMES}
    marts_b = {r: (data_dir / mart_key(r, wf_b)).read_bytes() for r in ROLLUP_NAMES}
    # workflow A loses half its calls upstream, then is rebuilt (twice: idempotent)
    kept = by_wf[wf_a][: len(by_wf[wf_a]) // 2]
    write_parquet(data_dir, kept)
    for _ in range(2):
        build_all(data_dir, [wf_a])
    with wh.connection(db, read_only=True) as con:
        for r in ROLLUP_NAMES:
            assert wh.fetch_rollup(con, r, wf_b) == before_b[r]
            got = wh.fetch_rollup(con, r, wf_a)
            for row in got:
                row.pop("workflow_id")
            compare(r, keyed(r, got), EXPECTED[r](kept))
    for r in ROLLUP_NAMES:
        assert (data_dir / mart_key(r, wf_b)).read_bytes() == marts_b[r]
        compare(r, keyed(r, mart_rows(data_dir, r, wf_a)), EXPECTED[r](kept))


def test_a_failing_insert_rolls_the_delete_back(built):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    with wh.partition_db(data_dir, wf) as (con, views):
        wh.ensure_tables(con)
        rows = wh.rebuild_rollup(con, "workflow_kpis", wf)
        before = wh.fetch_rollup(con, "workflow_kpis", wf)
        assert len(before) == rows > 0
        facts = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'call_facts'")
        facts_sql = facts.fetchone()[0]
        # the DELETE runs, then the INSERT fails: call_facts lost its columns
        con.execute("CREATE OR REPLACE VIEW call_facts AS SELECT 'x' AS workflow_id")
        with pytest.raises(duckdb.Error):
            wh.rebuild_rollup(con, "workflow_kpis", wf)
        assert wh.fetch_rollup(con, "workflow_kpis", wf) == before
        con.execute(facts_sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
        assert wh.rebuild_rollup(con, "workflow_kpis", wf) == len(before)


def test_a_failed_blocking_check_keeps_rows_and_mart(built, monkeypatch):
    """A real reconciliation failure: the rollup SQL double-counts calls."""
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    target = data_dir / mart_key("sentiment_rollup", wf)
    previous = target.read_bytes()
    original = db_module.load_sql

    def broken(name: str) -> str:
        sql = original(name)
        if name == "sentiment_rollup.sql":
            sql = sql.replace("count(f.call_id) AS calls", "2 * count(f.call_id) AS calls")
            assert "2 * count" in sql
        return sql

    with wh.partition_db(data_dir, wf) as (con, _):
        wh.ensure_tables(con)
        wh.build_rollup(con, "sentiment_rollup", wf, data_dir)
        before = wh.fetch_rollup(con, "sentiment_rollup", wf)
        monkeypatch.setattr(db_module, "load_sql", broken)
        with pytest.raises(wh.RollupCheckError) as err:
            wh.build_rollup(con, "sentiment_rollup", wf, data_dir)
        assert wh.fetch_rollup(con, "sentiment_rollup", wf) == before
    outcomes = {c.name: c for c in err.value.checks}
    assert not outcomes["calls_reconciled"].passed
    assert outcomes["calls_reconciled"].metadata["rollup_rows"] == 2 * len(by_wf[wf])
    assert outcomes["schema_matches_contract"].passed and outcomes["shares_sum_to_one"].passed
    assert target.read_bytes() == previous

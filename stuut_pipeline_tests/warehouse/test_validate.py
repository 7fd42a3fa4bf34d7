"""The rollup checks: reconciliations, shares, and schemas against the contract."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import mart_key


def test_shares_check_fails_when_shares_do_not_sum_to_one(built):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    with wh.partition_db(data_dir, wf) as (con, _):
        wh.ensure_tables(con)
        wh.rebuild_rollup(con, "classification_rollup", wf)
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "UPDATE classification_rollup SET share_of_classifications = 0.5 "
            "WHERE workflow_id = $wf AND classification = 'payment_promise'",
            {"wf": wf},
        )
        outcomes = {o.name: o for o in wh.run_checks(con, "classification_rollup", wf)}
        con.execute("ROLLBACK")
    assert not outcomes["shares_sum_to_one"].passed
    assert outcomes["classifications_reconciled"].passed


def test_mart_schema_check_catches_a_wrong_file(built_once, tmp_path):
    data_dir, by_wf = built_once
    wf = sorted(by_wf)[0]
    good = data_dir / mart_key("workflow_kpis", wf)
    table = pq.read_table(good)
    assert wh.validate_mart_file(good, "workflow_kpis", table.num_rows) == []
    assert wh.validate_mart_file(good, "workflow_kpis", table.num_rows + 1)
    with_id = table.append_column("workflow_id", pa.array([wf] * table.num_rows))
    pq.write_table(with_id, tmp_path / "with_id.parquet")
    assert any(
        "workflow_id" in p
        for p in wh.validate_mart_file(
            tmp_path / "with_id.parquet", "workflow_kpis", table.num_rows
        )
    )
    retyped = table.set_column(
        table.schema.get_field_index("calls"), "calls", table.column("calls").cast(pa.int32())
    )
    pq.write_table(retyped, tmp_path / "retyped.parquet")
    problems = wh.validate_mart_file(tmp_path / "retyped.parquet", "workflow_kpis", table.num_rows)
    assert problems == ["calls: type int32, contract int64"]


def test_table_schema_check_catches_an_old_table(tmp_path):
    with wh.connection(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE workflow_kpis (workflow_id VARCHAR, week_start VARCHAR)")
        wh.ensure_tables(con)
        assert wh.validate_table_schema(con, "workflow_kpis")
        assert wh.validate_table_schema(con, "sentiment_rollup") == []
        with pytest.raises(wh.RollupCheckError, match="schema_matches_contract"):
            wh.build_rollup(con, "workflow_kpis", "otwfl_x", tmp_path)

"""Hive datasets on local disk and S3, read by DuckDB through pyarrow (no DuckDB extension)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stuut_pipeline.storage import DataLocation, dataset


def duckdb_without_extensions() -> duckdb.DuckDBPyConnection:
    """A connection that may neither install nor autoload an extension (so no httpfs)."""
    return duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )


def write_partition(location: DataLocation, workflow: str, amounts: list[float]) -> None:
    key = f"parquet/calls/workflow_id={workflow}/part-0.parquet"
    with location.open_output_stream(key) as out:
        pq.write_table(pa.table({"amount": amounts, "n": list(range(len(amounts)))}), out)


def test_duckdb_reads_a_hive_dataset_with_pushdown(location):
    write_partition(location, "otwfl_a", [1.0, 2.0, 3.0])
    write_partition(location, "otwfl_b", [10.0, 20.0])
    # A partition whose file is not Parquet: only partition pruning keeps a query off it.
    location.write_bytes("parquet/calls/workflow_id=otwfl_z/part-0.parquet", b"not parquet")
    location.write_bytes(".staging/parquet-calls-otwfl_a-0123456789ab/part-0.parquet", b"staged")
    location.write_bytes("parquet/calls/workflow_id=otwfl_a/.part-0.parquet.tmp", b"tmp")

    calls = dataset(location, "parquet/calls")
    assert calls.schema.field("workflow_id").type == pa.string()
    assert len(calls.files) == 3
    con = duckdb_without_extensions()
    con.register("calls", calls)

    rows = con.sql(
        "SELECT workflow_id, count(*), sum(amount) FROM calls"
        " WHERE workflow_id IN ('otwfl_a', 'otwfl_b') GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("otwfl_a", 3, 6.0), ("otwfl_b", 2, 30.0)]
    plan = con.sql("EXPLAIN SELECT n FROM calls WHERE workflow_id = 'otwfl_b'").fetchall()[0][1]
    assert "ARROW_SCAN" in plan and "Filters:" in plan and "workflow_id" in plan
    assert con.sql("SELECT n FROM calls WHERE workflow_id = 'otwfl_b' ORDER BY n").fetchall() == [
        (0,),
        (1,),
    ]
    loaded = {
        r[0]
        for r in con.sql("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()
    }
    assert "httpfs" not in loaded


def test_empty_prefix_gives_an_empty_dataset(location):
    empty = dataset(location, "parquet/none")
    con = duckdb_without_extensions()
    con.register("t", empty)
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]

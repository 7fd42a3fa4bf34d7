"""PartitionWriter: atomic publish, abort, re-publish, empty partitions, Hive reading in DuckDB."""

from __future__ import annotations

import glob
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.flatten.flatten import FlatBatch, flatten_raw
from stuut_pipeline.flatten.parquet_io import (
    PartitionWriter,
    published_files,
)
from stuut_pipeline.layout import (
    PARTITION_COLUMN,
    InvalidWorkflowIdError,
    checked_workflow_id,
    table_key,
    table_scan,
)
from stuut_pipeline.simulator.generator import CallGenerator

from .. import factories
from .expected_statistics import WITH_STATISTICS, WITHOUT_STATISTICS


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


@cache
def gen() -> CallGenerator:
    return factories.generator(seed=5, schema_drift_share=0.2, string_amount_share=0.2)


def batch_for(workflow: str, start: int, n: int) -> FlatBatch:
    return flatten_raw([gen().call_json(i, workflow_id=workflow) for i in range(start, start + n)])


def published_glob(root: Path) -> list[str]:
    return sorted(glob.glob(str(root / "parquet" / "*" / "*" / "*.parquet")))


def duck_count(root: Path, table: str, workflow: str | None = None) -> int:
    where = f" WHERE {PARTITION_COLUMN} = '{workflow}'" if workflow else ""
    sql = f"SELECT count(*) FROM {table_scan(root, table)}{where}"
    return duckdb.connect().sql(sql).fetchall()[0][0]


def publish(root: Path, workflow: str, batches: list[FlatBatch]) -> dict[str, Path]:
    with PartitionWriter(root, workflow) as writer:
        for batch in batches:
            writer.write(batch)
        return {name: root / key for name, key in writer.publish().items()}


def staging_path(writer: PartitionWriter) -> Path:
    return Path(writer.location.path(writer.staging.key))


def test_publish_layout_and_duckdb_reads_workflow_id_from_the_path(root: Path) -> None:
    wf_a, wf_b = gen().workflow_ids()[:2]
    a, b = batch_for(wf_a, 0, 60), batch_for(wf_b, 60, 40)
    files = publish(root, wf_a, [a])
    publish(root, wf_b, [b])
    assert files == {name: root / key for name, key in published_files(wf_a).items()}
    assert files["calls"] == root / "parquet" / "calls" / f"workflow_id={wf_a}" / "part-0.parquet"
    for name, table in TABLES.items():
        schema = pq.read_schema(files[name])
        assert PARTITION_COLUMN not in schema.names
        assert schema.equals(table.arrow_schema(), check_metadata=False)
        assert duck_count(root, name, wf_a) == a[name].num_rows
        assert duck_count(root, name, wf_b) == b[name].num_rows
    rows = (
        duckdb.connect()
        .sql(
            f"SELECT {PARTITION_COLUMN}, count(*) FROM read_parquet("
            f"'{root}/parquet/calls/*/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 1"
        )
        .fetchall()
    )
    assert rows == sorted([(wf_a, 60), (wf_b, 40)])
    joined = (
        duckdb.connect()
        .sql(
            f"SELECT count(*) FROM {table_scan(root, 'call_invoices')} i "
            f"JOIN {table_scan(root, 'calls')} c USING ({PARTITION_COLUMN}, call_id)"
        )
        .fetchall()[0][0]
    )
    assert joined == a["call_invoices"].num_rows + b["call_invoices"].num_rows
    assert not list((root / ".staging").iterdir())


def test_row_groups_per_batch_and_zstd(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    files = publish(root, wf, [batch_for(wf, 0, 30), batch_for(wf, 30, 30)])
    meta = pq.ParquetFile(files["calls"]).metadata
    assert meta.num_row_groups == 2 and meta.num_rows == 60
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_min_max_statistics_only_where_they_can_prune(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    files = publish(root, wf, [batch_for(wf, 0, 30)])
    for name, path in files.items():
        group = pq.ParquetFile(path).metadata.row_group(0)
        columns = {
            group.column(i).path_in_schema.split(".")[0]: group.column(i)
            for i in range(group.num_columns)
        }
        assert set(columns) == set(WITH_STATISTICS[name]) | set(WITHOUT_STATISTICS[name]), name
        for column in WITH_STATISTICS[name]:
            assert columns[column].is_stats_set, (name, column)
        for column in WITHOUT_STATISTICS[name]:
            assert not columns[column].is_stats_set, (name, column)
    calls = pq.ParquetFile(files["calls"]).metadata.row_group(0)
    names = [calls.column(i).path_in_schema for i in range(calls.num_columns)]
    created = calls.column(names.index("created_at")).statistics
    assert created.has_min_max and created.min <= created.max
    assert not calls.column(names.index("partner_json")).is_stats_set


def test_exception_mid_write_leaves_published_files_identical(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    files = publish(root, wf, [batch_for(wf, 0, 50)])
    before = {name: path.read_bytes() for name, path in files.items()}
    listed = published_glob(root)
    assert len(listed) == len(TABLES)
    with pytest.raises(RuntimeError, match="boom"), PartitionWriter(root, wf) as writer:
        writer.write(batch_for(wf, 100, 80))
        staged = list(staging_path(writer).iterdir())
        assert len(staged) == len(TABLES)
        # staged files are invisible to every *.parquet glob, recursive ones included
        assert published_glob(root) == listed
        everything = (
            duckdb.connect().sql(f"SELECT file FROM glob('{root}/**/*.parquet')").fetchall()
        )
        assert sorted(f for (f,) in everything) == listed
        raise RuntimeError("boom")
    assert writer.state == "aborted"
    assert {name: path.read_bytes() for name, path in files.items()} == before
    assert published_glob(root) == listed
    assert not staging_path(writer).exists()
    assert duck_count(root, "calls") == 50


def test_a_failed_background_write_fails_the_publish_and_keeps_the_old_files(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    files = publish(root, wf, [batch_for(wf, 0, 30)])
    before = {name: path.read_bytes() for name, path in files.items()}

    class FullDisk:
        def __init__(self, inner: pq.ParquetWriter) -> None:
            self.close = inner.close

        def write_table(self, table: pa.Table) -> None:
            raise OSError("No space left on device")

    with PartitionWriter(root, wf) as writer:
        writer._writers["call_tasks"] = FullDisk(writer._writers["call_tasks"])  # type: ignore[assignment]
        writer.write(batch_for(wf, 100, 40))  # encoded on the writer's thread: fails there
        with pytest.raises(OSError, match="No space left"):
            writer.publish()
    assert writer.state == "aborted"
    assert {name: path.read_bytes() for name, path in files.items()} == before
    assert not staging_path(writer).exists()


def test_leaving_without_publish_aborts(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    with PartitionWriter(root, wf) as writer:
        writer.write(batch_for(wf, 0, 5))
    assert writer.state == "aborted"
    assert published_glob(root) == []
    with pytest.raises(RuntimeError, match="aborted"):
        writer.write(batch_for(wf, 0, 5))


def test_republish_replaces_and_removes_stale_files(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    publish(root, wf, [batch_for(wf, 0, 70)])
    stale = (root / table_key("calls", wf)).with_name("part-1.parquet")
    stale.write_bytes((root / table_key("calls", wf)).read_bytes())
    second = batch_for(wf, 200, 30)
    publish(root, wf, [second])
    assert not stale.exists()
    assert len(published_glob(root)) == len(TABLES)
    for name in TABLES:
        assert duck_count(root, name) == second[name].num_rows
    ids = duckdb.connect().sql(f"SELECT call_id FROM {table_scan(root, 'calls')}").fetchall()
    assert sorted(i for (i,) in ids) == sorted(second["calls"].column("call_id").to_pylist())


def test_empty_partition_publishes_files_with_the_exact_schema(root: Path) -> None:
    wf = gen().workflow_ids()[0]
    files = publish(root, wf, [])
    for name, table in TABLES.items():
        read = pq.read_table(files[name])
        assert read.num_rows == 0
        assert read.schema.equals(table.arrow_schema(), check_metadata=True)
        assert duck_count(root, name) == 0


def test_published_schema_round_trips_descriptions(root: Path) -> None:
    wf = gen().workflow_ids()[1]
    files = publish(root, wf, [batch_for(wf, 0, 10)])
    for name, table in TABLES.items():
        assert pq.read_schema(files[name]).equals(table.arrow_schema(), check_metadata=True)


def test_numeric_looking_partition_stays_a_string(root: Path) -> None:
    publish(root, "12345", [batch_for(gen().workflow_ids()[0], 0, 3)])
    ((value,),) = (
        duckdb.connect()
        .sql(f"SELECT DISTINCT {PARTITION_COLUMN} FROM {table_scan(root, 'calls')}")
        .fetchall()
    )
    assert value == "12345"


@pytest.mark.parametrize(
    "partition", ["", "../etc", "a/b", "a.b", "wf id", "x" * 129, "é", "a\\b", ".staging"]
)
def test_invalid_partitions_are_refused_before_touching_disk(root: Path, partition: str) -> None:
    with pytest.raises(InvalidWorkflowIdError, match="invalid workflow id"):
        PartitionWriter(root, partition)
    with pytest.raises(InvalidWorkflowIdError):
        root / table_key("calls", partition)
    assert list(root.iterdir()) == []


def test_valid_partitions() -> None:
    for partition in ("otwfl_abc123", "A-b_9", "x" * 128, "0"):
        assert checked_workflow_id(partition) == partition


def test_duckdb_globs_match_dot_directories(root: Path) -> None:
    """Why staged files live outside parquet/ and do not end in .parquet (see parquet_io)."""
    hidden = root / "parquet" / "calls" / ".staging" / "x.parquet"
    hidden.parent.mkdir(parents=True)
    pq.write_table(TABLES["calls"].arrow_schema().empty_table(), hidden)
    found = (
        duckdb.connect()
        .sql(f"SELECT file FROM glob('{root}/parquet/calls/*/*.parquet')")
        .fetchall()
    )
    assert [f for (f,) in found] == [str(hidden)]


def test_a_file_column_named_like_the_partition_key_would_be_shadowed(root: Path) -> None:
    """Why no table has a workflow_id column: DuckDB silently prefers the directory's value."""
    path = root / "t" / f"{PARTITION_COLUMN}=from_path" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1], PARTITION_COLUMN: ["from_file"]}), path)
    source = f"read_parquet('{root}/t/*/*.parquet', hive_partitioning = true)"
    rows = duckdb.connect().sql(f"SELECT {PARTITION_COLUMN} FROM {source}").fetchall()
    assert rows == [("from_path",)]

"""validate_partition: blocking checks (schema, keys, parents, counts) and warnings (drift)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.flatten.flatten import FlatBatch, flatten_raw
from stuut_pipeline.flatten.parquet_io import RUN_ID_KEY, PartitionWriter
from stuut_pipeline.flatten.validate import validate_partition, validate_published

from .. import factories

WF = "otwfl_test"


@cache
def clean_batch() -> FlatBatch:
    gen = factories.generator(seed=6)
    return flatten_raw([gen.call_json(i) for i in range(80)])


@cache
def drift_batch() -> FlatBatch:
    gen = factories.generator(seed=6, schema_drift_share=0.5, string_amount_share=0.5)
    return flatten_raw([gen.call_json(i) for i in range(80)])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


def staged(root: Path, batches: list[FlatBatch]) -> dict[str, Path]:
    writer = PartitionWriter(root, WF)
    for batch in batches:
        writer.write(batch)
    return {name: root / key for name, key in writer.seal().items()}


def validate_files(root: Path, files: dict[str, Path]):
    """`validate_partition` of local files under `root`."""
    return validate_partition(root, {n: str(p.relative_to(root)) for n, p in files.items()})


def test_clean_partition_passes_every_check(root: Path) -> None:
    report = validate_files(root, staged(root, [clean_batch()]))
    assert report.passed, [c.message for c in report.blocking_failures]
    assert report.warnings == []
    assert report.row_counts == clean_batch().num_rows
    names = {c.name for c in report.checks}
    for table in TABLES:
        assert {f"{table}.schema", f"{table}.primary_key", f"{table}.enum_values"} <= names
    assert "call_tasks.parent_key" in names and "calls.child_counts" in names


def test_published_partition_validates(root: Path) -> None:
    with PartitionWriter(root, WF) as writer:
        writer.write(clean_batch())
        writer.publish()
    assert validate_published(root, WF).passed


def test_drift_is_reported_as_warnings_not_failures(root: Path) -> None:
    batch = drift_batch()
    report = validate_files(root, staged(root, [batch]))
    assert report.passed
    drifted = batch.drift.records_with_drift
    assert drifted > 0
    enums = report.check("calls.enum_values")
    assert not enums.passed and enums.severity == "warn"
    assert enums.counts == {"sentiment=mixed": drifted}
    extra = report.check("calls.extra_fields")
    assert extra.counts == {"rows_with_extra_fields": drifted}
    assert extra.examples and "escalation_level" in extra.examples[0]
    assert report.check("call_invoices.extra_fields").counts["rows_with_extra_fields"] == drifted
    assert report.check("call_tasks.extra_fields").passed


def test_duplicated_calls_fail_the_primary_keys(root: Path) -> None:
    report = validate_files(root, staged(root, [clean_batch(), clean_batch()]))
    assert not report.passed
    pk = report.check("calls.primary_key")
    assert not pk.passed and pk.severity == "blocking"
    assert pk.counts["duplicate_keys"] == clean_batch()["calls"].num_rows
    assert len(pk.examples) == 5
    assert not report.check("call_tasks.primary_key").passed
    assert not report.check("call_invoices.primary_key").passed


def test_orphan_children_fail_the_parent_key(root: Path) -> None:
    batch = clean_batch()
    calls = batch["calls"]
    parent = next(i for i, n in enumerate(calls.column("invoice_count").to_pylist()) if n > 0)
    orphan_id = calls.column("call_id")[parent].as_py()
    keep = pa.array([i != parent for i in range(calls.num_rows)])
    broken = FlatBatch({**batch.tables, "calls": calls.filter(keep)}, batch.drift)
    report = validate_files(root, staged(root, [broken]))
    check = report.check("call_invoices.parent_key")
    assert not check.passed and orphan_id in check.examples
    assert report.check("calls.child_counts").passed  # the remaining calls still match


def test_child_count_mismatch_fails(root: Path) -> None:
    batch = clean_batch()
    invoices = batch["call_invoices"]
    broken = FlatBatch({**batch.tables, "call_invoices": invoices.slice(1)}, batch.drift)
    report = validate_files(root, staged(root, [broken]))
    check = report.check("calls.child_counts")
    assert not check.passed and check.counts == {"invoice_count": 1}


def _bumped(table: pa.Table, column: str) -> pa.Table:
    """`table` with `column` one higher on its first row."""
    values = table.column(column).to_pylist()
    values[0] += 1
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.field(index), pa.array(values, table.field(index).type))


def _failed(report) -> dict[str, dict]:
    return {c.name: c.counts for c in report.checks if not c.passed}


@pytest.mark.parametrize("column", ["classification_count", "task_count", "invoice_count"])
def test_each_wrong_count_on_calls_fails_by_name(root: Path, column: str) -> None:
    batch = clean_batch()
    broken = FlatBatch({**batch.tables, "calls": _bumped(batch["calls"], column)}, batch.drift)
    report = validate_files(root, staged(root, [broken]))
    assert not report.passed
    assert _failed(report) == {"calls.child_counts": {column: 1}}


def test_a_wrong_task_count_on_a_classification_fails(root: Path) -> None:
    batch = clean_batch()
    classifications = _bumped(batch["call_classifications"], "task_count")
    broken = FlatBatch({**batch.tables, "call_classifications": classifications}, batch.drift)
    report = validate_files(root, staged(root, [broken]))
    assert not report.passed
    failed = [c for c in report.checks if not c.passed]
    assert any(c.table == "call_classifications" and "task_count" in c.counts for c in failed)


def test_schema_mismatch_and_missing_file_are_blocking(root: Path) -> None:
    files = staged(root, [clean_batch()])
    tasks = pq.read_table(files["call_tasks"])
    wrong = tasks.drop_columns(["label"]).set_column(
        0, "task_id", tasks.column("task_id").cast(pa.large_string())
    )
    pq.write_table(wrong, files["call_tasks"])
    files = {**files}
    del files["call_classifications"]
    report = validate_files(root, files)
    assert not report.passed
    schema = report.check("call_tasks.schema")
    assert not schema.passed and "label" in schema.message
    assert not report.check("call_classifications.file").passed
    names = {c.name for c in report.checks}
    assert "call_tasks.primary_key" not in names  # nothing else is read from a wrong file
    assert "calls.child_counts" not in names


def test_changed_descriptions_only_warn(root: Path) -> None:
    files = staged(root, [clean_batch()])
    table = pq.read_table(files["calls"])
    fields = [
        f.with_metadata({"description": "old text"}) if f.name == "summary" else f
        for f in table.schema
    ]
    run_id = pq.ParquetFile(files["calls"]).metadata.metadata[RUN_ID_KEY.encode()]
    changed = table.cast(pa.schema(fields, metadata=table.schema.metadata))
    with pq.ParquetWriter(files["calls"], changed.schema) as writer:  # the same run's file
        writer.write_table(changed)
        writer.add_key_value_metadata({RUN_ID_KEY: run_id.decode()})
    report = validate_files(root, files)
    assert report.passed
    docs = report.check("calls.schema_docs")
    assert not docs.passed and docs.examples == ["summary"]


def test_report_as_dict(tmp_path: Path) -> None:
    report = validate_files(tmp_path, {})
    data = report.as_dict()
    assert not report.passed
    assert {c["name"] for c in data["checks"]} == {f"{t}.file" for t in TABLES}

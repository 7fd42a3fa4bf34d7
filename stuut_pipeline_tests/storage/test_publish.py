"""Atomic publish on local disk and S3: whole partitions, no staged object ever visible."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline.storage import (
    DataLocation,
    PublishItem,
    clean_orphaned_staging,
    clean_stale_staging,
    glob_match,
    new_staging,
    orphaned_staging,
    publish_file,
    publish_files,
)

PARTITION = "parquet/calls/workflow_id=w1"


def stage_table(location: DataLocation, label: str, rows: int, name: str = "part-0.parquet"):
    """A staging dir holding one Parquet file of `rows` rows; returns (staging, staged key)."""
    staging = new_staging(location, label)
    key = staging.key_for(name)
    with location.open_output_stream(key) as out:
        pq.write_table(pa.table({"n": pa.array(range(rows), pa.int64())}), out)
    return staging, key


def rows_of(location: DataLocation, key: str) -> int:
    return pq.read_table(pa.BufferReader(location.read_bytes(key))).num_rows


def test_publish_replaces_the_partition_whole(location):
    location.write_bytes(f"{PARTITION}/part-0.parquet", b"old")
    location.write_bytes(f"{PARTITION}/stale-1.parquet", b"old")
    location.write_bytes(f"{PARTITION}/nested/old.parquet", b"old")
    location.write_bytes("parquet/calls/workflow_id=w2/part-0.parquet", b"other partition")
    staging, key = stage_table(location, "parquet-calls-w1", 7)

    final = publish_file(location, key, PARTITION, "part-0.parquet")

    assert final == f"{PARTITION}/part-0.parquet"
    assert location.list_files(PARTITION) == [final]
    assert rows_of(location, final) == 7
    assert location.read_bytes("parquet/calls/workflow_id=w2/part-0.parquet") == b"other partition"
    assert location.list_files(".staging") == []
    assert orphaned_staging(location, "parquet-calls-w1") == []

    _, key = stage_table(location, "parquet-calls-w1", 3, name="part-1.parquet")
    publish_file(location, key, PARTITION, "part-1.parquet")
    assert location.list_files(PARTITION) == [f"{PARTITION}/part-1.parquet"]
    assert rows_of(location, f"{PARTITION}/part-1.parquet") == 3


class RecordingJournal:
    """Checks that every new file is visible before any old one is deleted."""

    def __init__(self, location: DataLocation) -> None:
        self.location, self.events = location, []

    def begin(self, items) -> None:
        self.events.append("begin")

    def placed(self, items) -> None:
        assert all(self.location.exists(i.final_key) for i in items)
        assert self.location.exists("parquet/lines/workflow_id=w1/old.parquet")
        self.events.append("placed")

    def done(self, items) -> None:
        self.events.append("done")


def test_publish_files_of_one_partition_across_tables(location):
    location.write_bytes("parquet/lines/workflow_id=w1/old.parquet", b"old")
    staging = new_staging(location, "flatten-w1")
    items = []
    for table, rows in (("calls", 5), ("lines", 9)):
        key = staging.key_for(f"{table}/part-0.parquet")
        with location.open_output_stream(key) as out:
            pq.write_table(pa.table({"n": list(range(rows))}), out)
        items.append(PublishItem(key, f"parquet/{table}/workflow_id=w1", "part-0.parquet"))
    journal = RecordingJournal(location)

    finals = publish_files(location, items, journal=journal)

    assert journal.events == ["begin", "placed", "done"]
    assert location.list_files("parquet") == sorted(finals)
    assert [rows_of(location, k) for k in finals] == [5, 9]
    assert location.list_files(".staging") == []


def test_orphaned_staging_of_a_label_is_cleaned(location):
    dead1, _ = stage_table(location, "parquet-calls-w1", 2)
    dead2, _ = stage_table(location, "parquet-calls-w1", 2)
    current, _ = stage_table(location, "parquet-calls-w1", 2)
    other, _ = stage_table(location, "parquet-calls-w1x", 2)
    shorter, _ = stage_table(location, "parquet-calls", 2)

    assert orphaned_staging(location, "parquet-calls-w1") == sorted(
        [dead1.key, dead2.key, current.key]
    )
    removed = clean_orphaned_staging(location, "parquet-calls-w1", keep=current)

    assert sorted(removed) == sorted([dead1.key, dead2.key])
    left = {key.split("/")[1].rsplit("-", 1)[0] for key in location.list_files(".staging")}
    assert left == {"parquet-calls-w1", "parquet-calls-w1x", "parquet-calls"}
    assert orphaned_staging(location, "parquet-calls-w1") == [current.key]
    with pytest.raises(ValueError):
        clean_orphaned_staging(location, "../x")


def test_only_stale_staging_of_a_label_is_cleaned(location):
    fresh, _ = stage_table(location, "catalog", 1)
    other, _ = stage_table(location, "catalog-x", 1)

    assert clean_stale_staging(location, "catalog", max_age_s=3600) == []
    assert orphaned_staging(location, "catalog") == [fresh.key]

    time.sleep(1.5)  # the staging is now older than the age given below
    assert clean_stale_staging(location, "catalog", max_age_s=1.0) == [fresh.key]
    assert orphaned_staging(location, "catalog") == []
    assert orphaned_staging(location, "catalog-x") == [other.key]


ROWS = 40_000


def stage_version(location: DataLocation, workflow: str, version: int) -> str:
    """A staged file whose every row holds `version`; every version has the same byte size."""
    staging = new_staging(location, f"parquet-calls-{workflow}")
    key = staging.key_for("part-0.parquet")
    table = pa.table({"version": pa.array([version] * ROWS, pa.int64())})
    with location.open_output_stream(key) as out:
        pq.write_table(table, out, compression="none", use_dictionary=False)
    return key


def poll_reader(location: DataLocation, stop, ready, report) -> None:
    """List and read the published tree until `stop`; record anything a reader must not see."""
    while not stop.is_set():
        keys = location.list_files("parquet")
        report["listings"] += 1
        wrong = [k for k in keys if not glob_match(k, "parquet/calls/workflow_id=*/part-0.parquet")]
        per_partition = Counter(k.rsplit("/", 1)[0] for k in keys)
        if wrong or any(n != 1 for n in per_partition.values()):
            report["problems"].append(keys)
        if ready.is_set() and len(per_partition) != 2:
            report["problems"].append(("partition missing", keys))
        for key in keys:
            table = pq.read_table(pa.BufferReader(location.read_bytes(key)))
            report["reads"] += 1
            versions = set(table.column("version").to_pylist())
            if table.num_rows != ROWS or len(versions) != 1:
                report["problems"].append((key, table.num_rows, sorted(versions)[:3]))


def test_reader_never_sees_staged_or_partial_objects(location):
    """A thread lists and reads `parquet/` during 24 publishes of two partitions.

    Versions have equal sizes: pyarrow reads an S3 object by HEAD then ranged GET, so a read
    racing an overwrite of a different size would be torn by the reader itself (see
    `stuut_pipeline.storage.publish`); what is checked here is the store's promise: a listing
    shows exactly one published object per partition and no staged one, and every object
    read is one whole version.
    """
    report = {"listings": 0, "reads": 0, "problems": []}
    stop, ready = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run_reader():
        try:
            poll_reader(location, stop, ready, report)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    reader = threading.Thread(target=run_reader, daemon=True)
    reader.start()
    try:
        sizes = set()
        for version in range(24):
            workflow = "w1" if version % 2 == 0 else "w2"
            key = stage_version(location, workflow, version)
            sizes.add(location.filesystem.get_file_info(location.path(key)).size)
            publish_file(location, key, f"parquet/calls/workflow_id={workflow}", "part-0.parquet")
            if version == 1:
                ready.set()
        deadline, seen = time.monotonic() + 10, report["listings"]
        while report["listings"] < seen + 2 and time.monotonic() < deadline and not errors:
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert len(sizes) == 1, sizes
    assert not errors, errors
    assert report["problems"] == []
    assert report["listings"] >= 10 and report["reads"] >= 10, report
    assert location.list_files(".staging") == []

"""The four tables of a partition publish as one: a writer SIGKILLed at random moments of its
publishes leaves a journal, and the next writer of the partition (the next run's start) rolls it
forward, so the four published tables always come from one run; on local disk and on S3."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.flatten.flatten import flatten_raw
from stuut_pipeline.flatten.parquet_io import RUN_ID_KEY, PartitionWriter, published_files
from stuut_pipeline.flatten.validate import validate_published
from stuut_pipeline.layout import STAGING_DIR, staging_label
from stuut_pipeline.storage import DataLocation, FileJournal, orphaned_staging, recover_publish
from stuut_pipeline.storage.publish import PublishItem, _place, journal_key

from .. import factories

WF = factories.generator(seed=3).workflow_ids()[0]


def _batch(start: int, n: int):
    gen = factories.generator(seed=3)
    return flatten_raw([gen.call_json(i, workflow_id=WF) for i in range(start, start + n)])


def _runs(location: DataLocation) -> dict[str, str]:
    """The run id in each published table file's metadata."""
    runs = {}
    for name, key in published_files(WF).items():
        with location.open_input_file(key) as src:
            runs[name] = pq.ParquetFile(src).metadata.metadata[RUN_ID_KEY.encode()].decode()
    return runs


def test_an_interrupted_publish_is_rolled_forward_by_the_next_writer(location) -> None:
    """The state a kill between two placements leaves: journal written, one table placed."""
    with PartitionWriter(location, WF, run_id="run-old") as old:
        old.write(_batch(0, 30))
        old.publish()
    new = PartitionWriter(location, WF, run_id="run-new")
    new.write(_batch(100, 20))
    staged = new.seal()
    items = [
        PublishItem(key, published_files(WF)[name].rsplit("/", 1)[0], "part-0.parquet")
        for name, key in staged.items()
    ]
    label = staging_label("tables", WF)
    FileJournal(location, label).begin(items)
    _place(location, items[0])  # `calls` is the new one; the other three are still the old
    assert set(_runs(location).values()) == {"run-old", "run-new"}
    assert not validate_published(location, WF).check("calls.same_run").passed

    following = PartitionWriter(location, WF, run_id="run-next")  # the next run's start
    assert following.recovered == [published_files(WF)[name] for name in TABLES]
    following.abort()
    assert set(_runs(location).values()) == {"run-new"}
    report = validate_published(location, WF)
    assert report.passed and report.check("calls.same_run").passed
    assert report.row_counts["calls"] == 20
    assert not location.exists(journal_key(label))
    assert orphaned_staging(location, label) == []
    assert recover_publish(location, label) is None  # nothing left to do


_PUBLISHER = """
import sys
from stuut_pipeline.flatten.flatten import flatten_raw
from stuut_pipeline.flatten.parquet_io import PartitionWriter
from stuut_pipeline_tests import factories

root, wf = sys.argv[1], sys.argv[2]
gen = factories.generator(seed=3)
batches = [
    flatten_raw([gen.call_json(i, workflow_id=wf) for i in range(start, start + n)])
    for start, n in ((0, 40), (200, 25))
]
print("ready", flush=True)
n = 0
while True:
    with PartitionWriter(root, wf, run_id=f"run-{n}") as writer:
        writer.write(batches[n % 2])
        writer.publish()
    print("published", flush=True)
    n += 1
"""


def test_a_writer_killed_at_random_moments_never_leaves_tables_of_two_runs(tmp_path) -> None:
    root = tmp_path / "data"
    location = DataLocation.from_url(root)
    rng = random.Random(5)
    mixed_before_recovery = 0
    for trial in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-c", _PUBLISHER, str(root), WF],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "ready"
            started = time.monotonic()
            assert proc.stdout.readline().strip() == "published"
            one = time.monotonic() - started
            time.sleep(rng.uniform(0, one))  # inside the next write, seal or publish
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        mixed_before_recovery += len(set(_runs(location).values())) > 1
        following = PartitionWriter(location, WF)  # what the next run does first
        following.abort()
        runs = _runs(location)
        assert len(set(runs.values())) == 1, (trial, runs)
        report = validate_published(location, WF)
        assert report.passed, (trial, [c.message for c in report.blocking_failures])
        assert report.row_counts["calls"] in (40, 25)
        leftovers = [p for p in (root / STAGING_DIR).iterdir() if p.is_dir()]
        assert leftovers == [], trial
    # the journal is not a formality: some kills did land between two placements
    print(f"{mixed_before_recovery} of 10 kills left a publish half-done before recovery")

"""The marts: one file per workflow, published atomically."""

from __future__ import annotations

import fnmatch
import glob
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import PART_FILE, WAREHOUSE_FILE, dataset_glob, mart_dir, mart_key
from stuut_pipeline.storage import as_location
from stuut_pipeline.warehouse import export as export_module
from stuut_pipeline.warehouse.views import create_views, partition_view_defs

from ..reference import (
    ROLLUP_NAMES,
)
from .inputs import write_parquet


def test_marts_hold_each_workflow_once_without_a_workflow_id_column(built_once):
    data_dir, by_wf = built_once
    for rollup in ROLLUP_NAMES:
        files = sorted((data_dir / mart_dir(rollup)).glob("*/*.parquet"))
        assert [f.parent.name for f in files] == sorted(f"workflow_id={wf}" for wf in by_wf)
        for f in files:
            schema = pq.read_schema(f)
            assert "workflow_id" not in schema.names
            assert schema.names == wh.get_rollup(rollup).contract.column_names
        with duckdb.connect() as con:
            counts = con.execute(
                "SELECT workflow_id, count(*) FROM read_parquet($g, hive_partitioning = true) "
                "GROUP BY ALL",
                {"g": dataset_glob(data_dir / mart_dir(rollup))},
            ).fetchall()
        with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as db:
            assert dict(counts) == {wf: wh.count_rows(db, rollup, wf) for wf in by_wf}
    assert not list((data_dir / ".staging").iterdir())


def test_a_publish_that_raises_leaves_the_previous_file_and_no_staging(built, monkeypatch):
    """A failure inside publish_file (not a kill: see below) is cleaned up by export_mart."""
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    target = data_dir / mart_key("sentiment_rollup", wf)
    previous = target.read_bytes()

    class Killed(BaseException):
        """Like a kill: not an Exception, so no `except Exception` swallows it."""

    def killed(*args, **kwargs):
        raise Killed("killed while publishing")

    write_parquet(data_dir, by_wf[wf][:50])
    monkeypatch.setattr(export_module, "publish_file", killed)
    with wh.partition_db(data_dir, wf) as (con, _):
        wh.ensure_tables(con)
        wh.rebuild_rollup(con, "sentiment_rollup", wf)
        with pytest.raises(Killed):
            wh.export_mart(con, "sentiment_rollup", wf, data_dir)
        with pytest.raises(Killed):
            wh.build_rollup(con, "sentiment_rollup", wf, data_dir)
    assert target.read_bytes() == previous
    assert list(target.parent.iterdir()) == [target]
    assert not list((data_dir / ".staging").iterdir())
    monkeypatch.undo()
    with wh.partition_db(data_dir, wf) as (con, _):
        wh.ensure_tables(con)
        wh.rebuild_rollup(con, "sentiment_rollup", wf)
        wh.export_mart(con, "sentiment_rollup", wf, data_dir)
    assert sum(r["calls"] for r in pq.read_table(target).to_pylist()) == 50


_EXPORTER = """
import sys
from itertools import cycle
from pathlib import Path

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import PART_FILE, dataset_glob, mart_dir, mart_key, WAREHOUSE_FILE
from stuut_pipeline.warehouse.views import create_views, partition_view_defs
from stuut_pipeline.storage import as_location
from stuut_pipeline.warehouse import export as export_module

data_dir, wf = Path(sys.argv[1]), sys.argv[2]
cons = [wh.connect(Path(db)) for db in sys.argv[3:]]
print("ready", flush=True)
for con in cycle(cons):
    wh.export_mart(con, "sentiment_rollup", wf, data_dir)
    print("published", flush=True)
"""


def _rollup_file(db: Path, data_dir: Path, wf: str) -> Path:
    """A database file holding `sentiment_rollup` of `wf` built from `data_dir`."""
    with wh.connection(db) as con:
        create_views(con, partition_view_defs(con, as_location(data_dir), wf))
        wh.ensure_tables(con)
        wh.rebuild_rollup(con, "sentiment_rollup", wf)
    return db


def test_an_exporter_killed_at_random_moments_leaves_a_whole_file(built, tmp_path):
    """A real process exports two versions in turn and is SIGKILLed at random moments: the
    published file is always one of the complete versions, and no staged file is ever globbed."""
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    target = data_dir / mart_key("sentiment_rollup", wf)
    # two database files holding the rollup of all and of half the calls, exporting to one dir
    full_db = _rollup_file(tmp_path / "full.duckdb", data_dir, wf)
    half_dir = tmp_path / "half"
    write_parquet(half_dir, by_wf[wf][:50])
    half_db = _rollup_file(tmp_path / "half.duckdb", half_dir, wf)
    versions = {}
    started = time.monotonic()
    for name, db in (("half", half_db), ("full", full_db)):
        with wh.connection(db) as con:
            wh.export_mart(con, "sentiment_rollup", wf, data_dir)
            wh.export_mart(con, "sentiment_rollup", wf, data_dir)  # the same bytes each time
        versions[name] = target.read_bytes()
    one_export = (time.monotonic() - started) / 4
    assert versions["half"] != versions["full"]
    calls = {
        versions["full"]: len(by_wf[wf]),
        versions["half"]: 50,
    }
    rng = random.Random(7)
    seen = set()
    deadline = time.monotonic() + 120
    for trial in range(8):
        assert time.monotonic() < deadline, f"only {trial} trials in the time allowed"
        proc = subprocess.Popen(
            [sys.executable, "-c", _EXPORTER, str(data_dir), wf, str(full_db), str(half_db)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "ready"
            for _ in range(rng.randrange(4)):  # let a few exports complete
                assert proc.stdout.readline().strip() == "published"
            time.sleep(rng.uniform(0, one_export))  # then kill at a random moment of the next one
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        data = target.read_bytes()
        assert data in calls, f"trial {trial}: the published file is neither version"
        seen.add(data)
        rows = pq.read_table(target).to_pylist()
        assert sum(r["calls"] for r in rows) == calls[data]
        published = [
            Path(p) for p in glob.glob(dataset_glob(data_dir / mart_dir("sentiment_rollup")))
        ]
        assert sorted(p.parent.name for p in published) == sorted(f"workflow_id={w}" for w in by_wf)
        assert {p.name for p in published} == {PART_FILE}
        assert list(target.parent.iterdir()) == [target]
        staged = list((data_dir / ".staging").rglob("*"))
        assert not any(
            fnmatch.fnmatch(str(p), dataset_glob(data_dir / mart_dir("*"))) for p in staged
        )
    assert len(seen) == 2, "the kills never landed between two different versions"

"""kill -9 during a refresh, with the data location on S3 (a SeaweedFS server of its own).

The same trials as `kill.py` (stratified kills, the data reset to the first version after a
trial that refreshed the tables), but `STUUT_DATA_URL=s3://<bucket>/<prefix>` against a real
`weed server` started here on fresh loopback ports (signatures checked). After each kill every
object under the prefix is downloaded, as a reader would fetch it, into a fresh local mirror, and
the mirror is judged with the local checks: each published object is the previous version
(byte-identical) or the complete newer one published whole by a later run (the four tables
naming that one run in their `stuut.run_id`), readable whole, and no staged or temporary object
is under a published prefix. A final undisturbed run must succeed and leave no orphaned staging.
"""

from __future__ import annotations

import functools
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stuut_pipeline import settings
from stuut_pipeline.flatten.parquet_io import RUN_ID_KEY
from stuut_pipeline.storage import DataLocation, S3Options
from stuut_pipeline_tests.servers.seaweedfs import SeaweedS3, running_seaweedfs

from . import helpers as h
from .kill import LATENCY_MS

SCENARIO = "kill -9 during a refresh, on S3"


def s3_env(base: dict[str, str], server: SeaweedS3, url: str) -> dict[str, str]:
    """A run's environment pointing its data location at `url` on `server`."""
    env = dict(base)
    env.pop(settings.ENV_DATA_DIR, None)
    env.update({settings.ENV_DATA_URL: url, **server.aws_env()})
    return env


def location_of(server: SeaweedS3, url: str) -> DataLocation:
    """The reader's view of `url` (its own client, the server's one identity)."""
    options = S3Options(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
    )
    return DataLocation.from_url(url, options)


def mirror(location: DataLocation, dest: Path) -> Path:
    """Download every object under `location` into a fresh `dest` (keys as relative paths)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for key in location.list_files():
        target = dest / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(location.read_bytes(key))
    return dest


def table_run_ids(data: Path, workflow: str) -> dict[str, str | None]:
    """The `stuut.run_id` file metadata of each published table of `workflow` (None: absent)."""
    out: dict[str, str | None] = {}
    for table in h.TABLES:
        path = data / "parquet" / table / f"workflow_id={workflow}" / "part-0.parquet"
        try:
            meta = pq.read_metadata(path).metadata or {}
        except (OSError, pa.ArrowInvalid):
            meta = {}
        value = meta.get(RUN_ID_KEY.encode())
        out[table] = value.decode() if value is not None else None
    return out


def rewritten(
    data: Path,
    before: tuple[dict[str, str], dict[str, str | None]],
    newer: dict[str, h.Content],
    workflow: str,
) -> tuple[list[str], list[str]]:
    """(objects whose bytes changed, problems): a changed object must be a whole newer publish.

    Bytes may change only by a later run's publish: the complete newer content (judged by
    `judge`) and, for the tables, a run id other than before, the same for all four."""
    digests, run_ids = before
    now = h.file_digests(data)
    changed = [k for k in h.published_keys(data) if k in digests and now.get(k) != digests[k]]
    problems = []
    ids_now = table_run_ids(data, workflow)
    if len(set(ids_now.values())) != 1 or None in ids_now.values():
        problems.append(f"the four tables name different runs: {ids_now}")
    for key in changed:
        if key not in newer:
            problems.append(f"changed but not a published key of the newer version: {key}")
        table = h.dataset_of(key)
        if key.startswith("parquet/") and ids_now.get(table) == run_ids.get(table):
            problems.append(f"other bytes under the same run id: {key}")
    return changed, problems


def run(root: Path, trials: int, sizes: tuple[int, int] = (300, 2400), seed: int = 31) -> h.Result:
    """Run the S3 kill trials against a SeaweedFS server started (and stopped) here.

    The server's directory (its identities file holds the secret) is outside `root`, which the
    secret scan reads; the objects are scanned through the mirrors under `root`."""
    with (
        tempfile.TemporaryDirectory(prefix="stuut-reliability-weed-") as weed_dir,
        running_seaweedfs(Path(weed_dir)) as server,
    ):
        h.watch_secret(settings.ENV_S3_SECRET_KEY, server.secret_key)
        return _trials(root, server, trials, sizes, random.Random(seed))


def _trials(
    root: Path, server: SeaweedS3, trials: int, sizes: tuple[int, int], rng: random.Random
) -> h.Result:
    result = h.Result(SCENARIO)
    base_calls, refresh_calls = sizes
    workflow = h.workflow_ids_for(base_calls)[0]
    run_tag = uuid.uuid4().hex[:8]
    ref_url = f"s3://{server.bucket}/reliability-{run_tag}/reference"
    url = f"s3://{server.bucket}/reliability-{run_tag}/trials"

    # The complete newer version and one refresh's duration, from an undisturbed run on S3.
    ref = h.Sandbox.create(root / "reference")
    h.require_ok(
        h.run_pipeline(s3_env(ref.env(base_calls), server, ref_url), [workflow]), "first version"
    )
    started = time.time()
    refresh = h.require_ok(
        h.run_pipeline(
            s3_env(ref.env(refresh_calls, latency_ms=LATENCY_MS), server, ref_url), [workflow]
        ),
        "refresh",
    )
    newer = h.snapshot(mirror(location_of(server, ref_url), root / "reference-mirror"))
    duration = refresh.seconds
    tables_at = _published_at(location_of(server, ref_url), workflow) - started
    tables_at = min(max(tables_at, 0.1 * duration), 0.9 * duration)
    result.notes.append(
        f"one refresh on S3 takes {duration:.1f} s, its tables published at {tables_at:.1f} s;"
        f" kills uniform over [0, {tables_at:.1f}] s (even trials), or over"
        f" [0, {duration - tables_at:.1f}] s after the trial's tables were published (odd trials)"
    )

    sandbox = h.Sandbox.create(root / "trials")
    h.require_ok(
        h.run_pipeline(s3_env(sandbox.env(base_calls), server, url), [workflow]),
        "first version (trials)",
    )
    reader = location_of(server, url)
    base_url = f"s3://{server.bucket}/reliability-{run_tag}/base"
    base = location_of(server, base_url)
    _copy_all(reader, base)
    view = root / "mirror"
    env = s3_env(sandbox.env(refresh_calls, latency_ms=LATENCY_MS), server, url)
    one_run = finished_early = before_tables = identical = restored = 0
    for trial in range(trials):
        before = mirror(reader, view)
        previous = h.snapshot(before)
        state = (h.file_digests(before), table_run_ids(before, workflow))
        since = functools.partial(_published_since, reader, workflow)
        after, once = h.stratified_kill(rng, trial, tables_at, duration, since)
        finished, _ = h.run_and_kill(env, [workflow], after, root / "kill.log", once)
        finished_early += finished
        data = mirror(reader, view)
        verdict = h.judge(data, previous, newer)
        changed, problems = rewritten(data, state, newer, workflow)
        identical += not changed
        result.partial_visible += verdict.partial_visible + len(problems)
        result.rows_lost += verdict.rows_lost
        result.notes += [f"trial {trial}: {p}" for p in verdict.problems + problems]
        consistent, why = h.tables_from_one_run(data, workflow)
        one_run += consistent
        if not consistent:
            result.notes.append(f"trial {trial}: tables from different runs: {why}")
        refreshed = h.tables_refreshed(data, workflow, newer)
        before_tables += not refreshed
        if refreshed and trial < trials - 1:  # the next trial refreshes data that differ again
            for key in reader.list_files():
                reader.delete(key)
            _copy_all(base, reader)
            restored += 1
        result.trials += 1

    final_ok, orphans = _final_run(result, env, workflow, (reader, view), newer)
    result.notes.insert(
        0,
        f"tables from one run: {one_run}/{trials}; kills before the tables were refreshed:"
        f" {before_tables}/{trials}; every object byte-identical after the kill:"
        f" {identical}/{trials} (the others: replaced whole by the killed run's publish);"
        f" runs that finished before their kill: {finished_early}; data reset to the first"
        f" version after {restored} trials that refreshed the tables",
    )
    return h.settle_kill(result, one_run, trials, final_ok, orphans)


def _copy_all(source: DataLocation, dest: DataLocation) -> None:
    """Server-side copy of every object of `source` to the same keys under `dest`."""
    for key in source.list_files():
        dest.filesystem.copy_file(source.path(key), dest.path(key))


def _calls_key(workflow: str) -> str:
    return f"parquet/calls/workflow_id={workflow}/part-0.parquet"


def _published_at(location: DataLocation, workflow: str) -> float:
    """When the workflow's calls table was last published (POSIX seconds, whole on S3)."""
    return location.modified(f"parquet/calls/workflow_id={workflow}")[_calls_key(workflow)]


def _published_since(location: DataLocation, workflow: str, moment: float):
    """A poll: has a calls table been published since `moment` (S3 times are whole seconds)?"""

    def calls_published() -> bool:
        times = location.modified(f"parquet/calls/workflow_id={workflow}")
        return times.get(_calls_key(workflow), 0.0) >= moment - 1.0

    return calls_published


def _final_run(
    result: h.Result,
    env: dict[str, str],
    workflow: str,
    where: tuple[DataLocation, Path],
    newer: dict[str, h.Content],
) -> tuple[bool, list[str]]:
    """The undisturbed run after the kills: succeeds, leaves the newer version and no staging."""
    final = h.run_pipeline(env, [workflow])
    return h.judge_final_run(result, final, mirror(*where), newer)

"""Faults on S3 (SeaweedFS): a wrong secret fails the first step clearly and writes nothing; a run
SIGKILLed mid-ingest leaves the published objects as they were, and the next run cleans up."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.layout import STAGING_DIR, raw_calls_key, table_key
from stuut_pipeline.storage import DataLocation

from .. import factories
from ..processes import CLI, start_run, wait_started
from ..servers.fixtures import s3_options


def _prefix_url(server) -> str:
    return f"s3://{server.bucket}/fault-{uuid.uuid4().hex[:8]}"


def test_a_wrong_secret_fails_the_first_step_naming_endpoint_and_bucket(seaweedfs) -> None:
    url = _prefix_url(seaweedfs)
    wrong = "wrong-" + seaweedfs.secret_key[::-1]
    storage = StorageResource(
        url=url,
        endpoint_url=seaweedfs.endpoint_url,
        access_key_id=seaweedfs.access_key,
        secret_access_key=wrong,
        region=seaweedfs.region,
    )
    workflow = factories.simulator(calls=60, workflows=1).store.workflow_ids()[0]
    job = defs().resolve_job_def(PIPELINE_JOB_NAME)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workflow", [workflow])
        result = job.execute_in_process(
            instance=instance,
            partition_key=workflow,
            resources={"stuut_api": StuutApiResource(), "storage": storage},
            raise_on_error=False,
        )
        logged = "\n".join(
            str(e.dagster_event) + (e.user_message or "") for e in instance.all_logs(result.run_id)
        )
    assert not result.success
    assert result.get_failed_step_keys() == {"ingest_calls"}  # the first step, nothing after it
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description
    assert seaweedfs.endpoint_url in message and f"'{seaweedfs.bucket}'" in message, message
    assert "access key and secret key" in message and "not retryable" in message
    for secret in (wrong, seaweedfs.secret_key):
        assert secret not in message and secret not in logged
    written = DataLocation.from_url(url, s3_options(seaweedfs))
    assert written.list_files() == []


def _published(location: DataLocation, workflow: str) -> dict[str, bytes]:
    keys = [raw_calls_key(workflow), *(table_key(t, workflow) for t in TABLES)]
    return {key: location.read_bytes(key) for key in keys}


def _cli_env(seaweedfs, url: str, calls: int, tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return dict(
        os.environ,
        DAGSTER_HOME=str(home),
        **seaweedfs.aws_env(),
        STUUT_DATA_URL=url,
        STUUT_AUTOMATION_DEFAULT="stopped",
        STUUT_SIM_CALLS=str(calls),
        STUUT_SIM_WORKFLOWS="2",
        STUUT_SIM_LATENCY_MS="1000",  # a slow API: the fetch lasts long enough to be killed in
    )


def _run(env: dict[str, str], workflow: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "run", "--workflow", workflow],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_run_killed_mid_ingest_leaves_the_previous_objects(seaweedfs, tmp_path) -> None:
    url = _prefix_url(seaweedfs)
    location = DataLocation.from_url(url, s3_options(seaweedfs))
    old_calls, new_calls = 300, 2400
    workflow = factories.simulator(calls=old_calls, workflows=2).store.workflow_ids()[0]
    assert factories.simulator(calls=new_calls, workflows=2).store.workflow_ids()[0] == workflow
    old_env = _cli_env(seaweedfs, url, old_calls, tmp_path)
    first = _run({**old_env, "STUUT_SIM_LATENCY_MS": "0"}, workflow, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    before = _published(location, workflow)
    published_keys = location.list_files(pattern="parquet/*/*/*.parquet")

    env = _cli_env(seaweedfs, url, new_calls, tmp_path)  # a refresh whose data differ
    rng = random.Random(11)
    states = []
    for trial in range(3):
        proc = start_run(env, workflow, tmp_path)
        try:
            wait_started(env["DAGSTER_HOME"], proc)
            # the fetch of the slow API takes several seconds: kill inside it, at random
            time.sleep(rng.uniform(0.5, 2.5))
            assert proc.poll() is None, f"trial {trial}: the refresh ended before the kill"
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        states.append(_published(location, workflow))
        assert location.list_files(pattern="parquet/*/*/*.parquet") == published_keys

    after = _run(env, workflow, tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr
    assert location.list_files(STAGING_DIR) == []  # the orphans of the killed runs are gone
    new = _published(location, workflow)
    store = factories.simulator(calls=new_calls, workflows=2).store
    assert f"calls={len(store.records(workflow))}," in after.stdout
    # every object after every kill is whole: byte for byte the previous version, or the
    # refresh's content (the kill came after that object's publish; page order varies between
    # runs, so the refresh is compared by content); at least one kill left everything as it was
    for trial, state in enumerate(states):
        for key, data in state.items():
            assert data == before[key] or _content(key, data) == _content(key, new[key]), (
                trial,
                key,
            )
    assert before in states


def _content(key: str, data: bytes) -> object:
    """What an object holds, whatever the order: sorted records, or rows and sorted keys."""
    if key.endswith(".zst"):
        return sorted(zstandard.ZstdDecompressor().decompressobj().decompress(data).splitlines())
    table = pq.read_table(pa.BufferReader(data))
    name = key.split("/")[1]
    keys = TABLES[name].primary_key
    return table.num_rows, sorted(zip(*(table.column(k).to_pylist() for k in keys), strict=True))

"""S3 faults become one clear `StorageError` family naming endpoint and bucket, never a secret."""

from __future__ import annotations

import traceback
import uuid

import pytest

from stuut_pipeline.storage import (
    DataLocation,
    StorageAuthError,
    StorageBucketError,
    StorageError,
    StorageNetworkError,
    new_staging,
)
from stuut_pipeline_tests.servers.fixtures import s3_options
from stuut_pipeline_tests.servers.seaweedfs import free_port_block

WRONG_SECRET = "wrong-" + "x" * 30


def assert_clear(exc: BaseException, endpoint: str, bucket: str, secrets: list[str]) -> None:
    """The message names endpoint and bucket; no secret in it nor in the whole traceback."""
    text = "".join(traceback.format_exception(exc))
    assert endpoint in str(exc) and repr(bucket) in str(exc), str(exc)
    for secret in secrets:
        assert secret not in text


def test_wrong_secret_fails_clearly_and_writes_nothing(seaweedfs, s3_location):
    bad = DataLocation.from_url(
        s3_location.uri(), s3_options(seaweedfs, secret_key=WRONG_SECRET, max_attempts=1)
    )
    secrets = [WRONG_SECRET, seaweedfs.secret_key]
    for attempt in (
        lambda: bad.write_bytes("parquet/calls/workflow_id=w/part-0.parquet", b"data"),
        lambda: bad.list_files("parquet"),
        bad.check,
    ):
        with pytest.raises(StorageAuthError) as info:
            attempt()
        assert_clear(info.value, seaweedfs.endpoint_url, seaweedfs.bucket, secrets)
        assert not info.value.retryable
        assert "secret key" in str(info.value)
    assert s3_location.list_files() == []  # read with the right secret


def test_unknown_access_key_is_an_auth_error(seaweedfs, s3_location):
    bad = DataLocation.from_url(s3_location.uri(), s3_options(seaweedfs, access_key="NOSUCHKEY"))
    with pytest.raises(StorageAuthError) as info:
        bad.write_bytes("a/b", b"x")
    assert_clear(info.value, seaweedfs.endpoint_url, seaweedfs.bucket, [seaweedfs.secret_key])


def test_unknown_bucket(seaweedfs):
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    loc = DataLocation.from_url(f"s3://{bucket}/p", s3_options(seaweedfs))
    with pytest.raises(StorageBucketError) as info:
        loc.check()
    assert_clear(info.value, seaweedfs.endpoint_url, bucket, [seaweedfs.secret_key])
    with pytest.raises(StorageBucketError) as info:
        loc.write_bytes("a/b", b"x")
    assert_clear(info.value, seaweedfs.endpoint_url, bucket, [seaweedfs.secret_key])


def test_bucket_is_created_when_allowed(seaweedfs):
    bucket = f"made-{uuid.uuid4().hex[:8]}"
    loc = DataLocation.from_url(f"s3://{bucket}/p", s3_options(seaweedfs, create_bucket=True))
    loc.check()
    staging = new_staging(loc, "probe")
    loc.write_bytes(staging.key_for("x"), b"x")
    assert loc.list_files(".staging") == [staging.key_for("x")]


def test_unreachable_endpoint_is_a_retryable_network_error(seaweedfs):
    endpoint = f"http://127.0.0.1:{free_port_block(1)}"
    loc = DataLocation.from_url(
        "s3://stuut/p", s3_options(seaweedfs, endpoint_url=endpoint, max_attempts=1)
    )
    with pytest.raises(StorageNetworkError) as info:
        loc.list_files("parquet")
    assert info.value.retryable and isinstance(info.value, StorageError)
    assert_clear(info.value, endpoint, "stuut", [seaweedfs.secret_key])
    assert "reachable" in str(info.value)

"""Pytest fixtures for test servers; the root conftest re-exports them to every test folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from stuut_pipeline.storage import DataLocation, S3Options

from .seaweedfs import SeaweedS3, running_seaweedfs


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> Iterator[SeaweedS3]:
    """One SeaweedFS S3 server for the session (bucket created, signatures checked)."""
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_options(server: SeaweedS3, **overrides) -> S3Options:
    """Options reaching `server` with its identity (fields overridable, e.g. secret_key)."""
    values = {
        "endpoint_url": server.endpoint_url,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "region": server.region,
        "connect_timeout": 1.0,
        "request_timeout": 10.0,
    } | overrides
    return S3Options(**values)


@pytest.fixture
def s3_location(seaweedfs: SeaweedS3) -> DataLocation:
    """A fresh `s3://<bucket>/<unique prefix>` on the session's server."""
    url = f"s3://{seaweedfs.bucket}/t-{uuid.uuid4().hex[:10]}"
    return DataLocation.from_url(url, s3_options(seaweedfs))


@pytest.fixture(params=["local", "s3"])
def location(request, tmp_path) -> DataLocation:
    """The same test on a local directory and on a fresh prefix of the SeaweedFS S3 server."""
    if request.param == "local":
        return DataLocation.from_url(tmp_path / "out")
    return request.getfixturevalue("s3_location")

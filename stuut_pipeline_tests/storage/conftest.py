"""A `location` fixture run once on local disk and once on the SeaweedFS S3 server."""

from __future__ import annotations

import pytest

from stuut_pipeline.storage import DataLocation


@pytest.fixture(params=["local", "s3"])
def location(request, tmp_path) -> DataLocation:
    """The same tests on a local directory and on a fresh S3 prefix."""
    if request.param == "local":
        return DataLocation.from_url(tmp_path / "out")
    return request.getfixturevalue("s3_location")

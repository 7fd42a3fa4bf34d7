"""DataLocation: URLs, keys, display, and a round trip on local disk and S3."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from stuut_pipeline.storage import DataLocation, S3Options, check_key, glob_match

SECRET = "s3cr3t-value-never-shown"


def test_relative_local_path_is_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loc = DataLocation.from_url("data/out")
    assert loc.is_local and loc.root == str(tmp_path.resolve() / "data" / "out")
    assert loc.uri("a/b.parquet") == f"{tmp_path.resolve()}/data/out/a/b.parquet"
    assert isinstance(loc.filesystem, fs.LocalFileSystem)


def test_s3_url_parts_and_display_hold_no_secret():
    opts = S3Options("http://127.0.0.1:9", access_key="AK", secret_key=SECRET)
    loc = DataLocation.from_url("s3://bucket/some/prefix/", opts)
    assert (loc.bucket, loc.root) == ("bucket", "bucket/some/prefix")
    assert loc.path("k/x.parquet") == "bucket/some/prefix/k/x.parquet"
    assert loc.uri("k/x.parquet") == "s3://bucket/some/prefix/k/x.parquet"
    assert isinstance(loc.filesystem, fs.S3FileSystem)
    for text in (repr(loc), str(loc), repr(opts), loc.where, loc.uri()):
        assert SECRET not in text
    assert "http://127.0.0.1:9" in loc.where and "'bucket'" in loc.where


def test_bare_bucket_and_bad_urls():
    assert DataLocation.from_url("s3://b").root == "b"
    for bad in ("s3://", "s3://u:p@b/x", "gs://b/x", "s3://b/../x"):
        with pytest.raises(ValueError):
            DataLocation.from_url(bad)


def test_keys_are_checked_and_globs_stay_in_segments():
    for bad in ("/abs", "a//b", "a/../b", "a\\b", "", "./a"):
        with pytest.raises(ValueError):
            check_key(bad)
    assert glob_match("parquet/calls/workflow_id=x/part-0.parquet", "parquet/calls/*/*.parquet")
    assert not glob_match("parquet/calls/w/x/part-0.parquet", "parquet/calls/*/*.parquet")
    assert not glob_match(".staging/a-1/part-0.parquet", "parquet/calls/*/*.parquet")


def test_round_trip(location):
    data = os.urandom(300_000)
    location.write_bytes("raw/calls/workflow_id=w1/calls.ndjson.zst", data)
    table = pa.table({"n": list(range(1000))})
    with location.open_output_stream("parquet/calls/workflow_id=w1/part-0.parquet") as out:
        pq.write_table(table, out)

    assert location.read_bytes("raw/calls/workflow_id=w1/calls.ndjson.zst") == data
    with location.open_input_file("parquet/calls/workflow_id=w1/part-0.parquet") as src:
        assert pq.read_table(src).equals(table)
    assert location.exists("parquet/calls/workflow_id=w1/part-0.parquet")
    assert not location.exists("parquet/calls/workflow_id=w2/part-0.parquet")
    assert location.list_files() == [
        "parquet/calls/workflow_id=w1/part-0.parquet",
        "raw/calls/workflow_id=w1/calls.ndjson.zst",
    ]
    assert location.list_files(pattern="parquet/*/workflow_id=*/*.parquet") == [
        "parquet/calls/workflow_id=w1/part-0.parquet"
    ]
    assert location.list_files("nothing/here") == []

    location.delete("raw/calls/workflow_id=w1/calls.ndjson.zst")
    location.delete("raw/calls/workflow_id=w1/calls.ndjson.zst")  # missing_ok
    with pytest.raises(FileNotFoundError):
        location.delete("raw/missing", missing_ok=False)
    with pytest.raises(FileNotFoundError):
        location.read_bytes("raw/calls/workflow_id=w1/calls.ndjson.zst")
    location.delete_tree("parquet")
    assert location.list_files() == []


def test_check_passes_on_a_reachable_location(location):
    location.check()


def test_streams_never_compress_by_file_name(location):
    payload = b'{"id": 1}\n' * 100
    with location.open_output_stream("raw/calls/workflow_id=w/calls.ndjson.zst") as out:
        out.write(payload)
    with location.open_input_stream("raw/calls/workflow_id=w/calls.ndjson.zst") as src:
        assert src.read() == payload
    assert location.read_bytes("raw/calls/workflow_id=w/calls.ndjson.zst") == payload

"""The raw landing: records as received, one per line, published atomically or not at all;
on local disk and on S3."""

import json

import msgspec
import pytest

from stuut_pipeline.layout import raw_calls_key, staging_label
from stuut_pipeline.raw_landing import RawCallsLanding, iter_raw_lines
from stuut_pipeline.storage import DataLocation, orphaned_staging
from stuut_pipeline.stuut_api.client import FetchedRecord, decode_key

WF = "otwfl_landing"


def _rec(doc: dict, *, supersedes: bool = False, indent: int | None = None) -> FetchedRecord:
    raw = msgspec.Raw(json.dumps(doc, indent=indent).encode())
    return FetchedRecord(raw, decode_key(raw), supersedes)


def _calls(n: int, start: int = 0) -> list[FetchedRecord]:
    return [
        _rec({"id": f"call_{i}", "modified_at": "2026-01-01T00:00:00Z", "n": i})
        for i in range(start, start + n)
    ]


def test_pages_land_in_order_byte_for_byte(location: DataLocation) -> None:
    pages = [_calls(3), _calls(2, start=3), _calls(4, start=5)]
    with RawCallsLanding(location, WF) as landing:
        for page in pages:
            landing.write(page)
        path = landing.publish()
    assert path == raw_calls_key(WF)
    expected = [bytes(r.raw) for page in pages for r in page]
    assert list(iter_raw_lines(location, path)) == expected
    assert landing.records == 9
    assert landing.bytes_raw == sum(len(line) + 1 for line in expected)
    assert orphaned_staging(location, staging_label("raw", WF)) == []


def test_line_breaks_inside_a_record_become_spaces(location: DataLocation) -> None:
    doc = {"id": "call_pretty", "modified_at": None, "nested": {"a": [1, 2], "b": "x\ny"}}
    pretty = _rec(doc, indent=2)
    crlf = _rec({"id": "call_crlf"})
    crlf = FetchedRecord(msgspec.Raw(b'{\r\n"id": "call_crlf"}'), crlf.record)
    with RawCallsLanding(location, WF) as landing:
        landing.write([*_calls(1), pretty, crlf])
        path = landing.publish()
    lines = list(iter_raw_lines(location, path))
    assert len(lines) == 3
    assert json.loads(lines[1]) == doc  # the string's escaped \n is kept
    assert json.loads(lines[2]) == {"id": "call_crlf"}


def test_a_superseding_record_replaces_the_older_line(location: DataLocation) -> None:
    old = _rec({"id": "call_1", "modified_at": "2026-01-01T00:00:00Z", "v": "old"})
    new = _rec({"id": "call_1", "modified_at": "2026-01-02T00:00:00Z", "v": "new"}, supersedes=True)
    with RawCallsLanding(location, WF) as landing:
        landing.write([_calls(1)[0], old])
        landing.write([new, *_calls(1, start=2)])
        path = landing.publish()
    docs = [json.loads(line) for line in iter_raw_lines(location, path)]
    assert [d["id"] for d in docs] == ["call_0", "call_1", "call_2"]
    assert docs[1]["v"] == "new"
    assert landing.records == 3


def test_a_failure_leaves_the_published_landing_untouched(location: DataLocation) -> None:
    with RawCallsLanding(location, WF) as landing:
        landing.write(_calls(2))
        landing.publish()
    before = location.read_bytes(raw_calls_key(WF))

    with pytest.raises(RuntimeError, match="boom"), RawCallsLanding(location, WF) as landing:
        landing.write(_calls(5, start=10))
        raise RuntimeError("boom")
    assert location.read_bytes(raw_calls_key(WF)) == before

    # a write that fails on the background thread surfaces at publish, and nothing is published
    with RawCallsLanding(location, WF) as landing:

        class FullDisk:
            def __init__(self, inner: object) -> None:
                self.close = inner.close  # type: ignore[attr-defined]

            def write(self, data: bytes) -> int:
                raise OSError("No space left on device")

        landing._writer = FullDisk(landing._writer)
        landing.write(_calls(3, start=20))
        with pytest.raises(OSError, match="No space left"):
            landing.publish()
    assert location.read_bytes(raw_calls_key(WF)) == before
    assert orphaned_staging(location, staging_label("raw", WF)) == []

"""Pages holding lone UTF-16 surrogate escapes: legal JSON msgspec refuses. The client decodes
them, hands out every record byte for byte as sent, and still refuses a truly malformed body."""

from __future__ import annotations

import json
import random

import httpx
import msgspec
import pytest

from stuut_pipeline.raw_landing import Quarantined, key_or_quarantine
from stuut_pipeline.stuut_api import CallsQuery, StuutClient, StuutRetriesExhausted
from stuut_pipeline.stuut_api.client import decode_key
from stuut_pipeline.stuut_api.surrogates import lone_surrogate_spans, replace_lone_surrogates

#: Records as Python's json.dumps writes them (it escapes a lone surrogate as `\ud800`).
RECORDS = [
    {"id": "call_a", "summary": "ends badly \ud800", "modified_at": "2026-09-01T00:00:00Z"},
    {"id": "call_b", "summary": "a backslash then text: \\ud800"},
    {"id": "call_c", "summary": "a real pair \U0001f600 and a lone low \udc00"},
    {"id": "call_d", "summary": "high high low \ud800\ud800\udc00"},
    {"id": "call_e", "summary": "plain, with \\\ud800 (a backslash, then a lone escape)"},
    {"id": "call_f", "summary": "no surrogate at all"},
]


def dumped(record: object) -> bytes:
    return json.dumps(record).encode()


def body_of(records: list[bytes], total: int | None = None) -> bytes:
    total = len(records) if total is None else total
    data = b", ".join(records)
    return b'{"data": [' + data + b'], "current_page": 0, "total_records": %d}' % total


def client_serving(body: bytes, max_attempts: int = 3) -> tuple[StuutClient, list[int]]:
    requests: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(1)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    client = StuutClient(
        "http://api.invalid",
        "secret-token",
        transport=httpx.MockTransport(answer),
        max_attempts=max_attempts,
        sleep=lambda _: None,
    )
    return client, requests


def fetch_all(client: StuutClient, **kwargs) -> tuple[list, object]:
    fetch = client.fetch_calls(CallsQuery(limit=100), **kwargs)
    records = [r for page in fetch for r in page.records]
    return records, fetch.report


def test_the_body_really_carries_lone_surrogate_escapes() -> None:
    raw = body_of([dumped(r) for r in RECORDS])
    assert rb'"ends badly \ud800"' in raw
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(raw)  # what made the page fail before


def test_a_page_with_lone_surrogates_decodes_and_every_record_is_byte_exact() -> None:
    sent = [dumped(r) for r in RECORDS]
    client, requests = client_serving(body_of(sent))
    with client:
        records, report = fetch_all(client)
    assert [bytes(r.raw) for r in records] == sent
    assert [r.record.id for r in records] == [r["id"] for r in RECORDS]
    assert records[0].record.modified_at == "2026-09-01T00:00:00Z"
    assert len(requests) == 1 and report.retries == 0
    assert report.records == report.total_records == len(RECORDS)
    assert rb"\ud800" in bytes(records[0].raw)  # the escape itself, not the placeholder
    assert json.loads(bytes(records[0].raw))["summary"] == RECORDS[0]["summary"]


def test_a_lone_surrogate_in_the_id_is_quarantined_not_fatal() -> None:
    bad_id = dumped({"id": "call_\udfff", "summary": "x"})
    sent = [dumped(RECORDS[0]), bad_id, dumped(RECORDS[5])]
    client, _ = client_serving(body_of(sent))
    with client:
        records, report = fetch_all(client, decode=key_or_quarantine)
    assert [bytes(r.raw) for r in records] == sent
    assert isinstance(records[1].record, Quarantined)
    assert "lone surrogate" in records[1].record.reason
    assert [r.record.id for r in records if not isinstance(r.record, Quarantined)] == [
        "call_a",
        "call_f",
    ]
    assert report.records_received == 3


def test_decode_key_around_lone_surrogates() -> None:
    assert decode_key(dumped(RECORDS[0])).id == "call_a"
    unknown_time = decode_key(dumped({"id": "call_x", "modified_at": "2026-09-01\ud800"}))
    assert unknown_time.id == "call_x" and unknown_time.modified_at is None
    with pytest.raises(msgspec.DecodeError, match="lone surrogate"):
        decode_key(dumped({"id": "\ud800"}))
    with pytest.raises(msgspec.DecodeError):
        decode_key(b'{"id": "call_x", "summary": "truncated')  # malformed stays malformed


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        (rb'"\ud800"', [(1, 7)]),
        (rb'"\\ud800"', []),  # an escaped backslash, then the text `ud800`
        (rb'"\\\ud800"', [(3, 9)]),  # an escaped backslash, then a lone escape
        (rb'"\ud83d\ude00"', []),  # a valid pair
        (rb'"\uD83D\uDE00"', []),  # a valid pair, upper case
        (rb'"\udc00"', [(1, 7)]),  # a lone low surrogate
        (rb'"\ud800\ud800\udc00"', [(1, 7)]),  # the second high pairs with the low
        (rb'"\u0041\n\udbff"', [(9, 15)]),
    ],
)
def test_lone_surrogate_spans(text: bytes, spans: list[tuple[int, int]]) -> None:
    assert lone_surrogate_spans(text) == spans
    marked, lone = replace_lone_surrogates(text, b"#")
    assert lone == [text[a:b] for a, b in spans]
    assert marked.count(b"#") == len(spans)


@pytest.mark.parametrize(
    "body",
    [
        body_of([dumped(RECORDS[0]), dumped(RECORDS[5])])[:-20],  # truncated, with a lone escape
        body_of([b'{"id": "call_a", "summary": "\\ud800"'], 1),  # an object never closed
        b'{"data": [{"id": "call_a", "bad": "\\uZZZZ"}], "total_records": 1}',  # a broken escape
    ],
)
def test_a_truly_malformed_body_is_retried_then_fails_clearly(body: bytes) -> None:
    client, requests = client_serving(body, max_attempts=3)
    with client, pytest.raises(StuutRetriesExhausted) as err:
        fetch_all(client)
    assert len(requests) == 3
    message = str(err.value)
    assert "malformed response body" in message and "page 0" in message
    assert "secret-token" not in message


def lone_in(text: str) -> int:
    """Lone surrogates of a Python string, counted code point by code point."""
    count, i = 0, 0
    while i < len(text):
        high = "\ud800" <= text[i] <= "\udbff"
        low_next = i + 1 < len(text) and "\udc00" <= text[i + 1] <= "\udfff"
        if high and low_next:
            i += 2
            continue
        count += "\ud800" <= text[i] <= "\udfff"
        i += 1
    return count


def test_the_scan_agrees_with_python_on_random_text() -> None:
    rng = random.Random(7)
    alphabet = ["\ud800", "\udbff", "\udc00", "\udfff", "\\", "u", "d", "8", "a", "\n"]
    alphabet.append("\U0001f600")
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        raw = json.dumps({"id": "x", "t": text}).encode()
        assert len(lone_surrogate_spans(raw)) == lone_in(text), (text, raw)
        assert json.loads(replace_lone_surrogates(raw, b"\\uFFFD")[0])["t"].count("\ufffd") == (
            lone_in(text)
        )

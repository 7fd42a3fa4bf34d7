"""The API client against the in-process simulator and the real HTTP server, with every fault."""

from __future__ import annotations

import logging
import re
import threading
import time

import httpx
import orjson
import pytest

from stuut_pipeline.simulator import (
    FaultConfig,
    SimulatorServer,
    SimulatorTransport,
    StuutSimulator,
)
from stuut_pipeline.stuut_api import (
    CallsQuery,
    InvalidParameterError,
    StuutAuthError,
    StuutClient,
    StuutNotFoundError,
    StuutRequestRejected,
    StuutRetriesExhausted,
)
from stuut_pipeline.stuut_api.enums import CLASSIFICATIONS, SENTIMENTS

from .. import factories
from ..factories import TOKEN
from ..transports import CountingTransport, status_transport


def no_sleep(_: float) -> None:
    pass


def fetch_ids(client: StuutClient, query: CallsQuery) -> tuple[list[str], object]:
    fetch = client.fetch_calls(query)
    ids: list[str] = []
    for page in fetch:
        ids.extend(r.record.id for r in page.records if not r.supersedes)
    return ids, fetch.report


def in_process(sim: StuutSimulator, **kw) -> StuutClient:
    return StuutClient("http://sim.invalid", TOKEN, transport=SimulatorTransport(sim), **kw)


# --- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"limit": 0}, ["limit", "1", "200"]),
        ({"limit": 201}, ["limit", "1", "200"]),
        ({"limit": True}, ["limit"]),
        ({"limit": "50"}, ["limit"]),
        ({"sentiment": ("positive", "happy")}, ["sentiment", "happy", *SENTIMENTS]),
        ({"sentiment": "positive,negative"}, ["sentiment", "positive, negative"]),
        ({"classification": ["refund"]}, ["classification", "refund", *CLASSIFICATIONS]),
        ({"direction": "sideways"}, ["direction", "inbound", "outbound"]),
        ({"workflow": ""}, ["workflow", "otwfl_"]),
        ({"partner": " "}, ["partner", "ptn_"]),
    ],
)
def test_invalid_parameters_are_refused_before_any_request(kwargs, names) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    with pytest.raises(InvalidParameterError) as info:
        client = StuutClient("http://x.invalid", TOKEN, transport=transport)
        list(client.fetch_calls(CallsQuery(**kwargs)))
    for name in names:
        assert name in str(info.value)
    assert sent == []


def test_negative_page_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="page"):
        CallsQuery().params(-1)


def test_list_parameters_go_as_repeated_keys() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(
            200, json={"data": [], "current_page": 0, "total_records": 0, "next_page": None}
        )

    client = StuutClient("http://x.invalid", TOKEN, transport=httpx.MockTransport(answer))
    query = CallsQuery(
        limit=10,
        sentiment=("positive", "negative"),
        classification=("complaint", "payment_promise"),
        direction="outbound",
        invoice="inv_1",
        partner="ptn_1",
        workflow="otwfl_1",
    )
    list(client.fetch_calls(query))
    params = seen[0].params
    assert params.get_list("sentiment") == ["positive", "negative"]
    assert params.get_list("classification") == ["complaint", "payment_promise"]
    assert (params["page"], params["limit"], params["direction"]) == ("0", "10", "outbound")
    assert (params["invoice"], params["partner"], params["workflow"]) == (
        "inv_1",
        "ptn_1",
        "otwfl_1",
    )
    assert seen[0].path == "/v1/calls"


# --- fetching -------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("limit", [7, 50, 200])
def test_fetch_returns_exactly_each_workflows_calls(plain_sim, concurrency, limit) -> None:
    client = in_process(plain_sim, concurrency=concurrency)
    for workflow in plain_sim.store.workflow_ids():
        ids, report = fetch_ids(client, CallsQuery(limit=limit, workflow=workflow))
        expected = plain_sim.store.ids(workflow)
        assert len(ids) == len(set(ids)) == len(expected)
        assert set(ids) == expected
        assert report.total_records == len(expected)
        assert report.total_records_matched is True
        assert report.pages == -(-len(expected) // limit)
        assert report.duplicates_dropped == 0 and report.retries == 0


def test_filters_match_the_records(plain_sim, sim_client) -> None:
    client = sim_client
    records = plain_sim.store.records()
    cases = [
        (
            CallsQuery(limit=200, sentiment=("negative", "neutral")),
            lambda c: c["sentiment"] in {"negative", "neutral"},
        ),
        (CallsQuery(limit=200, direction="inbound"), lambda c: c["direction"] == "inbound"),
        (
            CallsQuery(limit=200, classification=("complaint",)),
            lambda c: any(k["classification"] == "complaint" for k in c["classifications"]),
        ),
        (
            CallsQuery(limit=200, partner=records[0]["partner_id"]),
            lambda c: c["partner_id"] == records[0]["partner_id"],
        ),
    ]
    invoiced = next(c for c in records if c["invoices"])
    inv = invoiced["invoices"][0]["id"]
    cases.append(
        (CallsQuery(limit=200, invoice=inv), lambda c: any(i["id"] == inv for i in c["invoices"]))
    )
    for query, predicate in cases:
        ids, _ = fetch_ids(client, query)
        expected = {c["id"] for c in records if predicate(c)}
        assert expected, query
        assert set(ids) == expected, query.describe()


@pytest.mark.parametrize("prefetch", [0, 2, 5])
def test_pages_are_yielded_as_they_arrive_and_prefetched_within_a_bound(prefetch) -> None:
    sim = factories.simulator(calls=400, workflows=1, seed=3)
    concurrency = 2
    asked = {"pages": 0, "sent": 0}  # pages the consumer asked for (before each next()), sent
    over_bound: list[tuple[int, int]] = []
    lock = threading.Lock()

    class Bounded(SimulatorTransport):
        """Checks, as each request is sent, that it is within the bound ahead of the consumer."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            with lock:
                asked["sent"] += 1
                if asked["sent"] > asked["pages"] + concurrency + prefetch:
                    over_bound.append((asked["sent"], asked["pages"]))
            return super().handle_request(request)

    client = StuutClient(
        "http://sim.invalid",
        TOKEN,
        transport=Bounded(sim),
        concurrency=concurrency,
        prefetch=prefetch,
    )
    pages = iter(client.fetch_calls(CallsQuery(limit=10)))
    asked["pages"] += 1
    first = next(pages)
    assert len(first.records) == 10
    assert sim.requests == 1  # page 0 tells total_records; nothing else was asked yet
    asked["pages"] += 1
    next(pages)
    # While the consumer works on that page, the page threads keep fetching: 2 in flight and
    # `prefetch` more (the window refilled once by the page taken), never the 40 pages.
    window = 1 + (concurrency + prefetch) + 1
    deadline = time.monotonic() + 10
    while sim.requests < window and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.requests == window
    rest = 0
    while True:
        asked["pages"] += 1
        if next(pages, None) is None:
            break
        rest += 1
    assert rest == 38
    assert over_bound == []
    with pytest.raises(ValueError, match="prefetch"):
        in_process(sim, prefetch=-1)


def test_raw_bytes_are_the_records_as_received(plain_sim, sim_client) -> None:
    client = sim_client
    workflow = plain_sim.store.workflow_ids()[0]
    by_id = {c["id"]: c for c in plain_sim.store.records(workflow)}
    for page in client.fetch_calls(CallsQuery(limit=100, workflow=workflow)):
        for rec in page.records:
            assert orjson.loads(bytes(rec.raw)) == by_id[rec.record.id]


# --- faults, in-process and over real HTTP ----------------------------------------------------

FAULTS = {
    "429": FaultConfig(rate_429=0.3, retry_after_s=0.01),
    "500": FaultConfig(rate_500=0.3),
    "malformed": FaultConfig(rate_malformed=0.3),
    "disconnect": FaultConfig(rate_disconnect=0.3),
    "latency": FaultConfig(latency_ms=15),
    "drift": FaultConfig(drift_inserts=6, drift_every=2),
    "all": FaultConfig(
        rate_429=0.1,
        rate_500=0.1,
        rate_malformed=0.1,
        rate_disconnect=0.05,
        retry_after_s=0.01,
        latency_ms=2,
        drift_inserts=5,
        drift_every=3,
    ),
}


@pytest.mark.parametrize("served", ["in-process", "http"])
@pytest.mark.parametrize("fault", [*FAULTS, "schema-drift"])
def test_each_fault_still_yields_exactly_the_final_set(served, fault) -> None:
    if fault == "schema-drift":
        sim = factories.simulator(calls=160, workflows=2, seed=5, schema_drift_share=0.5)
    else:
        sim = factories.simulator(calls=160, workflows=2, seed=5, faults=FAULTS[fault])
    options = {"concurrency": 4, "max_attempts": 12, "sleep": no_sleep, "backoff_base": 0.001}
    workflows = sim.store.workflow_ids()
    if served == "http":
        server = SimulatorServer(sim).start()
        client = StuutClient(server.url, TOKEN, **options)
    else:
        server = None
        client = in_process(sim, **options)
    try:
        for workflow in workflows:
            ids, report = fetch_ids(client, CallsQuery(limit=10, workflow=workflow))
            assert len(ids) == len(set(ids))
            assert set(ids) == sim.store.ids(workflow), (fault, workflow)
            assert report.total_records_matched is True
            if fault in ("429", "500", "malformed", "disconnect"):
                assert report.retries > 0
                assert sum(report.retry_reasons.values()) == report.retries
    finally:
        client.close()
        if server:
            server.stop()
    if fault == "drift":
        assert sim.faults_injected["drift_insert"] == 6
        assert len(sim.store) == 166
    if fault in ("429", "500", "malformed", "disconnect"):
        assert sim.faults_injected[fault] > 0


def test_drift_is_reported_as_duplicates_and_extra_pass() -> None:
    sim = factories.simulator(calls=100, workflows=1, seed=2, faults=FaultConfig(drift_inserts=3))
    client = in_process(sim, concurrency=1)
    workflow = sim.store.workflow_ids()[0]
    ids, report = fetch_ids(client, CallsQuery(limit=10, workflow=workflow))
    assert set(ids) == sim.store.ids(workflow)
    assert report.duplicates_dropped > 0
    assert report.passes >= 2
    assert report.first_total_records < report.total_records == len(ids)


def test_newer_version_of_a_record_supersedes_the_older() -> None:
    old = {"id": "call_1", "modified_at": "2026-01-01T00:00:00Z", "v": 1}
    new = {"id": "call_1", "modified_at": "2026-01-02T00:00:00Z", "v": 2}
    pages = [
        {"data": [old, {"id": "call_2"}], "current_page": 0, "total_records": 3, "next_page": 1},
        {"data": [new, {"id": "call_3"}], "current_page": 1, "total_records": 3, "next_page": None},
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[int(request.url.params["page"])])

    client = StuutClient("http://x.invalid", TOKEN, transport=httpx.MockTransport(answer))
    fetch = client.fetch_calls(CallsQuery(limit=2))
    got = [
        (r.record.id, r.supersedes, orjson.loads(bytes(r.raw)).get("v"))
        for p in fetch
        for r in p.records
    ]
    assert got == [
        ("call_1", False, 1),
        ("call_2", False, None),
        ("call_1", True, 2),
        ("call_3", False, None),
    ]
    assert fetch.report.superseded == 1 and fetch.report.records == 3


# --- errors that are not retried, and errors after retries ---------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_wrong_token_is_not_retried_and_says_what_to_fix(plain_sim, status, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    # 401: the simulator's answer to a wrong token; 403: a token the API knows but refuses
    inner = SimulatorTransport(plain_sim) if status == 401 else status_transport(403, "Forbidden")
    counting = CountingTransport(inner)
    slept: list[float] = []
    client = StuutClient(
        "http://sim.invalid", "wrong-token", transport=counting, sleep=slept.append, max_attempts=5
    )
    before = plain_sim.requests
    with pytest.raises(StuutAuthError) as info:
        list(client.fetch_calls())
    assert "STUUT_API_TOKEN" in str(info.value) and f"HTTP {status}" in str(info.value)
    assert len(counting.sent) == 1  # what the client sent: one request, no retry
    assert slept == [] and "retry" not in caplog.text
    assert plain_sim.requests == before  # the simulator refused before counting a page request


def test_404_points_at_the_base_url() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "Not Found"}))
    client = StuutClient("http://x.invalid", TOKEN, transport=transport, sleep=no_sleep)
    with pytest.raises(StuutNotFoundError, match="STUUT_API_BASE_URL"):
        list(client.fetch_calls())


def test_422_is_not_retried_and_carries_the_servers_detail() -> None:
    calls = []
    detail = [{"loc": ["query", "limit"], "msg": "Input should be less than or equal to 200"}]

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(422, json={"detail": detail})

    client = StuutClient("http://x.invalid", TOKEN, transport=httpx.MockTransport(answer))
    with pytest.raises(StuutRequestRejected) as info:
        list(client.fetch_calls())
    assert info.value.detail == detail
    assert "less than or equal to 200" in str(info.value)
    assert len(calls) == 1


def test_retries_exhausted_names_page_attempts_and_last_status() -> None:
    sim = factories.simulator(calls=30, faults=FaultConfig(rate_500=1.0))
    client = in_process(sim, max_attempts=4, sleep=no_sleep)
    with pytest.raises(StuutRetriesExhausted) as info:
        list(client.fetch_calls())
    message = str(info.value)
    assert "page 0" in message and "4 attempts" in message and "HTTP 500" in message
    assert info.value.attempts == 4 and sim.requests == 4


def test_retry_after_is_honoured_and_capped() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(503),
            httpx.Response(
                200, json={"data": [], "current_page": 0, "total_records": 0, "next_page": None}
            ),
        ]
    )
    slept: list[float] = []
    client = StuutClient(
        "http://x.invalid",
        TOKEN,
        transport=httpx.MockTransport(lambda r: next(answers)),
        sleep=slept.append,
        retry_after_cap=20,
        backoff_base=0.5,
    )
    fetch = client.fetch_calls()
    list(fetch)
    assert 7 <= slept[0] <= 7.2
    assert 20 <= slept[1] <= 20.2
    assert 0.5 <= slept[2] <= 2.0  # third attempt: exponential ceiling 2s, jittered over [1, 2]
    assert fetch.report.retries == 3
    assert fetch.report.retry_reasons == {"HTTP 429": 2, "HTTP 503": 1}


def test_backoff_grows_exponentially_with_jitter() -> None:
    client = StuutClient("http://x.invalid", TOKEN, backoff_base=1, backoff_max=10)
    delays = [[client._backoff(a, None) for _ in range(200)] for a in (1, 2, 3, 4, 5, 6)]
    for attempt, values in enumerate(delays, start=1):
        ceiling = min(10, 2 ** (attempt - 1))
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(set(values)) > 1


# --- the token stays secret ------------------------------------------------------------------


def test_token_never_appears_in_logs_errors_reprs_or_reports(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    sim = factories.simulator(calls=60, faults=FaultConfig.with_rate(0.4, retry_after_s=0.0))
    server = SimulatorServer(sim).start()
    try:
        for base in (server.url, "http://sim.invalid"):
            transport = None if base == server.url else SimulatorTransport(sim)
            client = StuutClient(base, TOKEN, transport=transport, sleep=no_sleep, max_attempts=20)
            fetch = client.fetch_calls(CallsQuery(limit=5))
            list(fetch)
            texts += [repr(client), str(fetch.report.as_dict()), repr(fetch.report)]
            texts.append(repr(client._http.headers))
        broken = factories.simulator(calls=5, faults=FaultConfig(rate_500=1.0))
        for client, error in [
            (StuutClient(server.url, TOKEN + "x"), StuutAuthError),
            (
                StuutClient(
                    "http://x.invalid",
                    TOKEN,
                    transport=SimulatorTransport(broken),
                    max_attempts=2,
                    sleep=no_sleep,
                ),
                StuutRetriesExhausted,
            ),
            (
                StuutClient("http://127.0.0.1:9", TOKEN, max_attempts=2, sleep=no_sleep),
                StuutRetriesExhausted,
            ),
        ]:
            with pytest.raises(error) as info:
                list(client.fetch_calls())
            texts += [str(info.value), repr(info.value), repr(client)]
    finally:
        server.stop()
    texts.append(caplog.text)
    assert re.search(r"retry \d+/\d+ in", caplog.text)  # the retry warnings were captured
    for text in texts:
        assert TOKEN not in text


@pytest.mark.parametrize(
    ("candidate", "current", "newer"),
    [
        ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", True),
        ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", False),
        ("2026-01-01T00:00:00.000002Z", "2026-01-01T00:00:00.000001Z", True),  # microseconds
        ("2026-01-02T00:00:00+02:00", "2026-01-01T23:00:00Z", False),  # 22:00Z is older
        ("2026-01-01T12:00:00", "2026-01-01T11:00:00Z", True),  # naive is read as UTC
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", False),  # the same instant
        ("2026-01-01T00:00:00Z", None, True),
        (None, "2026-01-01T00:00:00Z", False),
        ("2026-01-01T00:00:00Z", "yesterday", True),  # a valid timestamp beats one that is not
        ("yesterday", "2026-01-01T00:00:00Z", False),
        ("b-not-a-date", "a-not-a-date", True),  # neither valid: compared as text
    ],
)
def test_which_version_of_a_record_wins(candidate, current, newer) -> None:
    from stuut_pipeline.stuut_api.client import _instant, _is_newer

    assert _is_newer(_instant(candidate), _instant(current)) is newer

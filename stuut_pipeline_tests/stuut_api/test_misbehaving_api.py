"""Issue 14: a misbehaving API ends, each case, in bounded time with exact data or a clear error.

Each case is a fault switch of the simulator (`FaultConfig`), driven through the real client:
in-process for the paging cases, over the real HTTP server for the timing ones (read timeout,
trickled body, connection reset). Every test measures its wall time and asserts an upper bound
that proves no hang; `WALL_TIMES` keeps them for `-s` runs (the table in RELIABILITY.md).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import pytest

from stuut_pipeline.simulator import FaultConfig, SimulatorServer, StuutSimulator
from stuut_pipeline.stuut_api import (
    CallsQuery,
    StuutClient,
    StuutPagingError,
    StuutRetriesExhausted,
)

from .. import factories
from ..factories import TOKEN
from .test_client import fetch_ids, in_process, no_sleep

NO_HANG_S = 30.0  # far above any case's time; only a hang (or a retry storm) reaches it
WALL_TIMES: dict[str, float] = {}


@contextmanager
def bounded(case: str, limit: float = NO_HANG_S):
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    WALL_TIMES[case] = elapsed
    print(f"\n{case}: {elapsed:.3f}s")
    assert elapsed < limit, f"{case} took {elapsed:.1f}s: a hang"


def one_workflow(calls: int, faults: FaultConfig, seed: int = 3) -> tuple[StuutSimulator, str]:
    sim = factories.simulator(calls=calls, workflows=1, seed=seed, faults=faults)
    return sim, sim.store.workflow_ids()[0]


@contextmanager
def served(sim: StuutSimulator, **options):
    with SimulatorServer(sim) as server, StuutClient(server.url, TOKEN, **options) as client:
        yield client


# --- next_page cycles -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("cycle_to", [0, 3])
def test_next_page_cycle_stops_with_a_clear_error(cycle_to, concurrency) -> None:
    sim, workflow = one_workflow(120, FaultConfig(next_page_cycle_to=cycle_to))
    client = in_process(sim, concurrency=concurrency)
    with (
        bounded(f"next_page cycle to {cycle_to}, concurrency {concurrency}"),
        pytest.raises(StuutPagingError) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    message = str(info.value)
    assert "page 5" in message and f"next_page={cycle_to}" in message
    assert "does not advance" in message
    assert (info.value.page, info.value.next_page) == (5, cycle_to)
    assert sim.requests <= 6  # each page once: the cycle is not followed
    assert sim.faults_injected["next_page_cycle"] >= 1


# --- total_records lies --------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [50, 10**9])
def test_total_records_above_the_data_ends_bounded_and_not_reconciled(offset, caplog) -> None:
    sim, workflow = one_workflow(120, FaultConfig(total_records_offset=offset))
    client = in_process(sim, concurrency=4)
    with (
        caplog.at_level(logging.WARNING, "stuut_pipeline.stuut_api"),
        bounded(f"total_records +{offset}"),
    ):
        ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))  # exact data, no duplicates
    assert report.total_records == len(ids) + offset
    assert report.total_records_matched is False  # flagged: the landing's check fails
    assert report.passes == 2  # the catch-up pass found nothing new and stopped
    assert sim.requests < 30  # not 5 million empty pages for a total of 10**9
    assert "not reconciled" in caplog.text


def test_total_records_below_the_data_still_reads_everything() -> None:
    sim, workflow = one_workflow(120, FaultConfig(total_records_offset=-30))
    client = in_process(sim, concurrency=4)
    with bounded("total_records -30"):
        ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))  # next_page is followed past the total
    assert report.total_records == len(ids) - 30
    assert report.total_records_matched is False  # more calls than announced: flagged


# --- an empty page in the middle ----------------------------------------------------------


def test_a_page_empty_once_is_refetched_by_the_catch_up_pass() -> None:
    sim, workflow = one_workflow(120, FaultConfig(empty_page=2, empty_page_times=1))
    client = in_process(sim, concurrency=4)
    with bounded("empty page 2, once"):
        ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))
    assert report.total_records_matched is True
    assert report.passes == 2
    assert sim.faults_injected["empty_page"] == 1


def test_a_page_always_empty_is_a_flagged_short_read(caplog) -> None:
    sim, workflow = one_workflow(120, FaultConfig(empty_page=2, empty_page_times=10**6))
    client = in_process(sim, concurrency=4)
    with (
        caplog.at_level(logging.WARNING, "stuut_pipeline.stuut_api"),
        bounded("empty page 2, always"),
    ):
        ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    truth = sim.store.ids(workflow)
    assert len(ids) == len(set(ids)) == len(truth) - 20  # the 20 calls of page 2 never came
    assert set(ids) < truth
    assert report.total_records == len(truth)
    assert report.total_records_matched is False  # never silent
    assert report.passes == 2
    assert f"{len(ids)} unique calls but total_records={len(truth)}" in caplog.text


# --- a 200 with an HTML body ---------------------------------------------------------------------


def test_html_body_is_retried_then_named_in_the_error() -> None:
    sim, _ = one_workflow(30, FaultConfig(rate_html=1.0))
    client = in_process(sim, max_attempts=4, sleep=no_sleep)
    with (
        bounded("HTML body, always"),
        pytest.raises(StuutRetriesExhausted) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20))
    message = str(info.value)
    assert "4 attempts" in message and "malformed response body" in message
    assert "text/html" in message and "502 Bad Gateway" in message
    assert sim.requests == 4


@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_html_body_sometimes_still_gives_exact_data(transport) -> None:
    sim, workflow = one_workflow(120, FaultConfig(rate_html=0.3))
    options = {"max_attempts": 12, "sleep": no_sleep}
    with bounded(f"HTML body 30%, {transport}"):
        if transport == "http":
            with served(sim, **options) as client:
                ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
        else:
            client = in_process(sim, **options)
            ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))
    assert report.total_records_matched is True
    assert report.retries == sim.faults_injected["html"] > 0


# --- a body trickled slowly --------------------------------------------------------------------


def test_a_stalled_body_trips_the_read_timeout_and_is_retried_in_bounded_time() -> None:
    # The headers come at once, then 2 s of silence before each 64 KiB chunk: a read timeout.
    faults = FaultConfig(rate_trickle=1.0, trickle_delay_s=2.0, trickle_chunk_bytes=65536)
    sim, _ = one_workflow(40, faults)
    with (
        bounded("stalled body (read timeout 0.3 s), always", limit=10),
        served(sim, timeout=0.3, max_attempts=3, sleep=no_sleep) as client,
        pytest.raises(StuutRetriesExhausted) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20))
    assert "3 attempts" in str(info.value) and "timeout (ReadTimeout)" in str(info.value)
    assert sim.requests == 3


def test_a_trickle_under_the_read_timeout_is_cut_by_the_request_deadline() -> None:
    # 256 bytes every 50 ms: no single read ever waits 1 s, yet a page would take ~20 s.
    faults = FaultConfig(rate_trickle=1.0, trickle_delay_s=0.05, trickle_chunk_bytes=256)
    sim, _ = one_workflow(40, faults)
    with (
        bounded("trickled body (deadline 1 s), always", limit=10),
        served(sim, timeout=1.0, deadline=1.0, max_attempts=3, sleep=no_sleep) as client,
        pytest.raises(StuutRetriesExhausted) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20))
    assert "body too slow" in str(info.value) and "1s deadline" in str(info.value)
    assert sim.requests == 3


def test_a_sometimes_stalled_body_still_gives_exact_data() -> None:
    faults = FaultConfig(rate_trickle=0.3, trickle_delay_s=2.0, trickle_chunk_bytes=65536)
    sim, workflow = one_workflow(120, faults)
    with (
        bounded("stalled body 30%, read timeout 0.3 s", limit=15),
        served(sim, timeout=0.3, max_attempts=12, sleep=no_sleep) as client,
    ):
        ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))
    assert report.total_records_matched is True
    assert report.retry_reasons == {"timeout (ReadTimeout)": sim.faults_injected["trickle"]}


# --- 429s without Retry-After -------------------------------------------------------------------


def test_429_without_retry_after_backs_off_capped_then_gives_up_in_bounded_time() -> None:
    sim, _ = one_workflow(30, FaultConfig(rate_429=1.0, omit_retry_after=True))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    client = in_process(sim, max_attempts=8, backoff_base=0.01, backoff_max=0.08, sleep=sleep)
    with (
        bounded("429 without Retry-After, always", limit=5),
        pytest.raises(StuutRetriesExhausted) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20))
    assert "8 attempts" in str(info.value) and "HTTP 429" in str(info.value)
    assert info.value.attempts == 8 and sim.requests == 8
    assert len(slept) == 7  # no sleep after the last attempt
    for attempt, delay in enumerate(slept, start=1):  # exponential, jittered, capped
        ceiling = min(0.08, 0.01 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(slept) <= 0.08


def test_default_backoff_bounds_one_pages_retries() -> None:
    """With the defaults (6 attempts, base 0.5 s, cap 30 s) a page sleeps 15.5 s at most."""
    client = StuutClient("http://x.invalid", TOKEN)
    worst = sum(min(client.backoff_max, client.backoff_base * 2**k) for k in range(5))
    assert client.max_attempts == 6 and worst == 15.5


# --- connection resets ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_connection_resets_mid_body_are_retried_to_exact_data(transport) -> None:
    sim, workflow = one_workflow(120, FaultConfig(rate_reset=0.3))
    options = {"max_attempts": 12, "sleep": no_sleep, "concurrency": 4}
    with bounded(f"connection reset mid-body 30%, {transport}"):
        if transport == "http":
            with served(sim, **options) as client:
                ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
        else:
            client = in_process(sim, **options)
            ids, report = fetch_ids(client, CallsQuery(limit=20, workflow=workflow))
    assert sorted(ids) == sorted(sim.store.ids(workflow))
    assert report.total_records_matched is True
    assert report.retries == sim.faults_injected["reset"] > 0
    assert set(report.retry_reasons) <= {
        "connection error (ReadError)",
        "connection error (RemoteProtocolError)",
    }


def test_connection_reset_always_gives_up_in_bounded_time() -> None:
    sim, _ = one_workflow(30, FaultConfig(rate_reset=1.0))
    with (
        bounded("connection reset, always, http"),
        served(sim, max_attempts=4, sleep=no_sleep) as client,
        pytest.raises(StuutRetriesExhausted) as info,
    ):
        fetch_ids(client, CallsQuery(limit=20))
    assert "4 attempts" in str(info.value) and "connection error" in str(info.value)

"""HTTP client of Stuut's `GET /v1/calls`: concurrent paging, retries, dedupe, fetch report.

Knows nothing of Dagster. The token lives only in the HTTP client's headers: it never appears in a
log line, an exception message, a repr or a report.
"""

from __future__ import annotations

import logging
import math
import queue
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx
import msgspec

from .enums import MAX_LIMIT
from .errors import (
    StuutApiError,
    StuutAuthError,
    StuutNotFoundError,
    StuutPagingError,
    StuutRequestRejected,
    StuutRetriesExhausted,
)
from .query import CallsQuery
from .surrogates import MARK, MARK_TEXT, masked_same_length, replace_lone_surrogates

log = logging.getLogger("stuut_pipeline.stuut_api")

CALLS_PATH = "/v1/calls"


class KeyedRecord(Protocol):
    """What the client needs of a decoded record to dedupe it."""

    id: str
    modified_at: str | None


R = TypeVar("R", bound=KeyedRecord)


class CallKey(msgspec.Struct):
    """The smallest decoding of a call: what dedupe needs. Every other field is skipped."""

    id: str
    modified_at: str | None = None


_key_decoder = msgspec.json.Decoder(CallKey)


def decode_key(raw: bytes | msgspec.Raw) -> CallKey:
    """Decode only `id` and `modified_at` of one call record.

    A lone surrogate escape in another field does not matter; in `modified_at` it makes the time
    unknown (None); in `id` it raises `msgspec.DecodeError`, as a missing `id` does.
    """
    try:
        return _key_decoder.decode(raw)
    except msgspec.DecodeError:
        marked, lone = replace_lone_surrogates(bytes(raw), MARK)
        if not lone:
            raise
    key = _key_decoder.decode(marked)
    if MARK_TEXT in key.id:
        raise msgspec.DecodeError("`id` holds a lone surrogate escape")
    if key.modified_at is not None and MARK_TEXT in key.modified_at:
        key.modified_at = None
    return key


class _Envelope(msgspec.Struct):
    data: list[msgspec.Raw]
    current_page: int = 0
    total_records: int = 0
    next_page: int | None = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)


def decode_envelope(body: bytes) -> _Envelope:
    """Decode a page's envelope; its records stay `msgspec.Raw`, byte for byte as sent.

    A body msgspec refuses is scanned for lone surrogate escapes (legal JSON that msgspec rejects
    anywhere): they are masked by a same-length placeholder for the decode, then put back, so every
    record's bytes are the original ones. Only that rare path pays for the scan. A body that is
    still malformed raises `msgspec.DecodeError`.
    """
    try:
        return _envelope_decoder.decode(body)
    except msgspec.DecodeError:
        buffer, spans = masked_same_length(body)
        if not spans:
            raise
    envelope = _envelope_decoder.decode(buffer)  # the records are views into `buffer`...
    for start, end in spans:
        buffer[start:end] = body[start:end]  # ...which holds the original bytes again
    return envelope


@dataclass(frozen=True)
class FetchedRecord(Generic[R]):
    """One call as received: its raw JSON bytes and its decoded fields.

    `supersedes` is true when an earlier-yielded record with the same id is older than this one and
    must be discarded by the consumer (offset paging can show a record twice; latest wins).
    """

    raw: msgspec.Raw
    record: R
    supersedes: bool = False


@dataclass(frozen=True)
class FetchedPage(Generic[R]):
    """The new records of one page, after dedupe, in the order the API sent them."""

    number: int
    records: list[FetchedRecord[R]]


@dataclass
class FetchReport:
    """What one fetch did: pages, records, dedupe, retries and `total_records` reconciliation."""

    query: str
    pages: int = 0
    passes: int = 0
    records_received: int = 0
    records: int = 0
    duplicates_dropped: int = 0
    superseded: int = 0
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    bytes_received: int = 0
    first_total_records: int | None = None
    total_records: int | None = None
    total_records_matched: bool | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form for metadata and summaries."""
        return asdict(self)


@dataclass
class _PageResult:
    number: int
    envelope: _Envelope
    nbytes: int
    retry_reasons: list[str]


def _instant(modified_at: str | None) -> float | str | None:
    """`modified_at` as epoch seconds, or as given when it is not ISO 8601 (naive means UTC).

    This is what the dedupe map keeps per call: a float (24 bytes, exact to the microsecond until
    the year 2255) instead of the text (~90 bytes), for every id of the partition.
    """
    if modified_at is None:
        return None
    try:
        moment = datetime.fromisoformat(modified_at)
    except ValueError:
        return modified_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _is_newer(candidate: float | str | None, current: float | str | None) -> bool:
    """Whether a record modified at `candidate` replaces one modified at `current` (`_instant`s).

    A missing time never wins; a valid timestamp beats one that is not.
    """
    if candidate is None:
        return False
    if current is None:
        return True
    if isinstance(candidate, float) is isinstance(current, float):
        return candidate > current  # type: ignore[operator]
    return isinstance(candidate, float)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _TooSlow(Exception):
    """A response body still incomplete at the request's deadline (trickled)."""


def _describe_body(response: httpx.Response) -> str:
    """What was received instead of the JSON envelope: type, size and how it starts."""
    kind = response.headers.get("content-type", "no content-type")
    start = response.content[:80].decode("utf-8", "replace")
    return f"{len(response.content)} bytes of {kind!r} starting {start!r}"


def _detail(response: httpx.Response) -> object:
    try:
        return response.json().get("detail")
    except Exception:
        return response.text[:500] or None


class StuutClient:
    """Client of Stuut's List Calls endpoint.

    `fetch_calls()` pages through `/v1/calls`: the first page tells `total_records`, the rest are
    fetched concurrently (at most `concurrency` requests in flight) and yielded page by page as they
    arrive, so a whole workflow is never held in memory. Transient faults (429, 5xx, timeouts,
    connection errors, malformed bodies) are retried with exponential backoff and jitter, honouring
    `Retry-After` up to `retry_after_cap` seconds; 401/403/404/422 raise at once.

    Every request is bounded: `timeout` bounds connecting and each read, `deadline` (default twice
    `timeout`) the whole response, so a body trickled byte by byte cannot hold a fetch; a
    `next_page` that does not advance raises `StuutPagingError` instead of looping.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        concurrency: int = 4,
        max_attempts: int = 6,
        timeout: float = 60.0,
        deadline: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_cap: float = 60.0,
        max_passes: int = 5,
        prefetch: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        if not token:
            raise StuutAuthError(
                "no API token given: set STUUT_API_TOKEN to your Stuut API token"
                " (or unset STUUT_API_BASE_URL to use the embedded simulator)"
            )
        self.base_url = base_url.rstrip("/")
        self.deadline = 2 * timeout if deadline is None else deadline
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap
        self.max_passes = max_passes
        self.prefetch = prefetch
        self._sleep = sleep
        self._secret = token
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency + 1),
        )

    def __repr__(self) -> str:
        return (
            f"StuutClient(base_url={self.base_url!r}, token='***', concurrency={self.concurrency})"
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> StuutClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def fetch_calls(
        self,
        query: CallsQuery | None = None,
        *,
        decode: Callable[[msgspec.Raw], R] = decode_key,  # type: ignore[assignment]
    ) -> CallsFetch[R]:
        """Start a fetch of every call matching `query`; iterate it for pages, then read `.report`.

        `decode` turns a record's raw JSON into an object with `id` and `modified_at`; the default
        decodes only those two fields.
        """
        return CallsFetch(self, query or CallsQuery(limit=MAX_LIMIT), decode)

    def get_page(self, query: CallsQuery, page: int) -> tuple[int, list[msgspec.Raw], int | None]:
        """Fetch one page (with retries); return (total_records, raw records, next_page)."""
        result = self._get_page(query, page)
        env = result.envelope
        return env.total_records, env.data, env.next_page

    def _get_page(self, query: CallsQuery, page: int) -> _PageResult:
        params = query.params(page)
        reasons: list[str] = []
        last = "no response"
        for attempt in range(1, self.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = self._request(params)
            except httpx.TimeoutException as exc:
                last = f"timeout ({type(exc).__name__})"
            except _TooSlow as exc:
                last = str(exc)
            except httpx.TransportError as exc:
                last = f"connection error ({type(exc).__name__})"
            else:
                status = response.status_code
                if status == 200:
                    body = response.content
                    try:
                        envelope = decode_envelope(body)
                    except msgspec.DecodeError as exc:
                        last = (
                            f"malformed response body ({self._scrub(_describe_body(response))}:"
                            f" {self._scrub(str(exc))[:120]})"
                        )
                    else:
                        self._check_next_page(query, page, envelope)
                        return _PageResult(page, envelope, len(body), reasons)
                elif status in (401, 403):
                    raise StuutAuthError(
                        f"HTTP {status} from {self.base_url}{CALLS_PATH}: the API token was refused"
                        f" ({self._scrub(str(_detail(response)))}). Check STUUT_API_TOKEN: it must"
                        " be a valid Stuut API token for this base URL."
                    )
                elif status == 404:
                    raise StuutNotFoundError(
                        f"HTTP 404 from {self.base_url}{CALLS_PATH}: no such endpoint. Check"
                        " STUUT_API_BASE_URL (it should be the API root, e.g. https://api.stuut.ai)."
                    )
                elif status == 429 or status >= 500:
                    last = f"HTTP {status}"
                    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
                else:
                    detail = _detail(response)
                    raise StuutRequestRejected(
                        f"HTTP {status} from {CALLS_PATH} for page {page} ({query.describe()}):"
                        f" the server rejected the request parameters: {self._scrub(str(detail))}",
                        detail,
                    )
            reasons.append(last)
            if attempt == self.max_attempts:
                break
            delay = self._backoff(attempt, retry_after)
            log.warning(
                "GET %s page %d: %s; retry %d/%d in %.2fs",
                CALLS_PATH,
                page,
                last,
                attempt,
                self.max_attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise StuutRetriesExhausted(
            f"GET {CALLS_PATH} page {page} ({query.describe()}) failed after"
            f" {self.max_attempts} attempts; last error: {last}. The API is failing or"
            " rate-limiting: try again later, or raise max_attempts.",
            page=page,
            attempts=self.max_attempts,
            last_status=last,
        )

    def _request(self, params: Any) -> httpx.Response:
        """One GET, its body read whole within `deadline` seconds (each read within `timeout`)."""
        started = time.monotonic()
        with self._http.stream("GET", CALLS_PATH, params=params) as response:
            chunks: list[bytes] = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() - started > self.deadline:
                    raise _TooSlow(
                        f"body too slow (not whole after the {self.deadline:g}s deadline)"
                    )
            response._content = b"".join(chunks)  # what response.read() would have set
        return response

    def _check_next_page(self, query: CallsQuery, page: int, envelope: _Envelope) -> None:
        next_page = envelope.next_page
        if next_page is not None and next_page <= page:
            raise StuutPagingError(
                f"GET {CALLS_PATH} page {page} ({query.describe()}) says next_page={next_page},"
                " which does not advance: the API's paging cycles. Stopped instead of looping;"
                " report this to Stuut.",
                page=page,
                next_page=next_page,
            )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap) + random.uniform(0, 0.1)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class CallsFetch(Generic[R]):
    """One fetch of `/v1/calls`: iterate for deduped pages; `report` fills in as it goes."""

    def __init__(
        self, client: StuutClient, query: CallsQuery, decode: Callable[[msgspec.Raw], R]
    ) -> None:
        self.client = client
        self.query = query
        self.decode = decode
        self.report = FetchReport(query=query.describe())
        self._reasons: Counter[str] = Counter()

    def __iter__(self) -> Iterator[FetchedPage[R]]:
        started = time.monotonic()
        seen: dict[str, float | str | None] = {}  # id -> _instant(modified_at)
        report = self.report
        try:
            for pass_number in range(self.client.max_passes):
                report.passes += 1
                new_this_pass = 0
                pages = self._pass() if pass_number == 0 else self._catch_up(seen)
                for result in pages:
                    self._account(result)
                    records: list[FetchedRecord[R]] = []
                    for position, raw in enumerate(result.envelope.data):
                        try:
                            record = self.decode(raw)
                        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                            raise StuutApiError(
                                f"record {position} of page {result.number} of {CALLS_PATH}"
                                f" ({self.query.describe()}) is not a valid call: {exc}"
                            ) from None
                        report.records_received += 1
                        modified = _instant(record.modified_at)
                        if record.id not in seen:
                            seen[record.id] = modified
                            records.append(FetchedRecord(raw, record))
                            new_this_pass += 1
                        elif _is_newer(modified, seen[record.id]):
                            seen[record.id] = modified
                            records.append(FetchedRecord(raw, record, supersedes=True))
                            report.superseded += 1
                        else:
                            report.duplicates_dropped += 1
                    report.records = len(seen)
                    yield FetchedPage(result.number, records)
                total = report.total_records or 0
                if len(seen) >= total or new_this_pass == 0 and report.passes > 1:
                    break
                log.info(
                    "%s: %d unique calls after pass %d but total_records=%d; paging again"
                    " (offset paging drifted while new calls arrived)",
                    self.query.describe(),
                    len(seen),
                    report.passes,
                    total,
                )
            if report.total_records is not None and len(seen) != report.total_records:
                log.warning(
                    "%s: %d unique calls but total_records=%d after %d passes: not reconciled"
                    " (the API's total_records or pages are inconsistent)",
                    self.query.describe(),
                    len(seen),
                    report.total_records,
                    report.passes,
                )
        finally:
            report.records = len(seen)
            report.total_records_matched = (
                None if report.total_records is None else len(seen) == report.total_records
            )
            report.retry_reasons = dict(self._reasons)
            report.seconds = round(time.monotonic() - started, 3)

    def _account(self, result: _PageResult) -> None:
        report = self.report
        report.pages += 1
        report.bytes_received += result.nbytes
        report.retries += len(result.retry_reasons)
        self._reasons.update(result.retry_reasons)
        report.total_records = result.envelope.total_records
        if report.first_total_records is None:
            report.first_total_records = result.envelope.total_records

    def _catch_up(self, seen: dict[str, float | str | None]) -> Iterator[_PageResult]:
        """A re-pass after drift: pages from 0 in order, until every announced record is seen.

        New calls usually land on the first pages, so this stops early; whatever the sort order,
        it ends at the last page at worst."""
        page: int | None = 0
        empty_before = False
        while page is not None:
            result = self.client._get_page(self.query, page)
            yield result
            if len(seen) >= result.envelope.total_records:
                return
            empty = not result.envelope.data
            if empty and empty_before:  # two empty pages running: past the end, whatever
                return  # total_records and next_page say
            empty_before = empty
            page = result.envelope.next_page

    def _pass(self) -> Iterator[_PageResult]:
        """One walk over every page: page 0, then the announced pages concurrently, then any
        pages that appeared meanwhile (followed by `next_page`).

        The page threads keep fetching while the consumer works on earlier pages (at most
        `concurrency` requests in flight, and `prefetch` more pages requested ahead), so the
        network's latency overlaps the consumer's work instead of adding to it.
        """
        client, query = self.client, self.query
        first = client._get_page(query, 0)
        yield first
        if first.envelope.next_page is None or not first.envelope.data:
            return
        n_pages = max(1, math.ceil(first.envelope.total_records / query.limit))
        planned = iter(range(first.envelope.next_page, n_pages))
        # Two empty pages running mean the end of the data, whatever total_records claims: pages
        # after them are not asked for (a total_records of 10**9 must not mean 5 million requests).
        empty_pages: set[int] = set()
        end: list[int] = []  # the first page of two empty pages running, once seen
        tail: _PageResult = first
        finished: queue.SimpleQueue[Future[_PageResult]] = queue.SimpleQueue()
        pool = ThreadPoolExecutor(max_workers=client.concurrency, thread_name_prefix="stuut-page")
        outstanding = 0  # submitted and not yet taken by the consumer
        try:

            def submit_more() -> None:
                nonlocal outstanding
                while outstanding < client.concurrency + client.prefetch:
                    number = next(planned, None)
                    if number is None or end and number > end[0]:
                        return
                    pool.submit(client._get_page, query, number).add_done_callback(finished.put)
                    outstanding += 1

            submit_more()
            while outstanding:
                future = finished.get()
                outstanding -= 1
                result = future.result()
                if not result.envelope.data:
                    number = result.number
                    empty_pages.add(number)
                    for start in (number - 1, number):
                        if start in empty_pages and start + 1 in empty_pages:
                            end[:] = [min([start, *end])]
                submit_more()
                if result.number > tail.number:
                    tail = result
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        next_page = tail.envelope.next_page if tail.envelope.data else None
        while next_page is not None:
            result = client._get_page(query, next_page)
            yield result
            if not result.envelope.data:
                break
            next_page = result.envelope.next_page

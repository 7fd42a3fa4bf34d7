"""The simulated `GET /v1/calls` endpoint: auth, validation, filters, paging and injected faults.

Transport-agnostic: `StuutSimulator.handle()` takes a parsed request and returns status, headers and
body; `transport.py` serves it in-process to httpx, `server.py` over real HTTP.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from ..stuut_api.enums import CLASSIFICATIONS, DIRECTIONS, MAX_LIMIT, MIN_LIMIT, SENTIMENTS
from .faults import FaultConfig
from .generator import CallGenerator, GeneratorConfig
from .store import CallFilter, CallStore

DEFAULT_TOKEN = "stuut-sim-token"
CALLS_PATH = "/v1/calls"


class Disconnect(Exception):
    """Raised by `handle()` when the injected fault is a dropped connection."""


class Reset(Exception):
    """Raised by `handle()` when the injected fault is a connection reset part-way through the
    body: `partial` is what was sent before the reset."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__("connection reset by peer")
        self.status = status
        self.headers = headers
        self.body = body
        self.partial = body[: len(body) // 2]


@dataclass
class SimResponse:
    """What the endpoint answers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    trickle: tuple[float, int] | None = None  # (delay between chunks, chunk size): sent slowly

    def chunks(self) -> Iterator[bytes]:
        """The body as sent: whole, or trickled in chunks with a pause before each."""
        if self.trickle is None:
            yield self.body
            return
        delay, size = self.trickle
        for start in range(0, len(self.body), size):
            time.sleep(delay)
            yield self.body[start : start + size]


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> SimResponse:
    return SimResponse(
        status, orjson.dumps(payload), {"content-type": "application/json", **(headers or {})}
    )


_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>"
)


def _enum_msg(allowed: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in allowed]
    return "Input should be " + ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


class StuutSimulator:
    """A simulated Stuut account serving `GET /v1/calls` by the public contract.

    `config` (seed, workflows, drift...) decides the account's calls; `n_calls` how many exist
    at start; `faults` what goes wrong, and how often.
    """

    def __init__(
        self,
        config: GeneratorConfig | None = None,
        *,
        n_calls: int = 300,
        token: str = DEFAULT_TOKEN,
        faults: FaultConfig | None = None,
    ) -> None:
        config = config or GeneratorConfig()
        self.faults = faults or FaultConfig()
        self.generator = CallGenerator(config)
        self.store = CallStore(
            self.generator, n_calls, hostile_fraction=self.faults.hostile_fraction
        )
        self._token = token
        self._rng = random.Random(config.seed * 7919 + 17)
        self._lock = threading.Lock()
        self._drift_left = self.faults.drift_inserts
        self.requests = 0
        self.faults_injected: Counter[str] = Counter()

    @classmethod
    def random_token(cls) -> str:
        """A fresh token for a server run."""
        return "sim_" + secrets.token_urlsafe(18)

    def __repr__(self) -> str:
        return f"StuutSimulator(calls={len(self.store)}, token='***')"

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> SimResponse:
        """Answer one request. `headers` keys are lower-case."""
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        if path.rstrip("/") != CALLS_PATH:
            return _json(404, {"detail": "Not Found"})
        if method != "GET":
            return _json(405, {"detail": "Method Not Allowed"})
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not secrets.compare_digest(
            auth[len("Bearer ") :].encode(), self._token.encode()
        ):
            return _json(401, {"detail": "Invalid authentication credentials"})
        parsed = self._validate(query)
        if isinstance(parsed, SimResponse):
            return parsed
        page, limit, flt = parsed
        fault, drift = self._draw(page, flt.workflow)
        if fault == "disconnect":
            raise Disconnect()
        if fault == "429":
            retry = (
                {}
                if self.faults.omit_retry_after
                else {"retry-after": f"{self.faults.retry_after_s:g}"}
            )
            return _json(429, {"detail": "Too Many Requests"}, retry)
        if fault == "500":
            return _json(500, {"detail": "Internal Server Error"})
        if fault == "html":
            return SimResponse(200, _HTML_PAGE, {"content-type": "text/html; charset=utf-8"})
        if drift:
            self.store.insert_new(drift)
        calls = self.store.select(flt)
        total = len(calls)
        chunk = calls[page * limit : (page + 1) * limit]
        next_page = page + 1 if (page + 1) * limit < total else None
        if next_page is None and chunk and self.faults.next_page_cycle_to is not None:
            next_page = self.faults.next_page_cycle_to
            self._count("next_page_cycle")
        if page == self.faults.empty_page and self._take_empty_page():
            chunk = []
        total = max(0, total + self.faults.total_records_offset)
        body = b"".join(
            (
                b'{"data":[',
                b",".join(c.body for c in chunk),
                b'],"current_page":%d,"total_records":%d,"next_page":%s}'
                % (page, total, b"null" if next_page is None else str(next_page).encode()),
            )
        )
        if fault == "malformed":
            body = body[: max(1, len(body) // 2)]
        headers = {"content-type": "application/json"}
        if fault == "reset":
            raise Reset(200, headers, body)
        if fault == "trickle":
            trickle = (self.faults.trickle_delay_s, self.faults.trickle_chunk_bytes)
            return SimResponse(200, body, headers, trickle)
        return SimResponse(200, body, headers)

    def _count(self, fault: str) -> None:
        with self._lock:
            self.faults_injected[fault] += 1

    def _take_empty_page(self) -> bool:
        with self._lock:
            if self.faults_injected["empty_page"] >= self.faults.empty_page_times:
                return False
            self.faults_injected["empty_page"] += 1
            return True

    def _draw(self, page: int, workflow: str | None) -> tuple[str | None, str | None]:
        """The fault of this request, and the workflow to insert a new call into (drift)."""
        f = self.faults
        with self._lock:
            self.requests += 1
            roll = self._rng.random()
            fault = None
            for name, rate in (
                ("429", f.rate_429),
                ("500", f.rate_500),
                ("malformed", f.rate_malformed),
                ("disconnect", f.rate_disconnect),
                ("html", f.rate_html),
                ("reset", f.rate_reset),
                ("trickle", f.rate_trickle),
            ):
                if roll < rate:
                    fault = name
                    break
                roll -= rate
            drift = None
            if (
                fault is None
                and self._drift_left
                and page > 0
                and self.requests % f.drift_every == 0
            ):
                self._drift_left -= 1
                drift = workflow or self._rng.choice(self.store.workflow_ids())
                self.faults_injected["drift_insert"] += 1
            if fault:
                self.faults_injected[fault] += 1
            return fault, drift

    @staticmethod
    def _validate(query: Sequence[tuple[str, str]]) -> tuple[int, int, CallFilter] | SimResponse:
        errors: list[dict] = []

        def error(kind: str, loc: list, msg: str, raw: str, ctx: dict | None = None) -> None:
            errors.append(
                {"type": kind, "loc": ["query", *loc], "msg": msg, "input": raw}
                | ({"ctx": ctx} if ctx else {})
            )

        def enum_error(loc: list, raw: str, allowed: Sequence[str]) -> None:
            expected = _enum_msg(allowed)
            error("enum", loc, expected, raw, {"expected": expected[len("Input should be ") :]})

        def integer(name: str, default: int, lo: int, hi: int | None) -> int:
            values = [v for k, v in query if k == name]
            if not values:
                return default
            raw = values[-1]
            try:
                value = int(raw)
            except ValueError:
                msg = "Input should be a valid integer, unable to parse string as an integer"
                error("int_parsing", [name], msg, raw)
                return default
            if value < lo:
                msg = f"Input should be greater than or equal to {lo}"
                error("greater_than_equal", [name], msg, raw, {"ge": lo})
            elif hi is not None and value > hi:
                msg = f"Input should be less than or equal to {hi}"
                error("less_than_equal", [name], msg, raw, {"le": hi})
            return value

        def enum_list(name: str, allowed: Sequence[str]) -> frozenset[str]:
            values = [v for k, v in query if k == name]
            for i, v in enumerate(values):
                if v not in allowed:
                    enum_error([name, i], v, allowed)
            return frozenset(values)

        def single(name: str) -> str | None:
            values = [v for k, v in query if k == name]
            return values[-1] if values else None

        page = integer("page", 0, 0, None)
        limit = integer("limit", 50, MIN_LIMIT, MAX_LIMIT)
        classification = enum_list("classification", CLASSIFICATIONS)
        sentiment = enum_list("sentiment", SENTIMENTS)
        direction = single("direction")
        if direction is not None and direction not in DIRECTIONS:
            enum_error(["direction"], direction, DIRECTIONS)
        if errors:
            return _json(422, {"detail": errors})
        flt = CallFilter(
            classification=classification,
            direction=direction,
            invoice=single("invoice"),
            partner=single("partner"),
            sentiment=sentiment,
            workflow=single("workflow"),
        )
        return page, limit, flt

"""httpx transports for tests: count what a client really sends, answer a fixed status."""

from __future__ import annotations

import threading

import httpx


class CountingTransport(httpx.BaseTransport):
    """Records every request the client sends, then delegates to `inner`."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.sent.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def status_transport(status: int, detail: str = "refused") -> httpx.MockTransport:
    """A transport answering every request with `status` and a FastAPI-style detail."""
    return httpx.MockTransport(lambda request: httpx.Response(status, json={"detail": detail}))

"""The simulator served in-process to httpx: the embedded default, no port needed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from .api import Disconnect, Reset, StuutSimulator


class SimulatorTransport(httpx.BaseTransport):
    """An httpx transport that answers every request from a `StuutSimulator`."""

    def __init__(self, simulator: StuutSimulator) -> None:
        self.simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request; an injected dropped connection raises like a real one."""
        request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            answer = self.simulator.handle(
                request.method,
                request.url.path,
                list(request.url.params.multi_items()),
                headers,
            )
        except Disconnect:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except Reset as reset:
            return httpx.Response(
                reset.status,
                headers={**reset.headers, "content-length": str(len(reset.body))},
                stream=_ResetStream(reset.partial, request),
                request=request,
            )
        if answer.trickle is not None:
            return httpx.Response(
                answer.status,
                headers={**answer.headers, "content-length": str(len(answer.body))},
                stream=_Stream(answer.chunks()),
                request=request,
            )
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


class _ResetStream(httpx.SyncByteStream):
    """Half a body, then the connection reset, as a real socket would read."""

    def __init__(self, partial: bytes, request: httpx.Request) -> None:
        self._partial = partial
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield self._partial
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=self._request)

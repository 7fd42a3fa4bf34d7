"""The simulator served in-process to httpx: the embedded default, no port needed."""

from __future__ import annotations

import httpx

from .api import Disconnect, StuutSimulator


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
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

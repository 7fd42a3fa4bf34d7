"""The simulator as a real HTTP/1.1 server on loopback (`stuut-pipeline simulator serve`)."""

from __future__ import annotations

import logging
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .api import Disconnect, Reset, StuutSimulator

log = logging.getLogger("stuut_pipeline.simulator")


def _handler_for(simulator: StuutSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "StuutSimulator/1"

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                answer = simulator.handle(
                    method, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers
                )
            except Disconnect:
                self.close_connection = True
                return
            except Reset as reset:
                self._head(reset.status, reset.headers, len(reset.body))
                self.wfile.write(reset.partial)
                self.wfile.flush()
                # SO_LINGER 0: close() sends an RST, the peer reads "connection reset by peer".
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return
            self._head(answer.status, answer.headers, len(answer.body))
            try:
                for chunk in answer.chunks():
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:  # the client gave up on a trickled body
                self.close_connection = True

        def _head(self, status: int, headers: dict[str, str], length: int) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(length))
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server around a `StuutSimulator`; `start()` runs it in a daemon thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, simulator: StuutSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _handler_for(simulator))
        self.simulator = simulator
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="stuut-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

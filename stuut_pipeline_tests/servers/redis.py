"""A throwaway Redis server on a free loopback port (the Celery broker of the distributed tests).

Debian's `redis-server` (`make redis` installs it), no persistence, its files in a fresh temp dir,
in a new process group that is killed on exit, also when the body raised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .ports import free_port

HOST = "127.0.0.1"
DEBIAN_BINARY = Path("/usr/bin/redis-server")


class RedisUnavailableError(RuntimeError):
    """No `redis-server` on this machine."""


def redis_binary() -> str:
    """`redis-server` on PATH, else Debian's."""
    found = shutil.which("redis-server") or (str(DEBIAN_BINARY) if DEBIAN_BINARY.exists() else None)
    if not found:
        raise RedisUnavailableError(
            "redis-server not found: `make redis` (or `apt-get install redis-server`) installs it"
        )
    return found


@dataclass
class RedisServer:
    """A running server: `url(db)` is its `redis://` URL."""

    root: Path
    port: int
    process: subprocess.Popen = field(repr=False)

    def url(self, db: int = 0) -> str:
        """The `redis://127.0.0.1:<port>/<db>` URL."""
        return f"redis://{HOST}:{self.port}/{db}"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.root / "redis.log"

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether the server answers PING with PONG."""
        try:
            with socket.create_connection((HOST, self.port), timeout=timeout) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGKILL the server's process group (nothing in it is worth keeping)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_redis(timeout: float = 20.0) -> RedisServer:
    """Start `redis-server` on a free 127.0.0.1 port in a fresh temp dir; wait for PONG."""
    binary = redis_binary()
    root = Path(tempfile.mkdtemp(prefix="stuut-redis-"))
    port = free_port()
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        HOST,
        "--dir",
        str(root),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(root / "redis.log"),
    ]
    process = subprocess.Popen(
        argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = RedisServer(root, port, process)
    deadline = time.monotonic() + timeout
    try:
        while not server.ping():
            if process.poll() is not None or time.monotonic() > deadline:
                log = server.log_file.read_text() if server.log_file.exists() else ""
                raise RuntimeError(f"redis-server did not start on port {port}:\n{log[-2000:]}")
            time.sleep(0.1)
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A running throwaway Redis, stopped and deleted on exit (also on failure)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)

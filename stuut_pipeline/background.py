"""One background thread that runs I/O-heavy calls in order, so the caller's thread keeps working.

The raw landing (zstd) and the Parquet writer (Arrow) release the GIL while they compress and
encode, so giving each its own thread lets that work overlap the decoding and flattening of the
next pages. Memory stays bounded: `submit` blocks while `max_pending` calls are queued.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class SerialWorker:
    """Runs submitted calls one at a time, in submission order, on one background thread.

    The first failure is raised to the caller by the next `submit` or `drain` (so a file is never
    finished over a failed write); `close` stops the thread after the running call.
    """

    def __init__(self, name: str, *, max_pending: int = 2) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: deque[Future[Any]] = deque()
        self._max_pending = max_pending

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue `fn(*args)`; waits while the queue is full, raises an earlier call's failure."""
        while self._pending and (
            self._pending[0].done() or len(self._pending) >= self._max_pending
        ):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, *args))

    def drain(self) -> None:
        """Wait for every queued call; raise the first failure."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Drop the queued calls, wait for the running one, stop the thread. Raises nothing."""
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()

"""SerialWorker: order, back-pressure, failures raised to the caller, clean close."""

import sys
import threading
import time

import pytest

from stuut_pipeline.background import SerialWorker


def wait_blocked_in(ident: int, function: str, timeout: float = 10) -> None:
    """Poll (with a deadline) until thread `ident` waits on a lock somewhere inside `function`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = sys._current_frames().get(ident)
        names = []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        if names and names[0] in ("wait", "join", "_wait_for_tstate_lock") and function in names:
            return
        time.sleep(0.005)
    raise AssertionError(f"thread never waited inside {function}: {names}")


def test_calls_run_in_order_on_one_other_thread() -> None:
    seen: list[tuple[int, int]] = []
    worker = SerialWorker("t", max_pending=2)
    for i in range(20):
        worker.submit(lambda i=i: seen.append((i, threading.get_ident())))
    worker.drain()
    worker.close()
    assert [i for i, _ in seen] == list(range(20))
    assert len({t for _, t in seen}) == 1
    assert seen[0][1] != threading.get_ident()


def test_submit_waits_while_the_queue_is_full() -> None:
    release = threading.Event()
    accepted = threading.Event()
    worker = SerialWorker("t", max_pending=1)
    worker.submit(release.wait)

    def second() -> None:
        worker.submit(lambda: None)
        accepted.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    wait_blocked_in(waiter.ident, "submit")  # fails if submit returned instead of waiting
    assert waiter.is_alive() and not accepted.is_set()
    release.set()
    waiter.join(5)
    assert not waiter.is_alive() and accepted.is_set()
    worker.drain()
    worker.close()


def test_a_failure_is_raised_by_the_next_submit_or_drain() -> None:
    def fail() -> None:
        raise OSError("disk full")

    worker = SerialWorker("t", max_pending=4)
    worker.submit(fail)
    with pytest.raises(OSError, match="disk full"):
        worker.drain()
    gate, after = threading.Event(), threading.Event()
    worker.submit(gate.wait)
    worker.submit(fail)
    worker.submit(after.set)
    gate.set()
    assert after.wait(5)  # the worker is serial: `fail` has finished
    with pytest.raises(OSError, match="disk full"):
        worker.submit(lambda: None)
    worker.close()


def test_close_drops_queued_calls_and_returns() -> None:
    ran: list[int] = []
    release = threading.Event()
    worker = SerialWorker("t", max_pending=5)
    worker.submit(release.wait)
    for i in range(3):
        worker.submit(lambda i=i: ran.append(i))
    main = threading.get_ident()

    def release_once_close_waits() -> None:
        wait_blocked_in(main, "close")
        release.set()

    releaser = threading.Thread(target=release_once_close_waits)
    releaser.start()
    worker.close()  # cancels the queued calls first, then waits for the running one
    releaser.join(5)
    worker.drain()  # nothing left to wait for
    assert ran == []
    with pytest.raises(ValueError, match="max_pending"):
        SerialWorker("t", max_pending=0)

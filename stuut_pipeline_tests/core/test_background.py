"""SerialWorker: order, back-pressure, failures raised to the caller, clean close."""

import threading
import time

import pytest

from stuut_pipeline.background import SerialWorker


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
    worker = SerialWorker("t", max_pending=1)
    worker.submit(release.wait)
    waiter = threading.Thread(target=worker.submit, args=(lambda: None,))
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive(), "a second call must wait for the first with max_pending=1"
    release.set()
    waiter.join(5)
    assert not waiter.is_alive()
    worker.drain()
    worker.close()


def test_a_failure_is_raised_by_the_next_submit_or_drain() -> None:
    def fail() -> None:
        raise OSError("disk full")

    worker = SerialWorker("t", max_pending=4)
    worker.submit(fail)
    with pytest.raises(OSError, match="disk full"):
        worker.drain()
    worker.submit(fail)
    time.sleep(0.2)
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
    threading.Timer(0.2, release.set).start()
    worker.close()  # cancels the queued calls first, then waits for the running one
    worker.drain()  # nothing left to wait for
    assert ran == []
    with pytest.raises(ValueError, match="max_pending"):
        SerialWorker("t", max_pending=0)

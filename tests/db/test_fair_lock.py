"""The SQLite write lock serves waiting threads in arrival order."""

from __future__ import annotations

import threading
import time

from sampan.db.engine import FairLock


def test_waiters_get_the_lock_in_arrival_order_even_if_the_holder_asks_again() -> None:
    lock = FairLock()
    order: list[str] = []

    def waiter(name: str) -> None:
        with lock:
            order.append(name)

    with lock:
        threads = []
        for name in ("ingest", "api"):
            thread = threading.Thread(target=waiter, args=(name,))
            thread.start()
            threads.append(thread)
            while lock._next_ticket < len(threads) + 1:  # wait until it has queued
                time.sleep(0.001)
    with lock:  # the previous holder asks again: it must queue behind the waiters
        order.append("pipeline")
    for thread in threads:
        thread.join()
    assert order == ["ingest", "api", "pipeline"]

"""Limit log-in attempts per client address, in the memory of one process."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from sampan.core.errors import RateLimited

_WINDOW_SECONDS = 60.0
_MAX_TRACKED = 50_000


class LoginRateLimiter:
    """Allow ``per_minute`` attempts per address in any sliding minute.

    In memory on purpose: it slows guessing from one address down at no cost, while the
    per-account lock-out, stored in the database, holds across processes.
    """

    def __init__(self, *, per_minute: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._monotonic = monotonic
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def attempt(self, address: str) -> None:
        """Count one attempt from the address, or raise RateLimited when over the limit."""
        now = self._monotonic()
        with self._lock:
            if len(self._attempts) > _MAX_TRACKED:
                self._forget_idle(now)
            attempts = self._attempts.setdefault(address, deque())
            while attempts and now - attempts[0] >= _WINDOW_SECONDS:
                attempts.popleft()
            if len(attempts) >= self._limit:
                retry_after = max(1, math.ceil(_WINDOW_SECONDS - (now - attempts[0])))
                raise RateLimited(
                    f"too many log-in attempts from this address: at most {self._limit} a "
                    f"minute; retry in {retry_after} s",
                    retry_after=retry_after,
                )
            attempts.append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [a for a, times in self._attempts.items() if not times or now - times[-1] > 60]
        for address in idle:
            del self._attempts[address]

"""Remember credential checks for a moment, so each request does not query the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sampan.core.errors import Unauthorized

T = TypeVar("T")


class CredentialCache(Generic[T]):
    """Cache the outcome of checking a secret, refusals included, for ``ttl_seconds``.

    A key disabled or revoked in this process takes effect at once (the caller clears the
    cache); one revoked from another process within ``ttl_seconds``.
    """

    def __init__(
        self,
        check: Callable[[str], T],
        *,
        ttl_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, T | Unauthorized]] = {}

    def authenticate(self, secret: str) -> T:
        """Return what the secret grants, or raise Unauthorized."""
        now = self._monotonic()
        entry = self._entries.get(secret)
        if entry is None or now - entry[0] > self._ttl:
            result: T | Unauthorized
            try:
                result = self._check(secret)
            except Unauthorized as exc:
                result = exc
            if len(self._entries) > 10_000:
                self._entries.clear()
            entry = (now, result)
            self._entries[secret] = entry
        if isinstance(entry[1], Unauthorized):
            raise entry[1]
        return entry[1]

    def clear(self) -> None:
        """Forget every cached answer."""
        self._entries.clear()

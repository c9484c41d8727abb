"""Identifiers that sort by creation time, so "oldest" needs no extra column."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """Return a new id such as ``prf_0193a1b2c3d4e5f60718293a``: prefix, ms time, randomness."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"

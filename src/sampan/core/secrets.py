"""Secret tokens shown once and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str) -> str:
    """Return a new high-entropy secret such as ``sk_...``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored.

    A fast hash is enough: the secrets are 256-bit random tokens, not passwords.
    """
    return hashlib.sha256(secret.encode()).hexdigest()

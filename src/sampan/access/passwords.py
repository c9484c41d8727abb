"""Hash and check console passwords with argon2id."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sampan.core.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def check_password_strength(password: str) -> None:
    """Raise InvalidInput when the password is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            f"(got {len(password)})"
        )
    if password.strip() != password or not password.strip():
        raise InvalidInput("password must not start or end with spaces")


def hash_password(password: str) -> str:
    """Return the argon2id hash under which the password is stored."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Return whether the password matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def spend_verification_time(password: str) -> None:
    """Check the password against a throw-away hash, so unknown e-mails answer as slowly."""
    password_matches(_decoy_hash(), password)


@cache
def _decoy_hash() -> str:
    return _hasher.hash("decoy password never used")

"""Domain errors with messages a user can act on; api/ maps them to HTTP statuses."""

from __future__ import annotations


class SampanError(Exception):
    """Base of every error a domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SampanError):
    """The request is well-formed but its content breaks a rule (HTTP 400/422)."""


class NotFound(SampanError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(SampanError):
    """The request conflicts with the current state (HTTP 409)."""


class Unauthorized(SampanError):
    """Credentials are missing, wrong or disabled (HTTP 401)."""

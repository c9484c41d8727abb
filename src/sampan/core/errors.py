"""Domain errors with messages a user can act on; api/ maps them to HTTP statuses."""

from __future__ import annotations

from typing import Any


class SampanError(Exception):
    """Base of every error a domain raises on purpose.

    ``details`` are extra fields of the error's JSON body, for a client to act on (for
    example the stock still available when a reservation is refused).
    """

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(SampanError):
    """The request is well-formed but its content breaks a rule (HTTP 400/422)."""


class Unprocessable(InvalidInput):
    """The request names things that do not exist, such as unknown SKUs (HTTP 422)."""


class NotFound(SampanError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(SampanError):
    """The request conflicts with the current state (HTTP 409)."""


class Unauthorized(SampanError):
    """Credentials are missing, wrong or disabled (HTTP 401)."""


class Forbidden(SampanError):
    """The caller is known but lacks a permission, or a CSRF check failed (HTTP 403)."""


class RateLimited(SampanError):
    """Too many attempts in a short time; retry after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

"""Small builders of Segment messages for tests."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count(1)


def message(type_: str = "track", **fields: Any) -> dict[str, Any]:
    """Return a valid Segment message of ``type_`` with a unique messageId."""
    base: dict[str, Any] = {"type": type_, "messageId": f"m-{next(_ids)}"}
    if "userId" not in fields and "anonymousId" not in fields:
        base["anonymousId"] = "anon-1"
    if type_ == "track" and "event" not in fields:
        base["event"] = "Product Viewed"
    base.update(fields)
    return base


def identify(user_id: str | None = None, *, at: str | None = None, **traits: Any) -> dict[str, Any]:
    """Return an identify message carrying ``traits``."""
    fields: dict[str, Any] = {"traits": traits}
    if user_id is not None:
        fields["userId"] = user_id
    if at is not None:
        fields["timestamp"] = at
    return message("identify", **fields)

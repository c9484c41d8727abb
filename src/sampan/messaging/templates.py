"""Sandboxed Jinja2 templates: compile-time checks, rendering, links wrapped for tracking.

A body is the channel's content shape with Jinja2 in its strings, e.g. for LINE
``{"messages": [{"type": "text", "text": "สวัสดีคุณ{{ profile.first_name }}"}]}``.
Rendering is all or nothing: any error raises RenderError and nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("th", "en")
_BANGKOK = ZoneInfo("Asia/Bangkok")
# String fields whose URLs customers click; asset URLs (images) are left alone.
_LINK_FIELDS = frozenset({"text", "uri", "body", "html"})
_URL = re.compile(r"https?://[^\s\"'<>]+")
_HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
_THAI_MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


class RenderError(ValueError):
    """A template failed to compile or render; ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class _Blank(ChainableUndefined):
    """A missing value, at any depth, renders as nothing: ``default`` and ``or`` fall back."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""


def _baht(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"฿{amount:,.2f}".replace(".00", "")


def _thai_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if not isinstance(value, date):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(_BANGKOK)
    # The Buddhist era Thai readers expect: 2026 is 2569.
    return f"{value.day} {_THAI_MONTHS[value.month - 1]} {value.year + 543}"


class _Environment(SandboxedEnvironment):
    """Keys of a mapping win over its methods: ``event.items`` is the event's items."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _finalize(value: Any) -> Any:
    # A trait stored as JSON null renders as nothing, not as "None".
    return "" if value is None else value


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    env = _Environment(
        autoescape=html, undefined=_Blank, keep_trailing_newline=True, finalize=_finalize
    )
    env.filters["baht"] = _baht
    env.filters["thai_date"] = _thai_date
    return env


def check_body(body: Any, path: str) -> None:
    """Compile every string of a body; raise RenderError naming the first broken field."""
    for where, text, html in _strings(body, path):
        try:
            _environment(html).from_string(text)
        except TemplateSyntaxError as exc:
            raise RenderError(where, f"line {exc.lineno}: {exc.message}") from None


def render_body(body: Any, variables: Mapping[str, Any], path: str = "body") -> Any:
    """Render every string of a body with ``variables``; all or nothing."""

    def render(value: Any, where: str, html: bool) -> Any:
        if isinstance(value, str):
            if "{" not in value:
                return value
            try:
                return str(_compiled(value, html).render(variables))
            except Exception as exc:  # noqa: BLE001 - any failure means: do not send
                raise RenderError(where, f"{type(exc).__name__}: {exc}") from None
        if isinstance(value, Mapping):
            return {
                key: render(item, f"{where}.{key}", html or key == "html")
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [render(item, f"{where}[{index}]", html) for index, item in enumerate(value)]
        return value

    return render(body, path, False)


def wrap_links(content: Any, tracked: Callable[[int], str]) -> tuple[Any, list[str]]:
    """Replace clickable URLs by tracking links; return the content and the original URLs.

    ``tracked(index)`` returns the redirect URL for the index-th original URL.
    """
    links: list[str] = []

    def link(url: str) -> str:
        links.append(url)
        return tracked(len(links) - 1)

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, str):
            if key == "html":
                return _HREF.sub(lambda m: f"{m[1]}{m[2]}{link(m[3])}{m[2]}", value)
            if key == "uri" and _URL.fullmatch(value):
                return link(value)
            if key in _LINK_FIELDS:
                return _URL.sub(lambda m: link(m[0]), value)
            return value
        if isinstance(value, Mapping):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, key) for item in value]
        return value

    return walk(content, None), links


@lru_cache(maxsize=1024)
def _compiled(text: str, html: bool) -> Any:
    return _environment(html).from_string(text)


def _strings(body: Any, path: str, html: bool = False) -> list[tuple[str, str, bool]]:
    if isinstance(body, str):
        return [(path, body, html)]
    if isinstance(body, Mapping):
        return [
            found
            for key, item in body.items()
            for found in _strings(item, f"{path}.{key}", html or key == "html")
        ]
    if isinstance(body, list):
        return [
            found for index, item in enumerate(body) for found in _strings(item, f"{path}[{index}]")
        ]
    return []

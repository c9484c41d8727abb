"""The channel kinds Sampan can send through, and how to build each one's adapter."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from sampan.messaging.channels import email, facebook, line, push, sms, webhook
from sampan.messaging.channels.base import ChannelAdapter

_MODULES: dict[str, ModuleType] = {
    module.KIND: module for module in (email, line, sms, facebook, push, webhook)
}
KINDS = tuple(_MODULES)


class ConfigError(ValueError):
    """A channel configuration breaks its kind's rules; the message names the fields."""


def _module(kind: str) -> ModuleType:
    try:
        return _MODULES[kind]
    except KeyError:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}") from None


def parse_config(kind: str, config: Mapping[str, Any]) -> BaseModel:
    """Validate a configuration for ``kind``; raise ConfigError listing every problem."""
    try:
        return cast(BaseModel, _module(kind).Config.model_validate(dict(config)))
    except ValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(problems) from None


def build_adapter(kind: str, config: Mapping[str, Any]) -> ChannelAdapter:
    """Return a ready adapter for a stored configuration."""
    module = _module(kind)
    return cast(ChannelAdapter, module.Adapter(parse_config(kind, config)))


def check_content(kind: str, content: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise ContentError when rendered content cannot go out on this channel."""
    if kind == sms.KIND:
        limit = cast(sms.Config, parse_config(kind, config)).max_parts if config else None
        sms.check_content(content, max_parts=limit or sms.DEFAULT_MAX_PARTS)
        return
    _module(kind).check_content(content)


def is_idempotent(kind: str) -> bool:
    """Return whether resending with the same retry key is harmless on this kind."""
    return bool(_module(kind).Adapter.idempotent)

"""The registry every domain joins to export, erase and expire the personal data it holds.

Domains stay independent: each offers a holder built from its own service functions, and
the runtime lists them, so a data-subject request reaches domains added later too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class DataSubject:
    """One person as the domains know them: every profile id, identifier and event seq."""

    profile_id: str
    profile_ids: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...] = ()
    event_seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class PersonalDataHolder:
    """What one domain stores about a person, and how to hand it over or remove it."""

    name: str
    export: Callable[[Session, DataSubject], Mapping[str, Rows]]
    erase: Callable[[Session, DataSubject], Mapping[str, int]]


@dataclass(frozen=True)
class RetentionClass:
    """A class of data with a retention period; ``purge`` removes what is older than a cutoff."""

    name: str
    description: str
    default_days: int
    purge: Callable[[Session, int], int] = field(repr=False)


@dataclass(frozen=True)
class PersonalDataRegistry:
    """Every holder and retention class of the running product, in erasure order."""

    holders: tuple[PersonalDataHolder, ...]
    retention: tuple[RetentionClass, ...] = ()
    # Fold every logged event into profiles first, so no event escapes attribution.
    catch_up: Callable[[Session], object] = field(default=lambda _: None, repr=False)

"""Streaming identity resolution: union-find with merge guards (Segment Unify's flat matching).

The graph is held in memory; the service loads the part a batch touches, runs the
resolver over it and writes back what changed. The benchmark runs the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sampan.identity.identifiers import Identifier, IdentityRules


@dataclass(frozen=True, slots=True)
class Rejection:
    """An identifier an event carried but that was not linked, and why."""

    identifier: Identifier
    profile_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Merge:
    """``merged`` was folded into ``survivor``; ``moved`` are the identifiers it brought."""

    survivor: str
    merged: str
    moved: tuple[Identifier, ...]
    trigger: tuple[Identifier, ...]


@dataclass(slots=True)
class Resolution:
    """What resolving one event did."""

    profile_id: str
    created: bool = False
    merges: list[Merge] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class IdentityGraph:
    """Which profile owns each identifier, and what each profile holds, by type."""

    def __init__(self) -> None:
        self.owner: dict[Identifier, str] = {}
        self.members: dict[str, dict[str, list[Identifier]]] = {}
        self.guards: set[frozenset[str]] = set()

    def add(self, identifier: Identifier, profile_id: str) -> None:
        """Record that ``profile_id`` owns ``identifier``."""
        self.owner[identifier] = profile_id
        by_type = self.members.setdefault(profile_id, {})
        by_type.setdefault(identifier.type, []).append(identifier)

    def count(self, profile_id: str, identifier_type: str) -> int:
        """Return how many identifiers of a type the profile holds."""
        return len(self.members.get(profile_id, {}).get(identifier_type, ()))

    def identifiers_of(self, profile_id: str) -> list[Identifier]:
        """Return every identifier a profile holds."""
        return [i for ids in self.members.get(profile_id, {}).values() for i in ids]

    def fits(self, survivor: str, merged: str, rules: IdentityRules) -> bool:
        """Whether merging the two profiles keeps every type within its limit."""
        mine = self.members.get(survivor, {})
        for id_type, ids in self.members.get(merged, {}).items():
            if len(mine.get(id_type, ())) + len(ids) > rules.limit(id_type):
                return False
        return True

    def fold(self, survivor: str, merged: str) -> list[Identifier]:
        """Move every identifier of ``merged`` to ``survivor``; return those moved."""
        moved = self.identifiers_of(merged)
        target = self.members.setdefault(survivor, {})
        for identifier in moved:
            self.owner[identifier] = survivor
            target.setdefault(identifier.type, []).append(identifier)
        self.members.pop(merged, None)
        for guard in [g for g in self.guards if merged in g]:
            self.guards.discard(guard)
            other = next(iter(guard - {merged}), survivor)
            if other != survivor:
                self.guards.add(frozenset({survivor, other}))
        return moved


def resolve(
    graph: IdentityGraph,
    identifiers: Sequence[Identifier],
    rules: IdentityRules,
    new_profile_id: Callable[[], str],
) -> Resolution:
    """Link an event's identifiers (highest priority first) and return its profile.

    The event's identifiers form units: each profile that already owns some of them, and
    each new identifier. Units are taken in priority order and kept while everything kept
    fits the limits and no un-merge guard separates two kept profiles; a unit that does
    not fit is refused, and its identifiers reported. So, as in Segment Unify, a conflict
    drops the lower-priority identifiers: a new member id arriving with a shared tablet's
    anonymous id starts its own profile rather than joining the tablet's owner. The kept
    profiles merge into the oldest (smallest id).
    """
    kept_profiles: list[str] = []
    kept_new: list[Identifier] = []
    counts: dict[str, int] = {}
    resolution = Resolution(profile_id="")
    for unit_owner, unit in _units(graph, identifiers):
        if unit_owner is not None:
            if any(frozenset({unit_owner, p}) in graph.guards for p in kept_profiles):
                _refuse(resolution, unit, "unmerged")
                continue
            adds = {t: len(ids) for t, ids in graph.members.get(unit_owner, {}).items()}
        else:
            adds = {unit[0].type: 1}
        if any(counts.get(t, 0) + n > rules.limit(t) for t, n in adds.items()):
            _refuse(resolution, unit, "limit")
            continue
        for id_type, n in adds.items():
            counts[id_type] = counts.get(id_type, 0) + n
        if unit_owner is None:
            kept_new.extend(unit)
        else:
            kept_profiles.append(unit_owner)
    if kept_profiles:
        target = min(kept_profiles)
        for other in sorted(kept_profiles):
            if other != target:
                moved = graph.fold(target, other)
                resolution.merges.append(Merge(target, other, tuple(moved), tuple(identifiers)))
    else:
        target = new_profile_id()
        resolution.created = True
    for identifier in kept_new:
        graph.add(identifier, target)
    resolution.profile_id = target
    for index, rejection in enumerate(resolution.rejections):
        resolution.rejections[index] = Rejection(rejection.identifier, target, rejection.reason)
    return resolution


def _units(
    graph: IdentityGraph, identifiers: Sequence[Identifier]
) -> list[tuple[str | None, list[Identifier]]]:
    """Group identifiers by owning profile (new ones alone), highest priority first.

    Among units whose best identifier has the same type, known profiles come before new
    identifiers: a profile already holding five phones keeps the event of a sixth.
    """
    units: list[tuple[str | None, list[Identifier]]] = []
    by_owner: dict[str, list[Identifier]] = {}
    for identifier in identifiers:
        owner = graph.owner.get(identifier)
        if owner is None:
            units.append((None, [identifier]))
        elif owner in by_owner:
            by_owner[owner].append(identifier)
        else:
            by_owner[owner] = [identifier]
            units.append((owner, by_owner[owner]))
    position = {identifier: index for index, identifier in enumerate(identifiers)}
    type_order: dict[str, int] = {}
    for identifier in identifiers:  # sorted by priority, so first sight gives the type's rank
        type_order.setdefault(identifier.type, len(type_order))
    return sorted(
        units,
        key=lambda unit: (type_order[unit[1][0].type], unit[0] is None, position[unit[1][0]]),
    )


def _refuse(resolution: Resolution, unit: Iterable[Identifier], reason: str) -> None:
    for identifier in unit:
        resolution.rejections.append(Rejection(identifier, "", reason))

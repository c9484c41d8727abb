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

    Identifiers already owned by other profiles merge those profiles into one unless a
    limit or an un-merge guard forbids it; then the identifier is not linked and the
    rejection is reported. The older profile (smaller id) survives a merge.
    """
    owners = [graph.owner[i] for i in identifiers if i in graph.owner]
    if not owners:
        profile_id = new_profile_id()
        resolution = Resolution(profile_id=profile_id, created=True)
        _attach_new(graph, identifiers, profile_id, rules, resolution)
        return resolution
    target = owners[0]
    resolution = Resolution(profile_id=target)
    for identifier in identifiers:
        owner = graph.owner.get(identifier)
        if owner == target:
            continue
        if owner is None:
            _attach_new(graph, (identifier,), target, rules, resolution)
            continue
        if frozenset({owner, target}) in graph.guards:
            resolution.rejections.append(Rejection(identifier, target, "unmerged"))
            continue
        if not graph.fits(target, owner, rules):
            resolution.rejections.append(Rejection(identifier, target, "limit"))
            continue
        survivor, merged = (target, owner) if target < owner else (owner, target)
        moved = graph.fold(survivor, merged)
        resolution.merges.append(Merge(survivor, merged, tuple(moved), tuple(identifiers)))
        target = survivor
    resolution.profile_id = target
    return resolution


def _attach_new(
    graph: IdentityGraph,
    identifiers: Iterable[Identifier],
    profile_id: str,
    rules: IdentityRules,
    resolution: Resolution,
) -> None:
    for identifier in identifiers:
        if graph.count(profile_id, identifier.type) < rules.limit(identifier.type):
            graph.add(identifier, profile_id)
        else:
            resolution.rejections.append(Rejection(identifier, profile_id, "limit"))

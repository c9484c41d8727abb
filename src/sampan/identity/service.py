"""Identity's facade: resolve events into profiles, look identifiers up, merge history, un-merge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sampan.core.batching import chunks
from sampan.core.clock import Clock, from_ms, system_clock, to_ms
from sampan.core.errors import Conflict, InvalidInput, NotFound
from sampan.core.ids import new_id
from sampan.core.personal_data import DataSubject, Rows
from sampan.db.rows import affected_rows
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.identity.identifiers import (
    Identifier,
    IdentityRules,
    extract_identifiers,
    normalise,
)
from sampan.identity.models import IdentityRecord, LinkDecision, MergeGuard, MergeRecord
from sampan.identity.resolver import IdentityGraph, resolve
from sampan.identity.schemas import (
    BatchResolution,
    DecisionOut,
    IdentifierOut,
    MergeOut,
    ProfilesMerged,
    ProfilesUnmerged,
)

__all__ = [
    "IdentityRules",
    "attribute_events",
    "decisions_of",
    "find_profile_ids",
    "identifiers_of",
    "merge_history",
    "normalise_identifier",
    "resolve_events",
    "subjects_of",
    "unmerge",
]

_CHUNK = 400


def normalise_identifier(identifier_type: str, value: str, rules: IdentityRules) -> Identifier:
    """Return the normalised identifier or raise InvalidInput naming what is wrong."""
    if identifier_type not in rules.priority:
        raise InvalidInput(
            f"unknown identifier type '{identifier_type}': expected one of "
            f"{', '.join(rules.priority)}"
        )
    identifier = normalise(identifier_type, value, rules)
    if identifier is None:
        hint = {
            "phone": ": expected a Thai mobile such as 081-234-5678 or +66812345678",
            "email": ": expected an address such as name@example.co.th",
        }.get(identifier_type, "")
        raise InvalidInput(f"{identifier_type} '{value}' is not a valid identifier{hint}")
    return identifier


def resolve_events(
    session: Session,
    *,
    events: Sequence[tuple[int, Mapping[str, Any]]],
    rules: IdentityRules,
    clock: Clock = system_clock,
) -> BatchResolution:
    """Resolve each ``(seq, message)`` to a profile, linking and merging as the rules allow."""
    extracted = [(seq, extract_identifiers(message, rules)) for seq, message in events]
    keys = {identifier for _, ids in extracted for identifier in ids}
    graph, loaded = _load_graph(session, keys)
    now_ms = to_ms(clock())
    attribution: dict[int, str] = {}
    created: list[str] = []
    merges: list[tuple[int, Any]] = []
    first_seq: dict[Identifier, int] = {}
    decisions: list[dict[str, Any]] = []
    for seq, identifiers in extracted:
        if not identifiers:
            continue
        result = resolve(graph, identifiers, rules, lambda: new_id("prf"))
        attribution[seq] = result.profile_id
        if result.created:
            created.append(result.profile_id)
        for identifier in identifiers:
            first_seq.setdefault(identifier, seq)
        merges.extend((seq, merge) for merge in result.merges)
        decisions.extend(
            {
                "event_seq": seq,
                "profile_id": rejection.profile_id,
                "type": rejection.identifier.type,
                "value": rejection.identifier.value,
                "reason": rejection.reason,
                "decided_ms": now_ms,
            }
            for rejection in result.rejections
        )
    _write_graph(session, graph, loaded, first_seq, now_ms)
    insert_ignoring_duplicates(
        session, LinkDecision, decisions, ["profile_id", "type", "value", "reason"]
    )
    published = []
    for seq, merge in merges:
        record = MergeRecord(
            survivor_id=merge.survivor,
            merged_id=merge.merged,
            event_seq=seq,
            moved=[[i.type, i.value] for i in merge.moved],
            trigger=[[i.type, i.value] for i in merge.trigger],
            merged_ms=now_ms,
        )
        session.add(record)
        session.flush()
        published.append(
            ProfilesMerged(
                merge_id=record.id,
                survivor_id=merge.survivor,
                merged_id=merge.merged,
                event_seq=seq,
            )
        )
    final = {merge.merged: merge.survivor for _, merge in merges}
    return BatchResolution(
        attribution={seq: _follow(final, pid) for seq, pid in attribution.items()},
        created=created,
        merges=published,
    )


def attribute_events(
    session: Session, *, events: Sequence[tuple[int, Mapping[str, Any]]], rules: IdentityRules
) -> dict[int, str]:
    """Return the profile currently owning each event's highest-priority known identifier."""
    extracted = [(seq, extract_identifiers(message, rules)) for seq, message in events]
    keys = {identifier for _, ids in extracted for identifier in ids}
    owners = _owners(session, keys)
    result: dict[int, str] = {}
    for seq, identifiers in extracted:
        for identifier in identifiers:
            if identifier in owners:
                result[seq] = owners[identifier]
                break
    return result


def find_profile_ids(session: Session, *, identifiers: Iterable[Identifier]) -> list[str]:
    """Return the distinct profiles owning any of these identifiers."""
    owners = _owners(session, set(identifiers))
    return sorted(set(owners.values()))


def identifiers_of(
    session: Session, *, profile_ids: Sequence[str]
) -> dict[str, list[IdentifierOut]]:
    """Return the identifiers each profile holds, in priority order of discovery."""
    result: dict[str, list[IdentifierOut]] = {pid: [] for pid in profile_ids}
    for chunk in chunks(list(profile_ids), _CHUNK):
        rows = session.scalars(
            select(IdentityRecord)
            .where(IdentityRecord.profile_id.in_(chunk))
            .order_by(IdentityRecord.id)
        )
        for row in rows:
            result[row.profile_id].append(IdentifierOut(type=row.type, value=row.value))
    return result


def subjects_of(session: Session, *, profile_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return the Segment fields naming each person in an event.

    That is userId, else anonymousId, else an external id; no identifier gives no fields.
    """
    found = identifiers_of(session, profile_ids=profile_ids)
    return {profile_id: _subject(items) for profile_id, items in found.items()}


def _subject(identifiers: Sequence[IdentifierOut]) -> dict[str, Any]:
    for wanted, key in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        for item in identifiers:
            if item.type == wanted:
                return {key: item.value}
    for item in identifiers:
        return {"context": {"externalIds": [{"type": item.type, "id": item.value}]}}
    return {}


def merge_history(session: Session, *, profile_id: str) -> list[MergeOut]:
    """Return the merges this profile took part in, newest first."""
    rows = session.scalars(
        select(MergeRecord)
        .where(or_(MergeRecord.survivor_id == profile_id, MergeRecord.merged_id == profile_id))
        .order_by(MergeRecord.id.desc())
    )
    return [_merge_out(row) for row in rows]


def decisions_of(session: Session, *, profile_id: str, limit: int = 100) -> list[DecisionOut]:
    """Return the identifiers recently refused for this profile, newest first."""
    rows = session.scalars(
        select(LinkDecision)
        .where(LinkDecision.profile_id == profile_id)
        .order_by(LinkDecision.id.desc())
        .limit(limit)
    )
    return [
        DecisionOut(
            event_seq=row.event_seq,
            type=row.type,
            value=row.value,
            reason=row.reason,
            decided_at=from_ms(row.decided_ms),
        )
        for row in rows
    ]


def unmerge(
    session: Session, *, profile_id: str, merge_id: int | None = None, clock: Clock = system_clock
) -> ProfilesUnmerged:
    """Split a merged profile back out of ``profile_id`` along the identifiers it brought.

    Without ``merge_id`` the newest merge into this profile is undone. A guard then keeps
    later events from merging the two again; such links are recorded as decisions.
    """
    query = select(MergeRecord).where(
        MergeRecord.survivor_id == profile_id, MergeRecord.undone_ms.is_(None)
    )
    if merge_id is not None:
        query = query.where(MergeRecord.id == merge_id)
    record = session.scalar(query.order_by(MergeRecord.id.desc()).limit(1))
    if record is None:
        if merge_id is not None:
            raise NotFound(f"profile '{profile_id}' has no active merge with id {merge_id}")
        raise Conflict(f"profile '{profile_id}' has no merge to undo")
    moved = [Identifier(t, v) for t, v in record.moved]
    for chunk in chunks(moved, _CHUNK):
        session.execute(
            update(IdentityRecord)
            .where(
                IdentityRecord.profile_id == profile_id,
                tuple_(IdentityRecord.type, IdentityRecord.value).in_(
                    [(i.type, i.value) for i in chunk]
                ),
            )
            .values(profile_id=record.merged_id)
        )
    record.undone_ms = to_ms(clock())
    a, b = sorted((profile_id, record.merged_id))
    insert_ignoring_duplicates(
        session, MergeGuard, [{"profile_a": a, "profile_b": b}], ["profile_a", "profile_b"]
    )
    session.flush()
    return ProfilesUnmerged(
        merge_id=record.id,
        survivor_id=profile_id,
        restored_id=record.merged_id,
        moved=[IdentifierOut(type=i.type, value=i.value) for i in moved],
    )


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the person's identifiers, merges and refused links."""
    ids = list(subject.profile_ids)
    identifiers = session.scalars(
        select(IdentityRecord).where(IdentityRecord.profile_id.in_(ids)).order_by(IdentityRecord.id)
    )
    merges = session.scalars(select(MergeRecord).where(_merges_of(ids)).order_by(MergeRecord.id))
    decisions = session.scalars(
        select(LinkDecision).where(LinkDecision.profile_id.in_(ids)).order_by(LinkDecision.id)
    )
    return {
        "identities": [
            {
                "type": row.type,
                "value": row.value,
                "profile_id": row.profile_id,
                "linked_at": from_ms(row.linked_ms).isoformat(),
            }
            for row in identifiers
        ],
        "merges": [_merge_out(row).model_dump(mode="json") for row in merges],
        "unlinked_identifiers": [
            {"type": row.type, "value": row.value, "reason": row.reason} for row in decisions
        ],
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Delete the person's identifiers, merge records and refused links, wherever they are."""
    ids = list(subject.profile_ids)
    values = [value for _, value in subject.identifiers]
    removed = {
        "identities": affected_rows(
            session, delete(IdentityRecord).where(IdentityRecord.profile_id.in_(ids))
        ),
        "merges": affected_rows(session, delete(MergeRecord).where(_merges_of(ids))),
        # Another profile may have been refused one of the person's identifiers.
        "unlinked_identifiers": affected_rows(
            session,
            delete(LinkDecision).where(
                or_(LinkDecision.profile_id.in_(ids), LinkDecision.value.in_(values))
            ),
        ),
        "merge_guards": affected_rows(
            session,
            delete(MergeGuard).where(
                or_(MergeGuard.profile_a.in_(ids), MergeGuard.profile_b.in_(ids))
            ),
        ),
    }
    return {key: count or 0 for key, count in removed.items()}


def _merges_of(ids: Sequence[str]) -> ColumnElement[bool]:
    return or_(MergeRecord.survivor_id.in_(ids), MergeRecord.merged_id.in_(ids))


def _load_graph(
    session: Session, keys: set[Identifier]
) -> tuple[IdentityGraph, dict[Identifier, tuple[int, str]]]:
    """Load the identifiers a batch touches and every identifier of their profiles."""
    graph = IdentityGraph()
    loaded: dict[Identifier, tuple[int, str]] = {}
    direct = _owners(session, keys)
    profile_ids = sorted(set(direct.values()))
    columns = (
        IdentityRecord.id,
        IdentityRecord.type,
        IdentityRecord.value,
        IdentityRecord.profile_id,
    )
    for chunk in chunks(profile_ids, _CHUNK):
        for row_id, id_type, value, profile_id in session.execute(
            select(*columns).where(IdentityRecord.profile_id.in_(chunk))
        ):
            identifier = Identifier(id_type, value)
            loaded[identifier] = (row_id, profile_id)
            graph.add(identifier, profile_id)
    for chunk in chunks(profile_ids, _CHUNK):
        for guard in session.scalars(
            select(MergeGuard).where(
                or_(MergeGuard.profile_a.in_(chunk), MergeGuard.profile_b.in_(chunk))
            )
        ):
            graph.guards.add(frozenset({guard.profile_a, guard.profile_b}))
    return graph, loaded


def _write_graph(
    session: Session,
    graph: IdentityGraph,
    loaded: dict[Identifier, tuple[int, str]],
    first_seq: dict[Identifier, int],
    now_ms: int,
) -> None:
    inserts = []
    updates = []
    for identifier, profile_id in graph.owner.items():
        before = loaded.get(identifier)
        if before is None:
            inserts.append(
                {
                    "type": identifier.type,
                    "value": identifier.value,
                    "profile_id": profile_id,
                    "first_seq": first_seq.get(identifier, 0),
                    "linked_ms": now_ms,
                }
            )
        elif before[1] != profile_id:
            updates.append({"id": before[0], "profile_id": profile_id})
    if inserts:
        session.connection().execute(insert(IdentityRecord), inserts)
    if updates:
        session.execute(update(IdentityRecord), updates)
    # Guards moved to a survivor by a merge; those already stored are skipped.
    guard_rows = [
        {"profile_a": a, "profile_b": b}
        for a, b in sorted(tuple(sorted(g)) for g in graph.guards if len(g) == 2)
    ]
    insert_ignoring_duplicates(session, MergeGuard, guard_rows, ["profile_a", "profile_b"])


def _owners(session: Session, keys: set[Identifier]) -> dict[Identifier, str]:
    owners: dict[Identifier, str] = {}
    values = sorted({identifier.value for identifier in keys})
    for chunk in chunks(values, _CHUNK):
        rows = session.execute(
            select(IdentityRecord.type, IdentityRecord.value, IdentityRecord.profile_id).where(
                IdentityRecord.value.in_(chunk)
            )
        )
        for id_type, value, profile_id in rows:
            identifier = Identifier(id_type, value)
            if identifier in keys:
                owners[identifier] = profile_id
    return owners


def _follow(final: dict[str, str], profile_id: str) -> str:
    while profile_id in final:
        profile_id = final[profile_id]
    return profile_id


def _merge_out(row: MergeRecord) -> MergeOut:
    return MergeOut(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        event_seq=row.event_seq,
        merged_at=from_ms(row.merged_ms),
        undone_at=from_ms(row.undone_ms) if row.undone_ms is not None else None,
        moved=[IdentifierOut(type=t, value=v) for t, v in row.moved],
        trigger=[IdentifierOut(type=t, value=v) for t, v in row.trigger],
    )

"""Consent records, processing blocks and the suppression list, and ``can_contact`` over them."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import Select, and_, bindparam, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased

from sampan.access import service as access
from sampan.access.schemas import Principal
from sampan.collect.schemas import CollectedEvent
from sampan.consent.models import ConsentRecord, ProcessingBlock, Suppression, WorkspaceSecret
from sampan.consent.rules import (
    ConsentChange,
    ConsentFact,
    ConsentRuleError,
    ContactDecision,
    PurposeCatalog,
    consented,
    current_consents,
    decide,
    parse_changes,
)
from sampan.consent.schemas import ConsentRecordOut, ConsentSlot, ConsentState
from sampan.core.batching import chunks
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import InvalidInput
from sampan.db.base import UTCDateTime
from sampan.db.lists import one_of
from sampan.db.outbox import publish
from sampan.db.rows import affected_rows
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.identity import service as identity
from sampan.profiles import service as profiles
from sampan.settings import ConsentPurpose

CONSENT_EVENT = "Consent Updated"
BLOCK_KINDS = ("restricted", "objected")
log = structlog.get_logger("sampan.consent")


def record_changes(
    session: Session,
    *,
    profile_id: str,
    changes: Sequence[ConsentChange],
    actor: Principal,
    source: str,
    capture_channel: str | None = None,
    recorded_at: datetime | None = None,
    clock: Clock = system_clock,
) -> list[ConsentRecordOut]:
    """Append consent records for a person and audit the change."""
    person = profiles.find_person(session, profile_id=profile_id)
    if person.erased_at is not None:
        raise InvalidInput(f"profile '{profile_id}' was erased: no consent can be recorded")
    now = clock()
    rows = [
        ConsentRecord(
            profile_id=person.profile_id,
            purpose=change.purpose,
            channel=change.channel,
            status=change.status,
            lawful_basis=change.lawful_basis,
            notice_version=change.notice_version,
            notice_language=change.notice_language,
            source=source,
            capture_channel=capture_channel,
            recorded_by=f"{actor.kind}:{actor.id}",
            recorded_at=(recorded_at or now).astimezone(UTC),
            created_at=now,
            expires_at=change.expires_at.astimezone(UTC) if change.expires_at else None,
        )
        for change in changes
    ]
    session.add_all(rows)
    session.flush()
    publish(
        session,
        topic="consent.changed",
        key=person.profile_id,
        payload={"profile_ids": [person.profile_id]},
        at=now,
    )
    access.record_audit(
        session,
        actor=actor,
        action="consent.changed",
        subject_type="profile",
        subject_id=person.profile_id,
        detail={"changes": [f"{c.purpose}:{c.channel or '-'}:{c.status}" for c in changes]},
        clock=clock,
    )
    return [_record_out(row) for row in rows]


def record_consent_events(
    session: Session,
    *,
    events: Sequence[CollectedEvent],
    attribution: Mapping[int, str],
    catalog: PurposeCatalog,
    clock: Clock = system_clock,
) -> int:
    """Record the consents of ``Consent Updated`` events; a replayed event records nothing."""
    now = clock()
    rows = []
    for event in events:
        owner = attribution.get(event.seq)
        if event.name != CONSENT_EVENT or event.type != "track" or owner is None:
            continue
        properties = event.message.get("properties") or {}
        try:
            changes = parse_changes(properties, catalog)
        except ConsentRuleError as exc:
            # Checked on the way in; only a purpose removed from settings since can fail here.
            log.warning("consent event skipped", seq=event.seq, error=str(exc))
            continue
        access.record_audit(
            session,
            actor=Principal(
                kind="source",
                id=event.source_id,
                name=event.source_id,
                role=None,
                permissions=frozenset(),
            ),
            action="consent.changed",
            subject_type="profile",
            subject_id=owner,
            detail={
                "event_seq": event.seq,
                "changes": [f"{c.purpose}:{c.channel or '-'}:{c.status}" for c in changes],
            },
            clock=clock,
        )
        for change in changes:
            rows.append(
                {
                    "profile_id": owner,
                    "purpose": change.purpose,
                    "channel": change.channel,
                    "status": change.status,
                    "lawful_basis": change.lawful_basis,
                    "notice_version": change.notice_version,
                    "notice_language": change.notice_language,
                    "source": f"tracking:{event.source_id}",
                    "capture_channel": event.channel,
                    "recorded_by": f"source:{event.source_id}",
                    "recorded_at": event.timestamp,
                    "created_at": now,
                    "expires_at": change.expires_at,
                    "event_seq": event.seq,
                }
            )
    insert_ignoring_duplicates(session, ConsentRecord, rows, ["event_seq", "purpose", "channel"])
    return len(rows)


def consent_state(
    session: Session, *, profile_id: str, catalog: PurposeCatalog, clock: Clock = system_clock
) -> ConsentState:
    """Return a person's current consent per purpose and channel, blocks and full history."""
    person = profiles.find_person(session, profile_id=profile_id)
    rows = list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.profile_id.in_(person.profile_ids))
            .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
        )
    )
    latest = current_consents(_fact(row) for row in rows)
    by_id = {row.id: row for row in rows}
    now = clock()
    slots = []
    for purpose_name, channel in catalog.slots():
        fact = latest.get((purpose_name, channel))
        row = by_id[fact.order] if fact is not None else None
        status = "none" if fact is None else fact.status
        if fact is not None and fact.expires_at is not None and fact.expires_at <= now:
            status = "expired"
        slots.append(
            ConsentSlot(
                purpose=purpose_name,
                channel=channel or None,
                status=status,
                requires_consent=catalog.get(purpose_name).requires_consent,
                record=_record_out(row) if row is not None else None,
            )
        )
    return ConsentState(
        profile_id=person.profile_id,
        blocks=_blocks(session, person.profile_ids, person.erased_at is not None),
        current=slots,
        history=[_record_out(row) for row in reversed(rows)],
    )


def can_contact_many(
    session: Session,
    *,
    profile_ids: Sequence[str],
    purpose: str,
    channel: str | None,
    catalog: PurposeCatalog,
    clock: Clock = system_clock,
) -> dict[str, ContactDecision]:
    """Decide for many people at once, with the same rules as ``can_contact``.

    A profile id that does not exist is not contactable (reason ``unknown``). People whose
    answer is a plain yes are found by two queries; only the others are looked at closely.
    """
    try:
        stored_channel = catalog.check_channel(purpose, channel)
    except ConsentRuleError as exc:
        raise InvalidInput(str(exc)) from None
    now = clock()
    wanted = catalog.get(purpose)
    clear = _plainly_consented(
        session, profile_ids, purpose=wanted, channel=stored_channel, now=now
    )
    rest = [profile_id for profile_id in profile_ids if profile_id not in clear]
    looked_at = _decide_each(session, rest, purpose=wanted, channel=stored_channel, now=now)
    yes = consented(wanted, stored_channel)
    return {
        profile_id: yes if profile_id in clear else looked_at[profile_id]
        for profile_id in profile_ids
    }


def _plainly_consented(
    session: Session,
    profile_ids: Sequence[str],
    *,
    purpose: ConsentPurpose,
    channel: str,
    now: datetime,
) -> set[str]:
    """Return the people ``decide`` would surely answer "consented" for.

    A person qualifies when they are one profile (none merged, not erased), have no block
    of any kind and no suppressed identifier, and the latest record of the purpose on the
    channel is a grant that has not expired. Anyone else gets the full decision, so this can
    only say yes where ``decide`` says yes.
    """
    if not purpose.requires_consent or not profile_ids:
        return set()
    lone = profiles.lone_profiles(session, profile_ids=profile_ids)
    if not lone:
        return set()
    query = _contact_queries(session.get_bind().dialect.name).plainly_consented
    params = {"ids": sorted(lone), "purpose": purpose.name, "channel": channel, "now": now}
    clear = set(session.connection().execute(query, params).scalars())
    return clear - _suppressed_profiles(session, sorted(clear))


@dataclass(frozen=True)
class _ContactQueries:
    """The queries behind contact decisions, built once per dialect (senders run them a lot)."""

    plainly_consented: Select[str]
    blocks: Select[str, str]
    records: Select[str, str, str, str, datetime, int, datetime | None]


@functools.cache
def _contact_queries(dialect: str) -> _ContactQueries:
    later = aliased(ConsentRecord)
    slot = (
        ConsentRecord.purpose == bindparam("purpose"),
        ConsentRecord.channel == bindparam("channel"),
    )
    return _ContactQueries(
        plainly_consented=select(ConsentRecord.profile_id).where(
            one_of(ConsentRecord.profile_id, "ids", dialect=dialect),
            *slot,
            ConsentRecord.status == "granted",
            or_(
                ConsentRecord.expires_at.is_(None),
                ConsentRecord.expires_at > bindparam("now", type_=UTCDateTime()),
            ),
            ~exists().where(
                later.profile_id == ConsentRecord.profile_id,
                later.purpose == ConsentRecord.purpose,
                later.channel == ConsentRecord.channel,
                or_(
                    later.recorded_at > ConsentRecord.recorded_at,
                    and_(
                        later.recorded_at == ConsentRecord.recorded_at,
                        later.id > ConsentRecord.id,
                    ),
                ),
            ),
            ~exists().where(ProcessingBlock.profile_id == ConsentRecord.profile_id),
        ),
        blocks=select(ProcessingBlock.profile_id, ProcessingBlock.kind).where(
            one_of(ProcessingBlock.profile_id, "ids", dialect=dialect)
        ),
        records=select(
            ConsentRecord.profile_id,
            ConsentRecord.purpose,
            ConsentRecord.channel,
            ConsentRecord.status,
            ConsentRecord.recorded_at,
            ConsentRecord.id,
            ConsentRecord.expires_at,
        ).where(one_of(ConsentRecord.profile_id, "ids", dialect=dialect), *slot),
    )


def _decide_each(
    session: Session,
    profile_ids: Sequence[str],
    *,
    purpose: ConsentPurpose,
    channel: str,
    now: datetime,
) -> dict[str, ContactDecision]:
    """Decide for each person from their profiles, blocks, suppressions and records."""
    if not profile_ids:
        return {}
    # find_people flushed the session, so the Core queries below see this transaction's
    # changes; Core, not the ORM, since this runs for every batch the dispatcher sends.
    people = profiles.find_people(session, profile_ids=profile_ids, with_locale=False)
    connection = session.connection()
    every_id = sorted({pid for person in people.values() for pid in person.profile_ids})
    queries = _contact_queries(session.get_bind().dialect.name)
    block_kinds: dict[str, set[str]] = {}
    for profile_id, kind in connection.execute(queries.blocks, {"ids": every_id}):
        block_kinds.setdefault(profile_id, set()).add(kind)
    facts: dict[str, list[ConsentFact]] = {}
    slot = {"ids": every_id, "purpose": purpose.name, "channel": channel}
    for row in connection.execute(queries.records, slot):
        facts.setdefault(row.profile_id, []).append(
            ConsentFact(
                purpose=row.purpose,
                channel=row.channel,
                status=row.status,
                recorded_at=row.recorded_at,
                order=row.id,
                expires_at=row.expires_at,
            )
        )
    suppressed = _suppressed_profiles(session, every_id)
    decisions = {}
    for asked in profile_ids:
        person = people.get(asked)
        if person is None:
            decisions[asked] = ContactDecision(
                False, "unknown", f"profile '{asked}' does not exist"
            )
            continue
        kinds = {kind for pid in person.profile_ids for kind in block_kinds.get(pid, ())}
        if person.erased_at is not None:
            kinds.add("erased")
        if not kinds and suppressed.intersection(person.profile_ids):
            kinds.add("suppressed")
        decisions[asked] = decide(
            purpose=purpose,
            channel=channel,
            facts=[fact for pid in person.profile_ids for fact in facts.get(pid, ())],
            blocks=sorted(kinds),
            now=now,
        )
    return decisions


def _suppressed_profiles(session: Session, profile_ids: Sequence[str]) -> set[str]:
    if session.scalar(select(Suppression.identifier_hash).limit(1)) is None:
        # Nothing is suppressed: skip hashing every identifier of every person.
        return set()
    salt = workspace_secret(session, "suppression_salt")
    found = identity.identifiers_of(session, profile_ids=profile_ids)
    owners: dict[str, set[str]] = {}
    for profile_id, identifiers in found.items():
        for item in identifiers:
            owners.setdefault(_hash(salt, item.type, item.value), set()).add(profile_id)
    hits: set[str] = set()
    for chunk in chunks(sorted(owners)):
        for hashed in session.scalars(
            select(Suppression.identifier_hash).where(Suppression.identifier_hash.in_(chunk))
        ):
            hits |= owners[hashed]
    return hits


def set_block(
    session: Session,
    *,
    profile_id: str,
    kind: str,
    active: bool,
    actor: Principal,
    request_id: str | None = None,
    clock: Clock = system_clock,
) -> list[str]:
    """Put a restriction of processing or an objection in force, or lift it."""
    if kind not in BLOCK_KINDS:
        raise InvalidInput(f"block must be one of {', '.join(BLOCK_KINDS)}, got {kind!r}")
    person = profiles.find_person(session, profile_id=profile_id)
    existing = session.scalar(
        select(ProcessingBlock).where(
            ProcessingBlock.profile_id == person.profile_id, ProcessingBlock.kind == kind
        )
    )
    if active and existing is None:
        session.add(
            ProcessingBlock(
                profile_id=person.profile_id, kind=kind, since=clock(), request_id=request_id
            )
        )
    elif not active:
        session.execute(
            delete(ProcessingBlock).where(
                ProcessingBlock.profile_id.in_(person.profile_ids), ProcessingBlock.kind == kind
            )
        )
    session.flush()
    publish(
        session,
        topic="consent.changed",
        key=person.profile_id,
        payload={"profile_ids": [person.profile_id]},
        at=clock(),
    )
    access.record_audit(
        session,
        actor=actor,
        action=f"profile.{kind}" if active else f"profile.un{kind}",
        subject_type="profile",
        subject_id=person.profile_id,
        detail={"request_id": request_id} if request_id else None,
        clock=clock,
    )
    return _blocks(session, person.profile_ids, False)


def suppress(
    session: Session,
    *,
    identifiers: Iterable[tuple[str, str]],
    reason: str,
    clock: Clock = system_clock,
) -> int:
    """Put identifiers on the suppression list as salted hashes; return how many were new."""
    salt = workspace_secret(session, "suppression_salt")
    rows = {
        _hash(salt, kind, value): {
            "identifier_hash": _hash(salt, kind, value),
            "identifier_type": kind,
            "reason": reason,
            "created_at": clock(),
        }
        for kind, value in identifiers
        if kind != "anonymous_id"
    }
    known = select(Suppression.identifier_hash).where(Suppression.identifier_hash.in_(rows))
    before = len(list(session.scalars(known)))
    insert_ignoring_duplicates(session, Suppression, list(rows.values()), ["identifier_hash"])
    return len(rows) - before


def export_personal_data(session: Session, profile_ids: Sequence[str]) -> list[dict[str, object]]:
    """Return every consent record of these profiles as JSON-ready rows."""
    rows = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.profile_id.in_(profile_ids))
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return [_record_out(row).model_dump(mode="json") for row in rows]


def erase_personal_data(session: Session, profile_ids: Sequence[str]) -> dict[str, int]:
    """Delete the consent records and blocks of these profiles."""
    records = affected_rows(
        session, delete(ConsentRecord).where(ConsentRecord.profile_id.in_(profile_ids))
    )
    blocks = affected_rows(
        session, delete(ProcessingBlock).where(ProcessingBlock.profile_id.in_(profile_ids))
    )
    return {"consent_records": records or 0, "blocks": blocks or 0}


def workspace_secret(session: Session, name: str) -> str:
    """Return a secret of this workspace, generating it the first time it is needed."""
    value = session.scalar(select(WorkspaceSecret.value).where(WorkspaceSecret.name == name))
    if value is None:
        insert_ignoring_duplicates(
            session,
            WorkspaceSecret,
            [{"name": name, "value": secrets.token_urlsafe(48)}],
            ["name"],
        )
        value = session.scalar(select(WorkspaceSecret.value).where(WorkspaceSecret.name == name))
    assert value is not None
    return value


def _blocks(session: Session, profile_ids: Sequence[str], erased: bool) -> list[str]:
    kinds = set(
        session.scalars(
            select(ProcessingBlock.kind).where(ProcessingBlock.profile_id.in_(profile_ids))
        )
    )
    if erased:
        kinds.add("erased")
    return sorted(kinds)


def _hash(salt: str, kind: str, value: str) -> str:
    return hmac.new(salt.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _fact(row: ConsentRecord) -> ConsentFact:
    return ConsentFact(
        purpose=row.purpose,
        channel=row.channel,
        status=row.status,
        recorded_at=row.recorded_at,
        order=row.id,
        expires_at=row.expires_at,
    )


def _record_out(row: ConsentRecord) -> ConsentRecordOut:
    return ConsentRecordOut(
        id=row.id,
        profile_id=row.profile_id,
        purpose=row.purpose,
        channel=row.channel or None,
        status=row.status,
        lawful_basis=row.lawful_basis,
        notice_version=row.notice_version,
        notice_language=row.notice_language,
        source=row.source,
        capture_channel=row.capture_channel,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        expires_at=row.expires_at,
    )

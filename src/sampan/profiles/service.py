"""Profiles' facade: keep Customer 360 current from the event log; read, search, annotate."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from sampan.collect import service as collect
from sampan.collect.schemas import CollectedEvent
from sampan.core.batching import chunks
from sampan.core.clock import Clock, from_ms, system_clock, to_ms
from sampan.core.errors import InvalidInput, NotFound
from sampan.core.personal_data import DataSubject, Rows
from sampan.db.lists import one_of
from sampan.db.outbox import publish
from sampan.db.rows import affected_rows
from sampan.identity import service as identity
from sampan.identity.service import IdentityRules
from sampan.profiles.computed import (
    ProfileState,
    apply_event,
    computed_traits,
    merge_states,
    spending,
)
from sampan.profiles.models import Note, PipelineCursor, Profile, TimelineEntry
from sampan.profiles.schemas import (
    NoteOut,
    Person,
    PipelineBatch,
    PipelineProgress,
    PipelineStatus,
    Profile360,
    ProfileFacts,
    ProfileSummary,
    SearchPage,
    TimelineItem,
    TimelinePage,
    UnmergeResult,
)

_CURSOR = "profiles"
BatchReaction = Callable[[Session, PipelineBatch], object]
_NAME_TRAITS = ("name", "first_name", "last_name", "firstName", "lastName", "nickname")
_SEARCH_TRAITS = (*_NAME_TRAITS, "email", "company")


def process_new_events(
    session: Session,
    *,
    rules: IdentityRules,
    currency: str,
    batch_size: int = 1000,
    on_batch: BatchReaction | None = None,
    clock: Clock = system_clock,
) -> PipelineProgress:
    """Resolve and fold the next batch of logged events into profiles, exactly once.

    The cursor advances in the same transaction as the profile changes and ``on_batch``
    (other domains' reactions to the attributed events), so a crash replays the batch
    instead of losing or doubling it.
    """
    cursor = _lock_pipeline(session)
    events = collect.read_events_after(session, after_seq=cursor.last_seq, limit=batch_size)
    if not events:
        return PipelineProgress(processed=0, last_seq=cursor.last_seq, lags_ms=[])
    resolution = identity.resolve_events(
        session, events=[(e.seq, e.message) for e in events], rules=rules, clock=clock
    )
    now_ms = to_ms(clock())
    touched = set(resolution.attribution.values())
    for merge in resolution.merges:
        touched |= {merge.survivor_id, merge.merged_id}
    folds = _load_folds(session, touched - set(resolution.created))
    for profile_id in resolution.created:
        folds[profile_id] = _Fold(profile_id, now_ms, {}, ProfileState(), is_new=True)
    for merge in resolution.merges:
        _merge_folds(session, folds, merge.survivor_id, merge.merged_id)
    timeline = []
    for event in events:
        owner = resolution.attribution.get(event.seq)
        if owner is None:
            continue
        apply_event(
            folds[owner].state,
            message=event.message,
            seq=event.seq,
            channel=event.channel,
            timestamp_ms=event.timestamp_ms,
            default_currency=currency,
        )
        timeline.append(_timeline_row(event, owner))
    _write_folds(session, folds.values(), now_ms)
    if timeline:
        session.connection().execute(insert(TimelineEntry), timeline)
    if on_batch is not None:
        merged_away = {merge.merged_id for merge in resolution.merges}
        on_batch(
            session,
            PipelineBatch(
                events=events,
                attribution=resolution.attribution,
                merges=[(m.survivor_id, m.merged_id) for m in resolution.merges],
                touched=frozenset(touched | set(resolution.created)) - merged_away,
            ),
        )
    cursor.last_seq = events[-1].seq
    return PipelineProgress(
        processed=len(events),
        last_seq=cursor.last_seq,
        lags_ms=[max(0, now_ms - e.received_ms) for e in events],
    )


def _lock_pipeline(session: Session) -> PipelineCursor:
    """Take the pipeline's lock: one writer of identities and profiles at a time."""
    cursor = session.scalar(
        select(PipelineCursor).where(PipelineCursor.name == _CURSOR).with_for_update()
    )
    if cursor is None:
        cursor = PipelineCursor(name=_CURSOR, last_seq=0)
        session.add(cursor)
        session.flush()
    return cursor


@dataclass
class _Fold:
    """A profile being updated by the pipeline, kept out of the ORM for bulk writes."""

    id: str
    created_ms: int
    custom: dict[str, Any]
    state: ProfileState
    is_new: bool = False
    merged_into: str | None = None


def _load_folds(session: Session, ids: set[str]) -> dict[str, _Fold]:
    folds: dict[str, _Fold] = {}
    ordered = sorted(ids)
    columns = (Profile.id, Profile.created_ms, Profile.custom, Profile.state)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for pid, created_ms, custom, state in session.execute(
            select(*columns).where(Profile.id.in_(chunk))
        ):
            folds[pid] = _Fold(pid, created_ms, custom, ProfileState.from_json(state))
    return folds


def _merge_folds(
    session: Session, folds: dict[str, _Fold], survivor_id: str, merged_id: str
) -> None:
    survivor, merged = folds[survivor_id], folds[merged_id]
    survivor.state = merge_states(survivor.state, merged.state)
    survivor.custom = {**merged.custom, **survivor.custom}
    survivor.created_ms = min(survivor.created_ms, merged.created_ms)
    merged.state = ProfileState()
    merged.merged_into = survivor_id
    # Profiles merged earlier into the one now merged away keep pointing at it: readers
    # follow the chain, and an un-merge that restores it restores them with it.
    session.execute(
        update(TimelineEntry)
        .where(TimelineEntry.profile_id == merged_id)
        .values(profile_id=survivor_id)
    )
    session.execute(update(Note).where(Note.profile_id == merged_id).values(profile_id=survivor_id))


def _write_folds(session: Session, folds: Iterable[_Fold], now_ms: int) -> None:
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for fold in folds:
        values = {
            "id": fold.id,
            "custom": fold.custom,
            "created_ms": fold.created_ms,
            "merged_into": fold.merged_into,
            **_state_columns(fold.state, now_ms),
        }
        (inserts if fold.is_new else updates).append(values)
    if inserts:
        session.connection().execute(insert(Profile), inserts)
    if updates:
        session.execute(update(Profile), updates)


def _state_columns(state: ProfileState, now_ms: int) -> dict[str, Any]:
    return {
        "state": state.to_json(),
        "display_name": _display_name(state.traits),
        "search_text": _search_text(state.traits),
        "last_seen_ms": state.last_seen_ms,
        "updated_ms": now_ms,
    }


def pipeline_status(session: Session) -> PipelineStatus:
    """Return how far the profiles are behind the event log."""
    cursor = session.get(PipelineCursor, _CURSOR)
    processed = cursor.last_seq if cursor else 0
    head = collect.latest_seq(session)
    return PipelineStatus(processed_seq=processed, head_seq=head, backlog=head - processed)


def get_profile(session: Session, *, profile_id: str, currency: str) -> Profile360:
    """Return the Customer 360 of a profile; a merged-away id gives its survivor."""
    row = _canonical_row(session, profile_id)
    identities = identity.identifiers_of(session, profile_ids=[row.id])[row.id]
    notes = session.scalars(select(Note).where(Note.profile_id == row.id).order_by(Note.id.desc()))
    state = ProfileState.from_json(row.state)
    return Profile360(
        id=row.id,
        display_name=row.display_name,
        identities=identities,
        traits=state.traits,
        custom_attributes=row.custom,
        computed=computed_traits(state, currency),
        notes=[_note(n) for n in notes],
        merges=identity.merge_history(session, profile_id=row.id),
        unlinked_identifiers=identity.decisions_of(session, profile_id=row.id),
        created_at=from_ms(row.created_ms),
        updated_at=from_ms(row.updated_ms),
    )


def lookup_profile(
    session: Session,
    *,
    identifiers: dict[str, str],
    rules: IdentityRules,
    currency: str,
) -> Profile360:
    """Return the one profile owning the given identifiers (``{"phone": "081-234-5678"}``)."""
    if not identifiers:
        raise InvalidInput(
            f"give one identifier to look up, e.g. ?phone=0812345678; types: "
            f"{', '.join(rules.priority)}"
        )
    normalised = [identity.normalise_identifier(t, v, rules) for t, v in identifiers.items()]
    found = identity.find_profile_ids(session, identifiers=normalised)
    if not found:
        described = ", ".join(f"{i.type} '{i.value}'" for i in normalised)
        raise NotFound(f"no profile has {described}")
    if len(found) > 1:
        raise InvalidInput("the identifiers belong to different profiles: " + ", ".join(found))
    return get_profile(session, profile_id=found[0], currency=currency)


def search_profiles(
    session: Session,
    *,
    query: str,
    rules: IdentityRules,
    currency: str,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Find profiles by name (Thai or Latin), e-mail or phone written in any form."""
    text = query.strip()
    conditions = []
    if text:
        conditions.append(Profile.search_text.contains(text.lower(), autoescape=True))
        candidates = []
        for id_type in rules.priority:
            try:
                candidates.append(identity.normalise_identifier(id_type, text, rules))
            except InvalidInput:
                continue
        matched = set(identity.find_profile_ids(session, identifiers=candidates))
        if matched:
            conditions.append(Profile.id.in_(sorted(matched)))
    where = and_(
        Profile.merged_into.is_(None),
        Profile.erased_at.is_(None),
        or_(*conditions) if conditions else true(),
    )
    total = session.scalar(select(func.count()).select_from(Profile).where(where)) or 0
    rows = session.scalars(
        select(Profile)
        .where(where)
        .order_by(Profile.last_seen_ms.desc(), Profile.id)
        .limit(limit)
        .offset(offset)
    )
    return SearchPage(items=[_summary(row, currency) for row in rows], total=total)


def timeline(
    session: Session,
    *,
    profile_id: str,
    limit: int = 50,
    cursor: str | None = None,
    channel: str | None = None,
    event: str | None = None,
) -> TimelinePage:
    """Return the profile's events across channels, newest first."""
    row = _canonical_row(session, profile_id)
    query = select(TimelineEntry).where(TimelineEntry.profile_id == row.id)
    if channel:
        query = query.where(TimelineEntry.channel == channel)
    if event:
        query = query.where(TimelineEntry.name == event)
    if cursor:
        ts, seq = _parse_cursor(cursor)
        query = query.where(
            or_(
                TimelineEntry.timestamp_ms < ts,
                and_(TimelineEntry.timestamp_ms == ts, TimelineEntry.seq < seq),
            )
        )
    entries = list(
        session.scalars(
            query.order_by(TimelineEntry.timestamp_ms.desc(), TimelineEntry.seq.desc()).limit(
                limit + 1
            )
        )
    )
    page = entries[:limit]
    events = collect.get_events(session, seqs=[e.seq for e in page])
    next_cursor = (
        f"{page[-1].timestamp_ms}:{page[-1].seq}" if len(entries) > limit and page else None
    )
    return TimelinePage(items=[_timeline_item(e) for e in events], next_cursor=next_cursor)


def add_note(
    session: Session, *, profile_id: str, body: str, author: str, clock: Clock = system_clock
) -> NoteOut:
    """Add a staff note to a profile."""
    row = _canonical_row(session, profile_id)
    note = Note(profile_id=row.id, author=author, body=body, created_at=clock())
    session.add(note)
    session.flush()
    return _note(note)


def set_attributes(
    session: Session,
    *,
    profile_id: str,
    attributes: dict[str, Any],
    currency: str,
    clock: Clock = system_clock,
) -> Profile360:
    """Set custom attributes (skin type, seating preference...); a null value removes one."""
    row = _canonical_row(session, profile_id)
    custom = dict(row.custom)
    for key, value in attributes.items():
        if not key.strip() or len(key) > 100:
            raise InvalidInput(f"attribute name {key!r} must be 1-100 characters")
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    row.custom = custom
    row.updated_ms = to_ms(clock())
    _changed(session, "profiles.changed", [row.id], clock)
    session.flush()
    return get_profile(session, profile_id=row.id, currency=currency)


def rectify_traits(
    session: Session,
    *,
    profile_id: str,
    traits: dict[str, Any],
    currency: str,
    clock: Clock = system_clock,
) -> Profile360:
    """Correct traits at the person's request (null removes one); newer events still win."""
    row = _canonical_row(session, profile_id)
    # A copy: the stored dict changed in place would compare equal and never be written.
    state = ProfileState.from_json(copy.deepcopy(row.state))
    now_ms = to_ms(clock())
    for key, value in traits.items():
        if not key.strip() or len(key) > 100:
            raise InvalidInput(f"trait name {key!r} must be 1-100 characters")
        if value is None:
            state.traits.pop(key, None)
        else:
            state.traits[key] = value
        # Above any seq: the correction beats every event up to now, later ones beat it.
        state.trait_at[key] = [now_ms, 2**62]
    _store_state(row, state, now_ms)
    _changed(session, "profiles.changed", [row.id], clock)
    session.flush()
    return get_profile(session, profile_id=row.id, currency=currency)


def unmerge_profile(
    session: Session,
    *,
    profile_id: str,
    merge_id: int | None,
    rules: IdentityRules,
    currency: str,
    clock: Clock = system_clock,
) -> UnmergeResult:
    """Split a wrongly merged profile back out and re-attribute the events it brought."""
    _lock_pipeline(session)
    survivor = _canonical_row(session, profile_id)
    split = identity.unmerge(session, profile_id=survivor.id, merge_id=merge_id, clock=clock)
    restored = session.get(Profile, split.restored_id)
    if restored is None:
        raise NotFound(f"profile '{split.restored_id}' does not exist")
    restored.merged_into = None
    seqs = list(
        session.scalars(select(TimelineEntry.seq).where(TimelineEntry.profile_id == survivor.id))
    )
    events = _events(session, seqs)
    owners = identity.attribute_events(
        session, events=[(e.seq, e.message) for e in events], rules=rules
    )
    moved = [e.seq for e in events if owners.get(e.seq) == restored.id]
    for start in range(0, len(moved), 500):
        session.execute(
            update(TimelineEntry)
            .where(TimelineEntry.seq.in_(moved[start : start + 500]))
            .values(profile_id=restored.id)
        )
    now_ms = to_ms(clock())
    moved_set = set(moved)
    for row, own in (
        (survivor, [e for e in events if e.seq not in moved_set]),
        (restored, [e for e in events if e.seq in moved_set]),
    ):
        _store_state(row, _fold(own, currency), now_ms)
    _changed(session, "profiles.unmerged", [survivor.id, restored.id], clock)
    session.flush()
    return UnmergeResult(
        survivor=get_profile(session, profile_id=survivor.id, currency=currency),
        restored=get_profile(session, profile_id=restored.id, currency=currency),
        moved_events=len(moved),
    )


def facts_of(session: Session, *, profile_ids: Sequence[str], currency: str) -> list[ProfileFacts]:
    """Return the facts segments select on, for the surviving, unerased profiles among these."""
    ids = list(profile_ids)
    found = identity.identifiers_of(session, profile_ids=ids)
    rows = session.scalars(
        select(Profile).where(
            Profile.id.in_(ids), Profile.merged_into.is_(None), Profile.erased_at.is_(None)
        )
    )
    facts = []
    for row in rows:
        state = ProfileState.from_json(row.state)
        figures = spending(state, currency)
        facts.append(
            ProfileFacts(
                profile_id=row.id,
                traits={**state.traits, **row.custom},
                first_seen_ms=state.first_seen_ms,
                last_seen_ms=state.last_seen_ms,
                event_count=state.event_count,
                order_count=figures.order_count,
                total_spent=figures.total_minor,
                last_order_ms=figures.last_order_ms,
                identifier_types=tuple(sorted({i.type for i in found.get(row.id, [])})),
                bought_categories=tuple(sorted(figures.bought)),
            )
        )
    return facts


def find_person(session: Session, *, profile_id: str) -> Person:
    """Return the person a profile id belongs to: survivor, merged-away ids, erasure."""
    row = _canonical_row(session, profile_id, erased=True)
    ids = [row.id]
    frontier = [row.id]
    while frontier:
        frontier = list(
            session.scalars(select(Profile.id).where(Profile.merged_into.in_(frontier)))
        )
        ids += [pid for pid in frontier if pid not in ids]
    locale = ProfileState.from_json(row.state).traits.get("locale")
    return Person(
        profile_id=row.id,
        profile_ids=ids,
        erased_at=row.erased_at,
        locale=locale if isinstance(locale, str) else None,
    )


def lone_profiles(session: Session, *, profile_ids: Sequence[str]) -> set[str]:
    """Return those of ``profile_ids`` that are a whole person on their own.

    That is: the profile exists, is not merged into another, has none merged into it, and
    was not erased. For such a profile ``find_people`` would answer the profile alone.
    """
    session.flush()
    query = _who_is_who(session.get_bind().dialect.name).lone
    return set(session.connection().execute(query, {"ids": profile_ids}).scalars())


@dataclass(frozen=True)
class _WhoIsWho:
    """The queries that tell people apart, built once per dialect (senders run them a lot)."""

    lone: Select[str]
    by_id: Select[str, str | None, datetime | None]
    merged_into: Select[str, str | None]


@functools.cache
def _who_is_who(dialect: str) -> _WhoIsWho:
    merged = aliased(Profile)
    asked = one_of(Profile.id, "ids", dialect=dialect)
    return _WhoIsWho(
        lone=select(Profile.id).where(
            asked,
            # Wrapped, so that SQLite finds the rows by id, not through the merged_into
            # index (where nearly every profile has NULL).
            func.coalesce(Profile.merged_into, "") == "",
            Profile.erased_at.is_(None),
            ~exists().where(merged.merged_into == Profile.id),
        ),
        by_id=select(Profile.id, Profile.merged_into, Profile.erased_at).where(asked),
        merged_into=select(Profile.id, Profile.merged_into).where(
            one_of(Profile.merged_into, "ids", dialect=dialect)
        ),
    )


def find_people(
    session: Session, *, profile_ids: Sequence[str], with_locale: bool = True
) -> dict[str, Person]:
    """Return the person each of these profile ids belongs to; unknown ids are left out.

    ``with_locale=False`` skips reading profile states, for callers that only need who is who.
    """
    known: dict[str, tuple[str | None, datetime | None]] = {}
    # Core queries below (they run for every batch a sender checks); flush as the ORM would.
    session.flush()
    connection = session.connection()
    queries = _who_is_who(session.get_bind().dialect.name)

    def load(ids: Sequence[str]) -> None:
        rows = connection.execute(queries.by_id, {"ids": ids})
        known.update((pid, (parent, erased)) for pid, parent, erased in rows)

    load(list(dict.fromkeys(profile_ids)))
    canonical: dict[str, str] = {}
    for asked in dict.fromkeys(profile_ids):
        current: str | None = asked if asked in known else None
        seen: set[str] = set()
        while current is not None and known[current][0] is not None and current not in seen:
            seen.add(current)
            parent = str(known[current][0])
            if parent not in known:
                load([parent])
            current = parent if parent in known else None
        if current is not None:
            canonical[asked] = current
    merged: dict[str, list[str]] = {root: [root] for root in canonical.values()}
    frontier = {root: [root] for root in merged}
    while frontier:
        owner = {pid: root for root, ids in frontier.items() for pid in ids}
        frontier = {}
        children = connection.execute(queries.merged_into, {"ids": list(owner)})
        for child, child_of in children:
            top = owner[str(child_of)]
            if child not in merged[top]:
                merged[top].append(child)
                frontier.setdefault(top, []).append(child)
    locales: dict[str, str] = {}
    if with_locale:
        for chunk in chunks(list(merged)):
            for pid, state in session.execute(
                select(Profile.id, Profile.state).where(Profile.id.in_(chunk))
            ):
                locale = ProfileState.from_json(state).traits.get("locale")
                if isinstance(locale, str):
                    locales[pid] = locale
    return {
        asked: Person(
            profile_id=root,
            profile_ids=merged[root],
            erased_at=known[root][1],
            locale=locales.get(root),
        )
        for asked, root in canonical.items()
    }


def surviving_profile_ids(session: Session) -> list[str]:
    """Return the id of every surviving, unerased profile."""
    return list(
        session.scalars(
            select(Profile.id)
            .where(Profile.merged_into.is_(None), Profile.erased_at.is_(None))
            .order_by(Profile.id)
        )
    )


def attributed_after(session: Session, *, after_seq: int, limit: int) -> list[tuple[int, str]]:
    """Return (event seq, profile id) of attributed events after a seq, in seq order."""
    rows = session.execute(
        select(TimelineEntry.seq, TimelineEntry.profile_id)
        .where(TimelineEntry.seq > after_seq)
        .order_by(TimelineEntry.seq)
        .limit(limit)
    )
    return [(seq, profile_id) for seq, profile_id in rows]


def event_seqs_of(session: Session, *, profile_ids: Sequence[str]) -> list[int]:
    """Return the sequence numbers of every event attributed to these profiles."""
    return list(
        session.scalars(
            select(TimelineEntry.seq)
            .where(TimelineEntry.profile_id.in_(profile_ids))
            .order_by(TimelineEntry.seq)
        )
    )


def inactive_profile_ids(
    session: Session, *, last_seen_before_ms: int, limit: int = 1000
) -> list[str]:
    """Return surviving, unerased profiles not seen since a time, oldest first."""
    return list(
        session.scalars(
            select(Profile.id)
            .where(
                Profile.merged_into.is_(None),
                Profile.erased_at.is_(None),
                Profile.last_seen_ms < last_seen_before_ms,
            )
            .order_by(Profile.last_seen_ms, Profile.id)
            .limit(limit)
        )
    )


def export_personal_data(
    session: Session, subject: DataSubject, *, currency: str
) -> Mapping[str, Rows]:
    """Return the person's profile, computed traits and staff notes."""
    row = _canonical_row(session, subject.profile_id)
    state = ProfileState.from_json(row.state)
    notes = session.scalars(
        select(Note).where(Note.profile_id.in_(subject.profile_ids)).order_by(Note.id)
    )
    profile = {
        "id": row.id,
        "merged_profile_ids": [pid for pid in subject.profile_ids if pid != row.id],
        "display_name": row.display_name,
        "traits": state.traits,
        "custom_attributes": row.custom,
        "computed": computed_traits(state, currency),
        "created_at": from_ms(row.created_ms).isoformat(),
        "updated_at": from_ms(row.updated_ms).isoformat(),
    }
    return {
        "profile": [profile],
        "notes": [_note(n).model_dump(mode="json") for n in notes],
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Erase the person's profile, keeping non-personal aggregates on an anonymous row."""
    ids = list(subject.profile_ids)
    row = _canonical_row(session, subject.profile_id, erased=True)
    row.state = _anonymous(ProfileState.from_json(row.state)).to_json()
    row.custom = {}
    row.display_name = None
    row.search_text = ""
    row.erased_at = system_clock()
    removed = {
        "profiles": affected_rows(
            session, delete(Profile).where(Profile.id.in_(ids), Profile.id != row.id)
        ),
        "timeline": affected_rows(
            session, delete(TimelineEntry).where(TimelineEntry.profile_id.in_(ids))
        ),
        "notes": affected_rows(session, delete(Note).where(Note.profile_id.in_(ids))),
    }
    return {key: count or 0 for key, count in removed.items()}


def _anonymous(state: ProfileState) -> ProfileState:
    """Keep counts and amounts; drop traits, order ids and anything naming the person."""
    keys = {key: f"erased-{index}" for index, key in enumerate(state.orders)}
    return ProfileState(
        first_seen_ms=state.first_seen_ms,
        last_seen_ms=state.last_seen_ms,
        event_count=state.event_count,
        channels=dict(state.channels),
        orders={
            keys[key]: [amount, currency, at, 0, categories]
            for key, (amount, currency, at, _, categories) in state.orders.items()
        },
        refunds={
            str(index): [keys.get(order_key, "erased"), amount, currency]
            for index, (order_key, amount, currency) in enumerate(state.refunds.values())
        },
        viewed_categories=dict(state.viewed_categories),
    )


def _changed(session: Session, topic: str, profile_ids: list[str], clock: Clock) -> None:
    """Tell other domains these profiles changed outside the pipeline."""
    publish(
        session,
        topic=topic,
        key=profile_ids[0],
        payload={"profile_ids": profile_ids},
        at=clock(),
    )


def _fold(events: Iterable[CollectedEvent], currency: str) -> ProfileState:
    state = ProfileState()
    for event in sorted(events, key=lambda e: (e.timestamp_ms, e.seq)):
        apply_event(
            state,
            message=event.message,
            seq=event.seq,
            channel=event.channel,
            timestamp_ms=event.timestamp_ms,
            default_currency=currency,
        )
    return state


def _events(session: Session, seqs: Sequence[int]) -> list[CollectedEvent]:
    events: list[CollectedEvent] = []
    for start in range(0, len(seqs), 500):
        events += collect.get_events(session, seqs=seqs[start : start + 500])
    return events


def _store_state(row: Profile, state: ProfileState, now_ms: int) -> None:
    for column, value in _state_columns(state, now_ms).items():
        setattr(row, column, value)


def _display_name(traits: dict[str, Any]) -> str | None:
    """Return the name to show: ``name``, else first and last name joined."""
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    first = traits.get("first_name") or traits.get("firstName") or ""
    last = traits.get("last_name") or traits.get("lastName") or ""
    joined = f"{first} {last}".strip() if isinstance(first, str) and isinstance(last, str) else ""
    return joined or None


def _search_text(traits: dict[str, Any]) -> str:
    parts = [str(traits[key]) for key in _SEARCH_TRAITS if isinstance(traits.get(key), str)]
    return " ".join(parts).lower()


def _canonical_row(session: Session, profile_id: str, *, erased: bool = False) -> Profile:
    row = session.get(Profile, profile_id)
    seen = set()
    while row is not None and row.merged_into is not None and row.id not in seen:
        seen.add(row.id)
        row = session.get(Profile, row.merged_into)
    if row is None:
        raise NotFound(f"profile '{profile_id}' does not exist")
    if row.erased_at is not None and not erased:
        raise NotFound(f"profile '{profile_id}' was erased on {row.erased_at.date().isoformat()}")
    return row


def _parse_cursor(cursor: str) -> tuple[int, int]:
    try:
        ts, seq = cursor.split(":", 1)
        return int(ts), int(seq)
    except ValueError as exc:
        raise InvalidInput(f"cursor {cursor!r} is not one this API returned") from exc


def _timeline_row(event: CollectedEvent, profile_id: str) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "profile_id": profile_id,
        "timestamp_ms": event.timestamp_ms,
        "channel": event.channel,
        "type": event.type,
        "name": event.name,
    }


def _timeline_item(event: CollectedEvent) -> TimelineItem:
    return TimelineItem(
        seq=event.seq,
        type=event.type,
        name=event.name,
        channel=event.channel,
        timestamp=event.timestamp,
        received_at=event.received_at,
        source_id=event.source_id,
        message=event.message,
    )


def _summary(row: Profile, currency: str) -> ProfileSummary:
    state = ProfileState.from_json(row.state)
    return ProfileSummary(
        id=row.id,
        display_name=row.display_name,
        traits=state.traits,
        computed=computed_traits(state, currency),
    )


def _note(note: Note) -> NoteOut:
    return NoteOut(id=note.id, author=note.author, body=note.body, created_at=note.created_at)

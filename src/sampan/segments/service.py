"""Segments' facade: define segments, preview and list members, keep membership current."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, literal, or_, select
from sqlalchemy.orm import Session

from sampan.access.masking import mask_name
from sampan.core.batching import chunks
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Conflict, InvalidInput, NotFound
from sampan.core.ids import new_id
from sampan.core.personal_data import DataSubject, Rows
from sampan.db.outbox import DomainEvent, publish_many
from sampan.db.rows import affected_rows
from sampan.profiles import service as profiles
from sampan.profiles.schemas import PipelineBatch
from sampan.segments import membership
from sampan.segments.analysis import (
    INACTIVITY_BUCKETS,
    LIFECYCLE_STAGES,
    RFM_GROUPS,
    score_rfm,
)
from sampan.segments.compiler import CompileContext as CompileContext
from sampan.segments.compiler import members_query
from sampan.segments.conditions import (
    SCHEMA,
    Condition,
    ConsentTest,
    Group,
    IdentityTest,
    TraitTest,
    is_time_based,
    parse_condition,
    segment_references,
)
from sampan.segments.insights import insights as insights
from sampan.segments.insights import vocabulary as vocabulary
from sampan.segments.models import (
    Alias,
    Member,
    Person,
    PersonEvent,
    Segment,
    SegmentVersion,
    SizeSample,
)
from sampan.segments.ready import ready_made
from sampan.segments.schemas import (
    EvaluationReport,
    MemberPage,
    PeopleOverview,
    Preview,
    SampleMember,
    SegmentInput,
    SegmentOut,
    SizePoint,
)

CONDITION_SCHEMA = SCHEMA
ENTERED = membership.ENTERED
EXITED = membership.EXITED
_NAME_TRAITS = ("name", "first_name", "firstName", "nickname", "email")


def create_segment(
    session: Session, *, segment: SegmentInput, context: CompileContext, clock: Clock = system_clock
) -> SegmentOut:
    """Save a segment and compute its members now."""
    segment_id = new_id("seg")
    time_based = _check(session, segment_id, segment.condition, context)
    now = clock()
    row = Segment(
        id=segment_id,
        name=segment.name,
        description=segment.description,
        condition=segment.condition,
        version=1,
        time_based=time_based,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.add(
        SegmentVersion(
            segment_id=segment_id, version=1, name=row.name, condition=row.condition, created_at=now
        )
    )
    session.flush()
    _recompute(session, row, context)
    return _out(session, row)


def update_segment(
    session: Session,
    *,
    segment_id: str,
    segment: SegmentInput,
    context: CompileContext,
    clock: Clock = system_clock,
) -> SegmentOut:
    """Save a new version of a segment; members move to the new definition at once."""
    row = _row(session, segment_id)
    row.time_based = _check(session, segment_id, segment.condition, context)
    row.name, row.description, row.condition = segment.name, segment.description, segment.condition
    row.version += 1
    row.updated_at = clock()
    session.add(
        SegmentVersion(
            segment_id=row.id,
            version=row.version,
            name=row.name,
            condition=row.condition,
            created_at=row.updated_at,
        )
    )
    session.flush()
    _recompute(session, row, context)
    return _out(session, row)


def delete_segment(session: Session, *, segment_id: str, clock: Clock = system_clock) -> None:
    """Delete a segment; refused while another segment refers to it."""
    row = _row(session, segment_id)
    users = [
        other.name
        for other in session.scalars(select(Segment).where(Segment.deleted_at.is_(None)))
        if other.id != row.id and row.id in segment_references(parse_condition(other.condition))
    ]
    if users:
        raise Conflict(f"segment '{row.name}' is used by {', '.join(sorted(users))}")
    row.deleted_at = clock()
    session.execute(delete(Member).where(Member.segment_id == row.id))


def get_segment(session: Session, *, segment_id: str) -> SegmentOut:
    """Return a segment with its size."""
    return _out(session, _row(session, segment_id))


def list_segments(session: Session, *, profile_id: str | None = None) -> list[SegmentOut]:
    """Return every segment by name, or only those the person is a member of now."""
    query = select(Segment).where(Segment.deleted_at.is_(None))
    if profile_id is not None:
        query = query.where(
            Segment.id.in_(select(Member.segment_id).where(Member.profile_id == profile_id))
        )
    rows = session.scalars(query.order_by(Segment.name, Segment.id))
    return [_out(session, row) for row in rows]


def preview(
    session: Session, *, condition: dict[str, Any], context: CompileContext, sample: int = 10
) -> Preview:
    """Count who a condition selects now, with a sample, without saving anything."""
    _check(session, None, condition, context)
    query = members_query(parse_condition(condition), context).subquery()
    count = session.scalar(select(func.count()).select_from(query)) or 0
    people = session.execute(
        select(Person.profile_id, Person.traits)
        .where(Person.profile_id.in_(select(query.c.profile_id)))
        .order_by(Person.last_seen_ms.desc(), Person.profile_id)
        .limit(sample)
    )
    return Preview(
        count=count,
        sample=[SampleMember(profile_id=pid, display_name=_name(traits)) for pid, traits in people],
    )


def list_members(
    session: Session, *, segment_id: str, limit: int = 50, cursor: str | None = None
) -> MemberPage:
    """Return members in profile id order; ``cursor`` is the last id of the previous page."""
    row = _row(session, segment_id)
    query = (
        select(Member.profile_id, Member.since, Person.traits)
        .join(Person, Person.profile_id == Member.profile_id, isouter=True)
        .where(Member.segment_id == row.id)
    )
    if cursor:
        query = query.where(Member.profile_id > cursor)
    total = (
        session.scalar(select(func.count()).select_from(Member).where(Member.segment_id == row.id))
        or 0
    )
    rows = list(session.execute(query.order_by(Member.profile_id).limit(limit + 1)))
    page = rows[:limit]
    return MemberPage(
        items=[
            SampleMember(profile_id=p, display_name=_name(t or {}), since=s) for p, s, t in page
        ],
        total=total,
        next_cursor=page[-1][0] if len(rows) > limit else None,
    )


def members_csv(session: Session, *, segment_id: str, mask: bool) -> Iterator[str]:
    """Yield the members as CSV lines: profile id, name (masked with ``mask``), since."""
    row = _row(session, segment_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["profile_id", "display_name", "member_since"])
    yield "\ufeff" + out.getvalue()
    query = (
        select(Member.profile_id, Member.since, Person.traits)
        .join(Person, Person.profile_id == Member.profile_id, isouter=True)
        .where(Member.segment_id == row.id)
        .order_by(Member.profile_id)
    )
    for profile_id, since, traits in session.execute(query):
        out.seek(0)
        out.truncate()
        name = _name(traits or {}) or ""
        writer.writerow([profile_id, mask_name(name) if mask else name, since.isoformat()])
        yield out.getvalue()


def member_ids(session: Session, *, segment_id: str) -> list[str]:
    """Return the profile id of every current member of a segment."""
    row = _row(session, segment_id)
    query = select(Member.profile_id).where(Member.segment_id == row.id)
    return list(session.scalars(query.order_by(Member.profile_id)))


def events_of(
    session: Session, *, profile_ids: Sequence[str], name: str, since_ms: int
) -> list[tuple[str, int, dict[str, Any]]]:
    """Return (profile id, time ms, properties) of these people's events of one name.

    Events of profiles merged since are reported under the surviving profile.
    """
    found: list[tuple[str, int, dict[str, Any]]] = []
    for chunk in chunks(list(profile_ids)):
        query = select(PersonEvent.profile_id, PersonEvent.ts_ms, PersonEvent.properties).where(
            PersonEvent.profile_id.in_(chunk),
            PersonEvent.name == name,
            PersonEvent.ts_ms >= since_ms,
        )
        found.extend((pid, ts, dict(props)) for pid, ts, props in session.execute(query))
    return found


def events_after(
    session: Session, *, profile_id: str, names: Sequence[str], after_seq: int
) -> list[tuple[int, str, int, dict[str, Any]]]:
    """Return (seq, name, time ms, properties) of a person's events after a log position."""
    query = (
        select(PersonEvent.seq, PersonEvent.name, PersonEvent.ts_ms, PersonEvent.properties)
        .where(
            PersonEvent.profile_id == profile_id,
            PersonEvent.name.in_(names),
            PersonEvent.seq > after_seq,
        )
        .order_by(PersonEvent.seq)
    )
    return [(seq, name, ts, dict(props)) for seq, name, ts, props in session.execute(query)]


def check_condition(
    session: Session, *, condition: dict[str, Any], context: CompileContext
) -> None:
    """Refuse a condition that is malformed, names unknown things or refers to unknown segments."""
    _check(session, None, condition, context)


def select_people(
    session: Session, *, condition: dict[str, Any], context: CompileContext
) -> list[str]:
    """Return everyone a condition selects now."""
    return list(session.scalars(members_query(parse_condition(condition), context)))


def matching(
    session: Session,
    *,
    condition: dict[str, Any],
    profile_ids: Sequence[str],
    context: CompileContext,
) -> set[str]:
    """Return which of these people a condition selects now."""
    query = members_query(parse_condition(condition), context)
    found: set[str] = set()
    for chunk in chunks(list(profile_ids)):
        found.update(session.scalars(query.where(Person.profile_id.in_(chunk))))
    return found


def size_history(session: Session, *, segment_id: str, limit: int = 500) -> list[SizePoint]:
    """Return the sampled sizes of a segment, oldest first."""
    row = _row(session, segment_id)
    samples = session.scalars(
        select(SizeSample)
        .where(SizeSample.segment_id == row.id)
        .order_by(SizeSample.at.desc())
        .limit(limit)
    )
    return [SizePoint(at=s.at, size=s.size) for s in reversed(list(samples))]


# Events that show a person considering a purchase, for the funnel's second step.
CONSIDERING = ("Product Viewed", "Product Added", "Cart Viewed", "Checkout Started")
# Identifier types that do not tell who a person is.
ANONYMOUS_TYPES = frozenset({"anonymous_id", "device_id"})


def overview(session: Session, *, context: CompileContext) -> PeopleOverview:
    """Return how many people there are, how many are known, and the lifecycle funnel."""
    known = [t for t in context.identifier_types if t not in ANONYMOUS_TYPES]
    identified = or_(*(Person.identifier_types.contains(f"|{t}|", autoescape=True) for t in known))
    vip = (Person.total_spent >= context.vip_spend * context.minor_per_major) & (
        Person.order_count >= context.vip_orders
    )
    row = session.execute(
        select(
            func.count(),
            func.count().filter(identified) if known else literal(0),
            func.count().filter(Person.order_count >= 1),
            func.count().filter(Person.order_count >= 2),
            func.count().filter(vip),
            func.coalesce(func.sum(Person.total_spent), 0),
            func.coalesce(func.sum(Person.order_count), 0),
        )
    ).one()
    considering = session.scalar(
        select(func.count(func.distinct(PersonEvent.profile_id))).where(
            PersonEvent.name.in_(CONSIDERING)
        )
    )
    people, identified_count, buyers, repeat, vips, spent, orders = row
    return PeopleOverview(
        people=people,
        identified=identified_count,
        considering=considering or 0,
        buyers=buyers,
        repeat_buyers=repeat,
        vip=vips,
        revenue_minor=int(spent),
        orders=int(orders),
    )


def react_to_batch(
    session: Session, batch: PipelineBatch, *, context: CompileContext, currency: str
) -> None:
    """Fold a pipeline batch into the read model and update the touched people's segments."""
    touched = membership.record_batch(session, batch, currency=currency)
    membership.evaluate(session, membership.live_segments(session), context, profile_ids=touched)


def react_to_changes(
    session: Session, events: list[DomainEvent], *, context: CompileContext, currency: str
) -> None:
    """Update people changed outside the pipeline: attributes, consents, blocks, un-merges."""
    changed: set[str] = set()
    for event in events:
        ids = event.payload.get("profile_ids") or [event.key]
        changed |= set(ids)
        if event.topic == "profiles.unmerged":
            membership.rebuild_events(session, ids)
    membership.refresh_people(session, changed, currency=currency)
    membership.evaluate(session, membership.live_segments(session), context, profile_ids=changed)


def rebuild(session: Session, *, context: CompileContext, currency: str) -> EvaluationReport:
    """Rebuild the read model from profiles and recompute every segment (after an upgrade)."""
    membership.rebuild_all(session, currency=currency)
    return evaluate_scheduled(session, context=context, everything=True)


def needs_rebuild(session: Session) -> bool:
    """Whether profiles exist but the read model is empty (a workspace from before segments)."""
    has_people = session.scalar(select(Person.profile_id).limit(1)) is not None
    return not has_people and bool(profiles.surviving_profile_ids(session)[:1])


def install_ready_made(
    session: Session, *, context: CompileContext, clock: Clock = system_clock
) -> list[SegmentOut]:
    """Create the ready-made segments a workspace does not have yet; return the new ones."""
    have = set(session.scalars(select(Segment.key).where(Segment.key.is_not(None))))
    created = []
    for key, name, description, condition in ready_made(vip_spend=context.vip_spend):
        if key in have:
            continue
        made = create_segment(
            session,
            segment=SegmentInput(name=name, description=description, condition=condition),
            context=context,
            clock=clock,
        )
        row = _row(session, made.id)
        row.key = key
        created.append(made)
    session.flush()
    return created


def ensure_ready_made(
    session: Session,
    *,
    keys: Sequence[str],
    context: CompileContext,
    clock: Clock = system_clock,
) -> dict[str, str]:
    """Return the id of each ready-made segment by key, creating the ones missing."""
    known = {
        key: (name, description, condition)
        for key, name, description, condition in ready_made(vip_spend=context.vip_spend)
    }
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise InvalidInput(f"no ready-made segment has the key {', '.join(unknown)}")
    found = dict(
        session.execute(select(Segment.key, Segment.id).where(Segment.key.in_(list(keys)))).all()
    )
    for key in dict.fromkeys(keys):
        if key in found:
            continue
        name, description, condition = known[key]
        made = create_segment(
            session,
            segment=SegmentInput(name=name, description=description, condition=condition),
            context=context,
            clock=clock,
        )
        _row(session, made.id).key = key
        found[key] = made.id
    session.flush()
    return {key: str(found[key]) for key in keys}


def evaluate_scheduled(
    session: Session, *, context: CompileContext, everything: bool = False
) -> EvaluationReport:
    """Rescore RFM, recompute the segments time alone can change (or all), sample sizes."""
    score_rfm(session, now=context.now)
    segments = membership.live_segments(session)
    chosen = [s for s in segments if everything or s.time_based or _depends_on_time(s, segments)]
    changes = membership.evaluate(session, chosen, context)
    membership.record_sizes(session, [s.id for s in segments], context.now)
    return EvaluationReport(
        segments=len(chosen),
        entered=sum(entered for entered, _ in changes.values()),
        exited=sum(exited for _, exited in changes.values()),
    )


def purge_events(session: Session, *, before_ms: int) -> int:
    """Delete read-model events older than a time: they follow the raw events' retention."""
    return affected_rows(session, delete(PersonEvent).where(PersonEvent.ts_ms < before_ms))


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the segments the person is in."""
    rows = session.execute(
        select(Member.segment_id, Segment.name, Member.since)
        .join(Segment, Segment.id == Member.segment_id)
        .where(Member.profile_id.in_(subject.profile_ids))
    )
    return {
        "segments": [
            {"segment_id": sid, "name": name, "since": since.isoformat()}
            for sid, name, since in rows
        ]
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Remove the person from the read model and from every segment, recording the exits."""
    ids = list(subject.profile_ids)
    left = list(
        session.execute(
            select(Member.segment_id, Member.profile_id).where(Member.profile_id.in_(ids))
        )
    )
    now = system_clock()
    publish_many(
        session,
        [
            {
                "topic": EXITED,
                "key": profile_id,
                "payload": {"segment_id": segment_id, "profile_id": profile_id, "reason": "erased"},
                "created_at": now,
            }
            for segment_id, profile_id in left
        ],
    )
    removed = {}
    for name, statement in (
        ("members", delete(Member).where(Member.profile_id.in_(ids))),
        ("people", delete(Person).where(Person.profile_id.in_(ids))),
        ("events", delete(PersonEvent).where(PersonEvent.profile_id.in_(ids))),
        ("aliases", delete(Alias).where(Alias.profile_id.in_(ids) | Alias.alias_id.in_(ids))),
    ):
        removed[name] = affected_rows(session, statement)
    return removed


def _depends_on_time(
    segment: membership.LiveSegment, segments: list[membership.LiveSegment]
) -> bool:
    by_id = {s.id: s for s in segments}
    pending, seen = list(segment_references(segment.condition)), set()
    while pending:
        other = by_id.get(pending.pop())
        if other is None or other.id in seen:
            continue
        seen.add(other.id)
        if other.time_based:
            return True
        pending += segment_references(other.condition)
    return False


def _check(
    session: Session, segment_id: str | None, condition: dict[str, Any], context: CompileContext
) -> bool:
    """Validate a condition, its names, references and cycles; return if time alone moves it."""
    parsed = parse_condition(condition)
    _check_names(parsed, context)
    references = segment_references(parsed)
    known = {
        row.id: parse_condition(row.condition)
        for row in session.scalars(select(Segment).where(Segment.deleted_at.is_(None)))
    }
    missing = sorted(references - set(known))
    if missing:
        raise InvalidInput(f"condition refers to unknown segments: {', '.join(missing)}")
    if segment_id is not None:
        known[segment_id] = parsed
        _refuse_cycle(segment_id, known)
    return is_time_based(parsed)


_KNOWN_LABELS = {
    "rfm_group": RFM_GROUPS,
    "lifecycle_stage": LIFECYCLE_STAGES,
    "inactivity": INACTIVITY_BUCKETS,
}


def _check_names(node: Condition, context: CompileContext) -> None:
    """Refuse names that exist nowhere: such a test would silently match nobody."""
    if isinstance(node, Group):
        for child in node.children:
            _check_names(child, context)
    elif isinstance(node, ConsentTest) and context.purposes:
        channels = dict(context.purposes).get(node.purpose)
        if channels is None:
            raise InvalidInput(
                f"unknown consent purpose {node.purpose!r}: "
                f"expected one of {', '.join(sorted(dict(context.purposes)))}"
            )
        if node.channel not in channels:
            allowed = ", ".join(c or "(none)" for c in channels)
            raise InvalidInput(
                f"consent purpose {node.purpose!r} takes channel {allowed}, "
                f"not {node.channel or '(none)'!r}"
            )
    elif isinstance(node, IdentityTest) and context.identifier_types:
        if node.type not in context.identifier_types:
            raise InvalidInput(
                f"unknown identifier type {node.type!r}: "
                f"expected one of {', '.join(context.identifier_types)}"
            )
    elif isinstance(node, TraitTest) and node.field in _KNOWN_LABELS:
        labels = _KNOWN_LABELS[node.field]
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        unknown = [str(v) for v in values if v not in labels]
        if unknown:
            raise InvalidInput(
                f"{node.field} has no {', '.join(repr(u) for u in unknown)}: "
                f"expected one of {', '.join(labels)}"
            )


def _refuse_cycle(start: str, known: dict[str, Any]) -> None:
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise InvalidInput(f"segments may not refer to each other in a cycle: {cycle}")
        path.append(node)
        for reference in sorted(segment_references(known[node])) if node in known else []:
            visit(reference)
        path.pop()

    visit(start)


def _recompute(session: Session, row: Segment, context: CompileContext) -> None:
    live = membership.LiveSegment(
        row.id, row.version, parse_condition(row.condition), row.time_based
    )
    membership.evaluate(session, [live], context, reason="definition")
    membership.record_sizes(session, [row.id], context.now)


def _row(session: Session, segment_id: str) -> Segment:
    row = session.get(Segment, segment_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"segment '{segment_id}' does not exist")
    return row


def _out(session: Session, row: Segment) -> SegmentOut:
    size = (
        session.scalar(select(func.count()).select_from(Member).where(Member.segment_id == row.id))
        or 0
    )
    return SegmentOut(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        condition=row.condition,
        version=row.version,
        time_based=row.time_based,
        size=size,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _name(traits: Mapping[str, Any]) -> str | None:
    first = traits.get("first_name") or traits.get("firstName")
    last = traits.get("last_name") or traits.get("lastName")
    if isinstance(first, str) and isinstance(last, str):
        return f"{first} {last}"
    for key in _NAME_TRAITS:
        value = traits.get(key)
        if isinstance(value, str) and value:
            return value
    return None

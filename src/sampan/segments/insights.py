"""RFM and lifecycle views of the whole base, and the names a condition can use.

Both read only the segments' read model. People whose processing is restricted or who
objected are left out, exactly as they are left out of every segment.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sampan.core.clock import to_ms
from sampan.segments.analysis import INACTIVITY_BUCKETS, LIFECYCLE_STAGES, RFM_GROUPS, rfm_group
from sampan.segments.compiler import CompileContext, inactivity, lifecycle_stage, processable
from sampan.segments.conditions import COMPUTED
from sampan.segments.models import Person, PersonEvent, Score
from sampan.segments.schemas import (
    EventVocabulary,
    Insights,
    RfmCell,
    RfmGroupFigures,
    Tally,
    Vocabulary,
)

_DAY_MS = 86_400_000
# The builder suggests the most common events, and property names from their latest rows.
_EVENT_NAMES = 100
_PROPERTY_SAMPLE = 50


def insights(session: Session, *, context: CompileContext) -> Insights:
    """Return RFM groups and grid, lifecycle stages and inactivity buckets with their sizes."""
    allowed = processable()
    people, buyers = session.execute(
        select(func.count(), func.count().filter(Person.order_count > 0)).where(allowed)
    ).one()
    return Insights(
        people=people,
        buyers=buyers,
        **_rfm(session, context, allowed),
        lifecycle=_tally(session, lifecycle_stage(context), LIFECYCLE_STAGES, allowed),
        inactivity=_tally(session, inactivity(context), INACTIVITY_BUCKETS, allowed),
        at=context.now,
    )


def vocabulary(session: Session, *, context: CompileContext) -> Vocabulary:
    """Return the computed traits, labels, identifier types, purposes and events known here."""
    counted = func.count(func.distinct(PersonEvent.profile_id))
    rows = session.execute(
        select(PersonEvent.name, counted)
        .group_by(PersonEvent.name)
        .order_by(counted.desc(), PersonEvent.name)
        .limit(_EVENT_NAMES)
    ).all()
    events = []
    for name, people in rows:
        latest = session.scalars(
            select(PersonEvent.properties)
            .where(PersonEvent.name == name)
            .order_by(PersonEvent.ts_ms.desc())
            .limit(_PROPERTY_SAMPLE)
        )
        keys = sorted({key for properties in latest if properties for key in properties})
        events.append(EventVocabulary(name=name, people=people, properties=keys))
    return Vocabulary(
        computed=dict(COMPUTED),
        lifecycle_stages=list(LIFECYCLE_STAGES),
        rfm_groups=list(RFM_GROUPS),
        inactivity=list(INACTIVITY_BUCKETS),
        identifier_types=list(context.identifier_types),
        purposes={purpose: list(channels) for purpose, channels in context.purposes},
        events=events,
    )


def _tally(session: Session, label: Any, labels: tuple[str, ...], allowed: Any) -> list[Tally]:
    counts: dict[str, int] = dict(
        session.execute(select(label, func.count()).where(allowed).group_by(label)).all()
    )
    return [Tally(label=name, people=int(counts.get(name, 0))) for name in labels]


def _rfm(session: Session, context: CompileContext, allowed: Any) -> dict[str, Any]:
    rows = session.execute(
        select(
            Score.recency,
            Score.frequency,
            Score.monetary,
            func.count(),
            func.sum(Person.order_count),
            func.sum(Person.total_spent),
            func.sum(Person.last_order_ms),
        )
        .join(Person, Person.profile_id == Score.profile_id)
        .where(allowed)
        .group_by(Score.recency, Score.frequency, Score.monetary)
    ).all()
    cells: dict[tuple[int, int], int] = defaultdict(int)
    sums: dict[str, list[float]] = {group: [0.0, 0.0, 0.0, 0.0] for group in RFM_GROUPS}
    for recency, frequency, monetary, people, orders, spent, last_order in rows:
        group = rfm_group(recency, frequency, monetary)
        fm = min(max(round((frequency + monetary) / 2 + 1e-9), 1), 5)
        cells[(recency, fm)] += people
        totals = sums[group]
        totals[0] += people
        # PostgreSQL sums integers as numeric (Decimal); SQLite as int.
        totals[1] += int(orders or 0)
        totals[2] += int(spent or 0)
        totals[3] += int(last_order or 0)
    now_ms = to_ms(context.now)
    groups = []
    for group, (count, order_sum, spent_sum, last_sum) in sums.items():
        n = count or 1
        groups.append(
            RfmGroupFigures(
                group=group,
                people=int(count),
                avg_orders=round(order_sum / n, 2),
                avg_spent=round(spent_sum / n / context.minor_per_major, 2),
                avg_days_since_order=round((now_ms - last_sum / n) / _DAY_MS, 1) if count else 0,
            )
        )
    grid = [
        RfmCell(recency=r, fm=fm, group=rfm_group(r, fm, fm), people=cells[(r, fm)])
        for r in range(5, 0, -1)
        for fm in range(1, 6)
    ]
    return {"rfm_groups": groups, "rfm_grid": grid}

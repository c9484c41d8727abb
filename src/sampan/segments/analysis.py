"""Built-in analysis: RFM scores and groups, lifecycle stages, inactivity buckets.

RFM scores are quintiles among buyers (5 = most recent, most frequent, highest spend); the
named group is read from a 5 x 5 grid of recency against the average of frequency and
monetary, so every buyer lands in exactly one of the eleven usual groups.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from sampan.core.clock import to_ms
from sampan.segments.models import Person, Score

RFM_GROUPS = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)
# Rows: recency score 5 down to 1; columns: frequency-monetary score 1 to 5.
RFM_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    3: ("About to Sleep", "Need Attention", "Loyal", "Loyal", "Loyal"),
    2: ("About to Sleep", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Hibernating", "At Risk", "Can't Lose Them", "Can't Lose Them"),
}
LIFECYCLE_STAGES = (
    "new_lead",
    "first_time_buyer",
    "active",
    "loyal_vip",
    "at_risk",
    "churned",
)
INACTIVITY_BUCKETS = ("active", "30_days", "60_days", "90_days")
_CHUNK = 5000


def rfm_group(recency: int, frequency: int, monetary: int) -> str:
    """Return the named group of a buyer's three scores."""
    fm = round((frequency + monetary) / 2 + 1e-9)
    return RFM_GRID[recency][min(max(fm, 1), 5) - 1]


def quintile_scores(values: Sequence[float]) -> list[int]:
    """Return a 1-5 score per value by quintile of rank; equal values get equal scores."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + min(4, 5 * bisect.bisect_left(ordered, value) // n) for value in values]


def score_rfm(session: Session, *, now: datetime) -> int:
    """Recompute every buyer's RFM scores and group; return how many buyers were scored."""
    rows = list(
        session.execute(
            select(Person.profile_id, Person.last_order_ms, Person.order_count, Person.total_spent)
            .where(Person.order_count > 0, Person.last_order_ms.is_not(None))
            .order_by(Person.profile_id)
        )
    )
    session.execute(delete(Score))
    if not rows:
        return 0
    now_ms = to_ms(now)
    # Recency: fewer days since the last order scores higher, so rank the negated age.
    recency = quintile_scores([-(now_ms - (last or 0)) for _, last, _, _ in rows])
    frequency = quintile_scores([count for _, _, count, _ in rows])
    monetary = quintile_scores([spent for _, _, _, spent in rows])
    scored = [
        {
            "profile_id": row[0],
            "recency": r,
            "frequency": f,
            "monetary": m,
            "rfm_group": rfm_group(r, f, m),
        }
        for row, r, f, m in zip(rows, recency, frequency, monetary, strict=True)
    ]
    for start in range(0, len(scored), _CHUNK):
        session.execute(insert(Score), scored[start : start + _CHUNK])
    return len(scored)

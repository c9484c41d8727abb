"""Property: through the real service and database, nobody not contactable is ever contacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sampan.access.schemas import SYSTEM
from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.consent.schemas import ConsentInput, ConsentUpdate
from sampan.core.clock import to_ms
from sampan.identity import service as identity
from sampan.runtime import Runtime
from sampan.settings import CONTACT_CHANNELS

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
SLOTS = [("marketing", channel) for channel in CONTACT_CHANNELS] + [
    ("analytics", ""),
    ("service", "email"),
]

grants = st.tuples(
    st.just("consent"),
    st.sampled_from(SLOTS),
    st.sampled_from(["granted", "withdrawn"]),
    st.integers(min_value=-300, max_value=0),
    st.one_of(st.none(), st.integers(min_value=-10, max_value=300)),
)
blocks = st.tuples(st.just("block"), st.sampled_from(["restricted", "objected"]), st.booleans())
suppressions = st.tuples(st.just("suppress"))
operations = st.lists(st.one_of(grants, grants, grants, blocks, suppressions), max_size=10)
_people = iter(range(1, 1_000_000))


def _new_person(runtime: Runtime) -> tuple[str, str]:
    number = next(_people)
    email = f"person{number}@example.com"
    accepted = collect.normalise_messages(
        {"batch": [{"type": "identify", "userId": f"u{number}", "traits": {"email": email}}]},
        endpoint_type=None,
        source_kind="web",
        received_at=NOW,
    )
    with runtime.db.transaction() as session:
        sources = collect.list_sources(session)
        source_id = (
            sources[0].id if sources else collect.create_source(session, name="web", kind="web").id
        )
        collect.store_messages(
            session, source_id=source_id, messages=accepted, received_ms=to_ms(NOW)
        )
        runtime.catch_up(session)
        found = identity.find_profile_ids(
            session, identifiers=[identity.normalise_identifier("email", email, runtime.rules)]
        )
    return found[0], email


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, attempt=st.sampled_from(SLOTS))
def test_a_person_is_contactable_only_when_every_rule_allows_it(
    runtime: Runtime, ops: list[tuple], attempt: tuple[str, str]
) -> None:
    pid, email = _new_person(runtime)
    history: list[tuple[tuple[str, str], str, datetime, int, datetime | None]] = []
    active: dict[str, bool] = {}
    suppressed = False
    for index, op in enumerate(ops):
        with runtime.db.transaction() as session:
            if op[0] == "consent":
                _, slot, status, day, expiry = op
                at = NOW + timedelta(days=day)
                expires = NOW + timedelta(days=expiry) if expiry is not None else None
                consent.record_consents(
                    session,
                    profile_id=pid,
                    update=ConsentUpdate(
                        consents=[
                            ConsentInput(
                                purpose=slot[0],
                                channel=slot[1] or None,
                                status=status,
                                expires_at=expires,
                            )
                        ],
                        recorded_at=at,
                    ),
                    actor=SYSTEM,
                    catalog=runtime.catalog,
                )
                history.append((slot, status, at, index, expires))
            elif op[0] == "block":
                consent.set_block(session, profile_id=pid, kind=op[1], active=op[2], actor=SYSTEM)
                active[op[1]] = op[2]
            else:
                consent.suppress_identifier(
                    session, id_type="email", value=email, reason="manual", rules=runtime.rules
                )
                suppressed = True
    with runtime.db.reading() as session:
        decision = consent.can_contact(
            session,
            profile_id=pid,
            purpose=attempt[0],
            channel=attempt[1] or None,
            catalog=runtime.catalog,
            clock=lambda: NOW,
        )
        batch = consent.can_contact_many(
            session,
            profile_ids=[pid, "prof_missing"],
            purpose=attempt[0],
            channel=attempt[1] or None,
            catalog=runtime.catalog,
            clock=lambda: NOW,
        )
    assert batch[pid].allowed is decision.allowed
    assert batch[pid].reason == decision.reason
    assert batch["prof_missing"].allowed is False
    mine = sorted((h for h in history if h[0] == attempt), key=lambda h: (h[2], h[3]))
    latest = mine[-1] if mine else None
    blocked = suppressed or any(active.values())
    withdrawn = latest is not None and latest[1] == "withdrawn"
    expired = latest is not None and latest[4] is not None and latest[4] <= NOW
    needs_consent = attempt[0] != "service"
    expected = (
        not blocked
        and not withdrawn
        and ((latest is not None and not expired) if needs_consent else True)
    )
    assert decision.allowed is expected, (decision, history, active, suppressed)

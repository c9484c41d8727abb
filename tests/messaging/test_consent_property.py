"""Property: whatever consents and blocks change between queueing and sending, no message
reaches a person through a channel they may not be contacted on."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.messaging.conftest import Kit

CHANNELS = {"line": "line-oa", "sms": "sms-gw", "email": "mail"}
consent_change = st.tuples(
    st.sampled_from(sorted(CHANNELS)), st.sampled_from(["granted", "withdrawn"])
)
block_change = st.tuples(st.sampled_from(["restricted", "objected"]), st.booleans())
state = st.fixed_dictionaries(
    {
        "consents": st.lists(consent_change, max_size=4),
        "blocks": st.lists(block_change, max_size=2),
        "suppress": st.booleans(),
    }
)


def _apply(kit: Kit, pid: str, email: str, change: dict[str, Any]) -> None:
    if change["consents"]:
        consents = [
            {"purpose": "marketing", "channel": channel, "status": status}
            for channel, status in change["consents"]
        ]
        response = kit.api(
            "POST", f"/api/privacy/profiles/{pid}/consents", json={"consents": consents}
        )
        assert response.status_code == 201, response.text
    for kind, active in change["blocks"]:
        with kit.runtime.db.transaction() as session:
            from sampan.access.schemas import SYSTEM
            from sampan.consent import service as consent

            consent.set_block(session, profile_id=pid, kind=kind, active=active, actor=SYSTEM)
    if change["suppress"]:
        with kit.runtime.db.transaction() as session:
            from sampan.consent import service as consent

            consent.suppress_identifier(
                session, id_type="email", value=email, reason="test", rules=kit.runtime.rules
            )


def _allowed(kit: Kit, pid: str, kind: str) -> bool:
    response = kit.api(
        "GET",
        f"/api/privacy/profiles/{pid}/can-contact",
        params={"purpose": "marketing", "channel": kind},
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["allowed"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=state, after=state, order=st.permutations(sorted(CHANNELS)))
def test_no_message_reaches_anyone_who_may_not_be_contacted(
    kit: Kit, before: dict[str, Any], after: dict[str, Any], order: list[str]
) -> None:
    tag = uuid.uuid4().hex[:10]
    email = f"{tag}@example.com"
    line_id = "U" + uuid.uuid4().hex
    phone = "08" + str(uuid.uuid4().int)[:8]
    pid = kit.person(tag, email=email, line_user_id=line_id, phone=phone)
    _apply(kit, pid, email, before)
    sent_before = (len(kit.line.accepted), len(kit.sms.messages), len(kit.smtp.messages))
    message = kit.send(pid, channels=[CHANNELS[kind] for kind in order])
    _apply(kit, pid, email, after)
    kit.dispatch()
    arrived = {
        "line": len(kit.line.accepted) - sent_before[0],
        "sms": len(kit.sms.messages) - sent_before[1],
        "email": len(kit.smtp.messages) - sent_before[2],
    }
    assert sum(arrived.values()) <= 1
    final = kit.message(message["id"])
    for kind, count in arrived.items():
        if count:
            assert final["kind"] == kind
            assert final["status"] == "sent"
            assert _allowed(kit, pid, kind), (before, after, final)
    if final["status"] == "sent":
        assert arrived[final["kind"]] == 1

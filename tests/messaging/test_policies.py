"""Retries, dead letters, quiet hours and frequency caps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sampan.messaging.rules import backoff_seconds, over_cap, quiet_until
from sampan.settings import FrequencyCap
from tests.messaging.conftest import Kit

BANGKOK_NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 22:30 in Bangkok
BANGKOK_DAY = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12:00 in Bangkok


def test_transient_errors_are_retried_then_sent(kit: Kit) -> None:
    pid = kit.person("Arm", line_user_id="U" + "1" * 32, consents=("line",))
    message = kit.send(pid)
    kit.line.fail_next(2, 503)
    kit.dispatch()
    sent = kit.message(message["id"])
    assert sent["status"] == "sent"
    assert sent["attempts"] == 3
    assert len(kit.line.accepted) == 1
    # Every attempt carried the same retry key, so LINE could drop a resend.
    keys = {r.headers["x-line-retry-key"] for r in kit.line.requests}
    assert len(keys) == 1


def test_permanent_errors_go_to_the_dead_letter_state_and_can_be_retried(kit: Kit) -> None:
    pid = kit.person("Beam", line_user_id="U" + "2" * 32, consents=("line",))
    message = kit.send(pid)
    kit.line.fail_next(1, 400, message="The property, 'to', in the request body is invalid")
    kit.dispatch()
    dead = kit.message(message["id"])
    assert dead["status"] == "failed"
    assert "dead letter after 1 attempt" in dead["reason"]
    assert kit.line.accepted == []
    retried = kit.api("POST", f"/api/messaging/messages/{message['id']}/retry")
    assert retried.status_code == 200, retried.text
    kit.dispatch()
    assert kit.message(message["id"])["status"] == "sent"
    again = kit.api("POST", f"/api/messaging/messages/{message['id']}/retry")
    assert again.status_code == 409


def test_retries_stop_at_the_attempt_limit(kit: Kit) -> None:
    pid = kit.person("Cake", line_user_id="U" + "3" * 32, consents=("line",))
    message = kit.send(pid)
    kit.line.fail_next(10, 500)
    kit.dispatch()
    dead = kit.message(message["id"])
    assert dead["status"] == "failed"
    assert dead["attempts"] == 4
    assert "dead letter after 4 attempt(s)" in dead["reason"]


def test_marketing_waits_for_the_end_of_quiet_hours(kit: Kit) -> None:
    pid = kit.person("Dream", line_user_id="U" + "4" * 32, consents=("line",))
    kit.rules(quiet_start=time(21), quiet_end=time(8))
    kit.at(BANGKOK_NIGHT)
    marketing = kit.send(pid)
    update = kit.send(pid, category="transactional")
    assert marketing["status"] == "queued"
    assert marketing["due_at"].startswith("2026-11-24T01:00:00")  # 08:00 in Bangkok
    assert "quiet hours" in marketing["reason"]
    kit.dispatch()
    assert kit.message(update["id"])["status"] == "sent"
    assert kit.message(marketing["id"])["status"] == "queued"
    assert len(kit.line.accepted) == 1
    kit.at(datetime(2026, 11, 24, 1, 0, 1, tzinfo=UTC))
    kit.dispatch()
    assert kit.message(marketing["id"])["status"] == "sent"
    assert len(kit.line.accepted) == 2


def test_frequency_caps_move_marketing_to_the_next_channel_not_transactional(kit: Kit) -> None:
    pid = kit.person(
        "Earth",
        line_user_id="U" + "5" * 32,
        email="earth@example.com",
        consents=("line", "email"),
    )
    caps = {"line": FrequencyCap(per_day=2, per_week=3), "email": FrequencyCap(per_day=1)}
    kit.rules(caps=caps)
    kit.at(BANGKOK_DAY)
    channels = [kit.send(pid)["channel"] for _ in range(4)]
    assert channels == ["line-oa", "line-oa", "mail", None]
    capped = kit.send(pid)
    assert capped["status"] == "suppressed"
    assert "frequency cap of 2 per day reached" in capped["reason"]
    assert "frequency cap of 1 per day reached" in capped["reason"]
    assert kit.send(pid, category="transactional")["channel"] == "line-oa"
    kit.at(BANGKOK_DAY + timedelta(days=1, minutes=1))
    # A day later the daily caps are free again; LINE's weekly cap of 3 then stops it.
    assert [kit.send(pid)["channel"] for _ in range(3)] == ["line-oa", "mail", None]


def test_quiet_hours_span_midnight_in_the_recipients_zone() -> None:
    night = quiet_until(BANGKOK_NIGHT, timezone="Asia/Bangkok", start=time(21), end=time(8))
    assert night == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    early = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 06:00 in Bangkok
    assert quiet_until(early, timezone="Asia/Bangkok", start=time(21), end=time(8)) == datetime(
        2026, 11, 24, 1, 0, tzinfo=UTC
    )
    assert quiet_until(BANGKOK_DAY, timezone="Asia/Bangkok", start=time(21), end=time(8)) is None
    # 22:30 in Bangkok is 15:30 in London: not quiet there.
    assert quiet_until(BANGKOK_NIGHT, timezone="Europe/London", start=time(21), end=time(8)) is None


def test_backoff_grows_is_capped_and_respects_retry_after() -> None:
    waits = [backoff_seconds(n, base=30, cap=3600, key="m1") for n in range(1, 10)]
    assert waits[0] < waits[1] < waits[2]
    assert max(waits) <= 3600
    assert backoff_seconds(1, base=30, cap=3600, key="m1", retry_after=120) >= 120
    assert backoff_seconds(3, base=30, cap=3600, key="m1") == backoff_seconds(
        3, base=30, cap=3600, key="m1"
    )


def test_caps_count_rolling_windows() -> None:
    now = BANGKOK_DAY
    sent = [now - timedelta(hours=1), now - timedelta(days=2)]
    assert over_cap(sent, now=now, per_day=1, per_week=None) == "frequency cap of 1 per day reached"
    assert over_cap(sent, now=now, per_day=2, per_week=3) is None
    assert (
        over_cap(sent, now=now, per_day=None, per_week=2) == "frequency cap of 2 per week reached"
    )

"""SIGKILL the sender mid-batch, restart it: nothing is lost in doubt silently, nothing twice."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.messaging.conftest import Kit, start_process

PEOPLE = 120


def _sender(kit: Kit, tmp_path: Path) -> subprocess.Popen[str]:
    return start_process(
        kit, tmp_path, "tests.messaging.sender_process", "sending", SAMPAN_MESSAGE_BATCH_SIZE="50"
    )


def test_a_killed_sender_restarted_sends_each_message_at_most_once(
    kit: Kit, tmp_path: Path
) -> None:
    users = kit.crowd(PEOPLE, "crash", consents=("line", "email"))
    people = [kit.profile_of(user) for user in users]
    # Slow the providers down so the kill lands in the middle of the sends.
    for name in ("line-oa", "mail"):
        channel = next(
            c for c in kit.api("GET", "/api/messaging/channels").json() if c["name"] == name
        )
        body = {k: channel[k] for k in ("name", "kind", "config", "enabled")}
        response = kit.api(
            "PUT", f"/api/messaging/channels/{name}", json=body | {"rate_per_second": 60}
        )
        assert response.status_code == 200, response.text
    for index, pid in enumerate(people):
        channel = "line-oa" if index % 2 else "mail"
        kit.send(pid, channels=[channel], key=f"crash:{index}")
    first = _sender(kit, tmp_path)
    deadline = time.monotonic() + 30
    while len(kit.line.accepted) + len(kit.smtp.messages) < PEOPLE // 3:
        assert time.monotonic() < deadline, "the sender sent nothing"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    before = len(kit.line.accepted) + len(kit.smtp.messages)
    assert before < PEOPLE, "the kill came too late to test anything"
    time.sleep(1.2)  # the lease of what was in flight runs out
    second = _sender(kit, tmp_path)
    assert second.wait(timeout=120) == 0

    line_recipients = Counter(a["to"] for a in kit.line.accepted)
    mail_recipients = Counter(m.rcpt_tos[0] for m in kit.smtp.messages)
    assert max(line_recipients.values()) == 1
    assert max(mail_recipients.values()) == 1
    # LINE drops a resend with the same retry key: every LINE message arrived exactly once.
    assert len(line_recipients) == PEOPLE // 2
    statuses: Counter[tuple[str, str]] = Counter()
    for message in kit.api("GET", "/api/messaging/messages", params={"limit": 1000}).json():
        statuses[message["kind"], message["status"]] += 1
        if message["status"] == "failed":
            assert message["reason"].startswith("in doubt")
    assert statuses["line", "sent"] == PEOPLE // 2
    assert statuses["email", "sent"] + statuses["email", "failed"] == PEOPLE // 2
    # E-mail can neither be taken back nor deduplicated by the provider: what was in flight
    # at the kill (at most one per send thread) is failed as in doubt and never resent, so it
    # arrived once or not at all; everything recorded as sent arrived exactly once.
    in_doubt = statuses["email", "failed"]
    assert in_doubt <= kit.runtime.settings.message_send_threads
    assert statuses["email", "sent"] <= len(mail_recipients) <= statuses["email", "sent"] + in_doubt

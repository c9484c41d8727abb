from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from sampan.messaging.channels import email as email_channel
from sampan.messaging.channels.base import (
    ContentError,
    Envelope,
    PermanentError,
    TransientError,
)
from tests.messaging.servers import free_port
from tests.messaging.servers.smtp import Security, SmtpServer

FROM = "news@kafe-sampan.co.th"
THAI_SUBJECT = "โปรโมชั่นพิเศษสำหรับสมาชิก ลด 50% วันนี้เท่านั้น"
THAI_TEXT = "สวัสดีค่ะ คุณสมชาย\nรับส่วนลด 50% ที่ร้านกาแฟสำปั้นทุกสาขา"
THAI_HTML = "<p>สวัสดีค่ะ <b>คุณสมชาย</b></p>"


def make_config(server: SmtpServer, **overrides: Any) -> email_channel.Config:
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "from_address": FROM,
        "from_name": "ร้านกาแฟสำปั้น",
        "helo_name": "sampan.test",
        "timeout_seconds": 5,
        "ca_file": server.ca_file,
    }
    if server.username is not None:
        values.update(username=server.username, password=server.password)
    values.update(overrides)
    return email_channel.Config(**values)


def envelope(
    message_id: str = "msg-1",
    to: str = "somchai@example.com",
    *,
    content: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Envelope:
    return Envelope(
        message_id=message_id,
        retry_key=f"retry-{message_id}",
        to=(to,),
        content=content or {"subject": THAI_SUBJECT, "text": THAI_TEXT, "html": THAI_HTML},
        headers=headers or {},
    )


def body_of(part: Any) -> str:
    return str(part.get_content()).replace("\r\n", "\n").rstrip("\n")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as smtp:
        yield smtp


OpenAdapter = Callable[[email_channel.Config], email_channel.Adapter]


@pytest.fixture
def open_adapter() -> Iterator[OpenAdapter]:
    opened: list[email_channel.Adapter] = []

    def open_(config: email_channel.Config) -> email_channel.Adapter:
        opened.append(email_channel.Adapter(config))
        return opened[-1]

    yield open_
    for channel in opened:
        channel.close()


@pytest.fixture
def adapter(server: SmtpServer) -> Iterator[email_channel.Adapter]:
    channel = email_channel.Adapter(make_config(server))
    yield channel
    channel.close()


def test_thai_subject_sender_and_bodies_arrive_as_multipart_alternative(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    delivery = adapter.send(envelope())

    assert len(server.messages) == 1
    mail = server.messages[0]
    assert mail.mail_from == FROM
    assert mail.rcpt_tos == ("somchai@example.com",)
    message = mail.message
    assert message["Subject"] == THAI_SUBJECT
    assert message["From"].addresses[0].display_name == "ร้านกาแฟสำปั้น"
    assert message["From"].addresses[0].addr_spec == FROM
    assert message["To"] == "somchai@example.com"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert body_of(parts[0]) == THAI_TEXT
    assert body_of(parts[1]) == THAI_HTML
    # Raw message stays 7-bit so any relay can carry it.
    assert mail.raw.isascii()
    assert delivery.provider_message_id == "<msg-1@kafe-sampan.co.th>"
    assert delivery.units == 1
    assert delivery.duplicate is False


def test_text_only_message_is_a_single_text_part(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    adapter.send(envelope(content={"subject": "Hello", "text": "plain body"}))

    message = server.messages[0].message
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert body_of(message) == "plain body"


def test_message_id_sampan_id_reply_to_and_list_unsubscribe_headers_are_set(
    server: SmtpServer, open_adapter: OpenAdapter
) -> None:
    channel = open_adapter(make_config(server, reply_to="care@kafe-sampan.co.th"))
    # Longer than one folded line: Python would otherwise turn it into RFC 2047 words.
    token = "eyJhbGciOiJIUzI1NiJ9.eyJwcm9maWxlIjoiMDFKOVpLMyJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    unsubscribe = (
        f"<https://sampan.test/unsubscribe/{token}>, "
        f"<mailto:unsub@kafe-sampan.co.th?subject={token}>"
    )
    channel.send(
        envelope(
            "01J9ZK3",
            headers={
                "List-Unsubscribe": unsubscribe,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    )

    message = server.messages[0].message
    assert message["Message-ID"] == "<01J9ZK3@kafe-sampan.co.th>"
    assert message["X-Sampan-Message-Id"] == "01J9ZK3"
    assert message["Reply-To"] == "care@kafe-sampan.co.th"
    assert message["List-Unsubscribe"] == unsubscribe
    assert f"\r\nList-Unsubscribe: {unsubscribe}\r\n".encode() in server.messages[0].raw
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"] is not None


def test_envelope_header_may_not_replace_the_adapters_own_headers(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    with pytest.raises(PermanentError, match="'Bcc' is set by the e-mail adapter"):
        adapter.send(envelope(headers={"Bcc": "spy@example.com"}))
    with pytest.raises(PermanentError, match="'X-Campaign' must not contain line breaks"):
        adapter.send(envelope(headers={"X-Campaign": "a\r\nBcc: spy@example.com"}))
    assert server.messages == []


def test_envelope_with_two_recipients_or_a_bad_address_is_refused_before_sending(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    two = Envelope(message_id="m", retry_key="k", to=("a@example.com", "b@example.com"), content={})
    with pytest.raises(PermanentError, match="exactly one recipient, got 2"):
        adapter.send(two)
    with pytest.raises(PermanentError, match="'a@example.com, b@example.com' is not a valid"):
        adapter.send(envelope(to="a@example.com, b@example.com"))
    assert server.messages == []
    assert server.connections == 0


def test_one_connection_is_reused_across_sends(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    for n in range(5):
        adapter.send(envelope(f"m{n}"))

    assert len(server.messages) == 5
    assert server.connections == 1


def test_adapter_reconnects_after_the_server_dropped_the_connection(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    adapter.send(envelope("before"))
    server.drop_connections()

    adapter.send(envelope("after"))

    assert [m.message["X-Sampan-Message-Id"] for m in server.messages] == ["before", "after"]
    assert server.connections == 2


def test_adapter_reconnects_after_the_server_closed_an_idle_connection_with_421(
    open_adapter: OpenAdapter,
) -> None:
    with SmtpServer(idle_timeout=0.2) as server:
        channel = open_adapter(make_config(server))
        channel.send(envelope("before"))
        deadline = 50
        while server.live_connections and deadline:
            threading.Event().wait(0.02)
            deadline -= 1
        assert server.live_connections == 0

        channel.send(envelope("after"))

        assert len(server.messages) == 2
        assert server.connections == 2


def test_concurrent_sends_share_a_bounded_pool(
    server: SmtpServer, open_adapter: OpenAdapter
) -> None:
    channel = open_adapter(make_config(server, max_connections=3))
    errors: list[BaseException] = []

    def send_some(worker: int) -> None:
        try:
            for n in range(5):
                channel.send(envelope(f"w{worker}-{n}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send_some, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(server.messages) == 30
    assert len({m.message["Message-ID"] for m in server.messages}) == 30
    assert 1 <= server.connections <= 3


def test_451_on_rcpt_is_transient_and_the_connection_stays_usable(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    server.fail_next(1, 451)

    with pytest.raises(TransientError) as caught:
        adapter.send(envelope("first"))
    assert caught.value.status == 451
    assert "refused recipient 'somchai@example.com': 451 4.3.0 Temporary" in caught.value.message
    assert server.messages == []

    adapter.send(envelope("second"))
    assert [m.message["X-Sampan-Message-Id"] for m in server.messages] == ["second"]
    assert server.connections == 1


def test_550_on_rcpt_is_permanent_and_names_the_recipient(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    server.fail_next(1, 550)

    with pytest.raises(PermanentError) as caught:
        adapter.send(envelope(to="nobody@example.com"))
    assert caught.value.status == 550
    assert "refused recipient 'nobody@example.com': 550" in caught.value.message
    assert "5.1.1 Mailbox unavailable" in caught.value.message
    assert server.messages == []


@pytest.mark.parametrize(
    ("code", "error"), [(452, TransientError), (554, PermanentError)], ids=["452", "554"]
)
def test_data_refusal_maps_4xx_to_transient_and_5xx_to_permanent(
    server: SmtpServer, adapter: email_channel.Adapter, code: int, error: type[Exception]
) -> None:
    server.fail_next(1, code, command="DATA", text="rejected by content filter")

    with pytest.raises(error, match=f"answered {code} rejected by content filter"):
        adapter.send(envelope())
    assert server.messages == []


def test_connection_refused_is_transient(open_adapter: OpenAdapter) -> None:
    config = email_channel.Config(
        host="127.0.0.1", port=free_port(), security="none", from_address=FROM, helo_name="t"
    )
    channel = open_adapter(config)

    with pytest.raises(TransientError, match="cannot talk to SMTP server 127.0.0.1"):
        channel.send(envelope())


def test_auth_with_the_right_password_delivers_as_that_user(open_adapter: OpenAdapter) -> None:
    with SmtpServer(username="sampan", password="s3cret") as server:
        channel = open_adapter(make_config(server))
        channel.send(envelope())

        assert len(server.messages) == 1
        assert server.messages[0].authenticated_as == "sampan"


def test_wrong_password_is_a_permanent_error_and_nothing_is_delivered(
    open_adapter: OpenAdapter,
) -> None:
    with SmtpServer(username="sampan", password="s3cret") as server:
        channel = open_adapter(make_config(server, password="wrong"))

        with pytest.raises(PermanentError) as caught:
            channel.send(envelope())

        assert "rejected the username/password for 'sampan'" in caught.value.message
        assert caught.value.status == 535
        assert server.messages == []


def test_server_requiring_auth_refuses_a_sender_without_credentials(
    open_adapter: OpenAdapter,
) -> None:
    with SmtpServer(username="sampan", password="s3cret") as server:
        config = make_config(server, username=None, password=None)
        channel = open_adapter(config)

        with pytest.raises(PermanentError) as caught:
            channel.send(envelope())

        assert caught.value.status == 530
        assert server.messages == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_paths_deliver_with_a_verified_certificate(
    security: Security, open_adapter: OpenAdapter
) -> None:
    with SmtpServer(security=security, username="sampan", password="s3cret") as server:
        channel = open_adapter(make_config(server))
        channel.send(envelope())
        channel.send(envelope("msg-2"))

        assert len(server.messages) == 2
        assert server.messages[0].authenticated_as == "sampan"
        assert server.messages[0].message["Subject"] == THAI_SUBJECT
        assert server.connections == 1


def test_starttls_with_verification_off_accepts_the_self_signed_certificate(
    open_adapter: OpenAdapter,
) -> None:
    with SmtpServer(security="starttls") as server:
        channel = open_adapter(make_config(server, ca_file=None, verify_tls=False))
        channel.send(envelope())

        assert len(server.messages) == 1


def test_untrusted_certificate_is_a_permanent_error_naming_the_fix(
    open_adapter: OpenAdapter,
) -> None:
    with SmtpServer(security="starttls") as server:
        channel = open_adapter(make_config(server, ca_file=None))

        with pytest.raises(PermanentError, match="could not be verified.*set ca_file"):
            channel.send(envelope())
        assert server.messages == []
        # Closed before the server stops: a half-made TLS connection left to the server to
        # abort could outlast its wait on a loaded machine.
        channel.close()


def test_starttls_required_by_config_but_not_offered_is_permanent(
    server: SmtpServer, open_adapter: OpenAdapter
) -> None:
    channel = open_adapter(make_config(server, security="starttls"))

    with pytest.raises(PermanentError, match="does not offer STARTTLS"):
        channel.send(envelope())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"text": "x"}, "subject is required"),
        ({"subject": "  ", "text": "x"}, "subject must not be empty"),
        ({"subject": "Hi\r\nBcc: a@b.c", "text": "x"}, "subject must not contain line breaks"),
        ({"subject": "Hi"}, "text is required"),
        ({"subject": "Hi", "text": ""}, "text must not be empty"),
        ({"subject": "Hi", "text": "x", "html": 3}, "html must be a string or null, got int"),
        ({"subject": "Hi", "text": "x", "body": "y"}, r"unknown fields \['body'\]"),
    ],
)
def test_check_content_names_the_offending_field(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError, match=message):
        email_channel.check_content(content)


def test_check_content_accepts_thai_text_with_and_without_html() -> None:
    email_channel.check_content({"subject": THAI_SUBJECT, "text": THAI_TEXT})
    email_channel.check_content({"subject": THAI_SUBJECT, "text": THAI_TEXT, "html": THAI_HTML})
    email_channel.check_content({"subject": THAI_SUBJECT, "text": THAI_TEXT, "html": None})


def test_send_refuses_content_that_check_content_rejects(
    server: SmtpServer, adapter: email_channel.Adapter
) -> None:
    with pytest.raises(PermanentError, match="subject must not be empty"):
        adapter.send(envelope(content={"subject": "", "text": "x"}))
    assert server.messages == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "u"}, "username and password must be given together: password is missing"),
        ({"password": "p"}, "username and password must be given together: username is missing"),
        ({"from_address": "not-an-address"}, "'not-an-address' is not a valid e-mail address"),
        ({"from_name": "A\nB"}, "from_name must not contain line breaks"),
        ({"security": "tls"}, "'starttls', 'ssl' or 'none'"),
        ({"ca_file": "/nonexistent/ca.pem"}, "ca_file '/nonexistent/ca.pem' does not exist"),
        ({"host": "smtp example.com"}, "is not a host name"),
        ({"smtp_host": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_config_validation_gives_precise_messages(overrides: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"host": "smtp.example.com", "from_address": FROM}
    values.update(overrides)
    with pytest.raises(ValidationError, match=message):
        email_channel.Config(**values)


def test_config_defaults_and_secret_password() -> None:
    config = email_channel.Config(
        host="smtp.example.com", from_address=FROM, username="u", password="p"
    )
    assert config.port == 587
    assert config.security == "starttls"
    assert config.verify_tls is True
    assert "p" not in repr(config.password)
    assert email_channel.KIND == "email"
    assert email_channel.Adapter.idempotent is False
    assert email_channel.Adapter.max_recipients == 1

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sampan.messaging.channels import sms
from sampan.messaging.channels.base import ContentError, Envelope, PermanentError, TransientError
from tests.messaging.servers import free_port
from tests.messaging.servers.sms import SmsGateway

THAI = "สวัสดีค่ะ คุณสมชาย รับส่วนลด 50% ที่ร้านกาแฟสำปั้น {ใช้โค้ด} \\n"
GSM_TEXT = st.text(alphabet=sms.GSM_BASIC + sms.GSM_EXTENSION, max_size=700)
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(sms.GSM_BASIC + sms.GSM_EXTENSION),
        st.sampled_from("กขคงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮะาิีึืุูเแโใไ่้๊๋"),
        st.sampled_from("😀🙏🇹🇭𝐀"),
        st.characters(codec="utf-8"),
    ),
    max_size=500,
)


def envelope(to: str = "+66812345678", text: str = THAI, message_id: str = "msg-1") -> Envelope:
    return Envelope(
        message_id=message_id,
        retry_key=f"retry-{message_id}",
        to=(to,),
        content={"text": text},
        category="transactional",
    )


@pytest.fixture(scope="module")
def shared_gateway() -> Iterator[SmsGateway]:
    with SmsGateway(auth={"type": "bearer", "token": "tok-123"}) as server:
        yield server


@pytest.fixture
def gateway(shared_gateway: SmsGateway) -> SmsGateway:
    shared_gateway.reset()
    return shared_gateway


def config_for(gateway: SmsGateway, **overrides: Any) -> sms.Config:
    values: dict[str, Any] = {
        "url": gateway.url,
        "auth": gateway.auth,
        "sender": "SAMPAN",
        "body_format": gateway.body_format,
        "method": gateway.method,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return sms.Config(**values)


@pytest.fixture
def adapter(gateway: SmsGateway) -> Iterator[sms.Adapter]:
    channel = sms.Adapter(config_for(gateway))
    yield channel
    channel.close()


# Segment counting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("ก" * 70, "UCS-2", 70, 1),
        ("ก" * 71, "UCS-2", 71, 2),
        ("ก" * 134, "UCS-2", 134, 2),
        ("ก" * 135, "UCS-2", 135, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("^{}\\[~]|€\f", "GSM-7", 20, 1),
        ("😀", "UCS-2", 2, 1),
        ("😀" * 35, "UCS-2", 70, 1),
        ("Hello สวัสดี", "UCS-2", 12, 1),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7", 42, 1),
        ("tab\there", "UCS-2", 8, 1),
    ],
)
def test_segments_count_known_cases(text: str, encoding: str, units: int, parts: int) -> None:
    assert sms.sms_segments(text) == sms.SmsSegments(encoding, units, parts)  # type: ignore[arg-type]


def test_extension_character_is_not_split_across_parts() -> None:
    # 152 plain characters then an extension: the escape pair would straddle 153.
    text = "a" * 152 + "€" + "b" * 10
    parts = sms.sms_parts(text)
    assert parts == ("a" * 152, "€" + "b" * 10)
    assert sms.sms_segments(text) == sms.SmsSegments("GSM-7", 164, 2)


def test_surrogate_pair_is_not_split_across_parts() -> None:
    text = "ก" * 66 + "😀" + "ข" * 10
    assert sms.sms_parts(text) == ("ก" * 66, "😀" + "ข" * 10)
    assert sms.sms_segments(text) == sms.SmsSegments("UCS-2", 78, 2)


def _part_units(part: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return sum(2 if c in sms.GSM_EXTENSION else 1 for c in part)
    return len(part.encode("utf-16-be")) // 2


@given(ANY_TEXT)
def test_parts_rejoin_and_each_fits(text: str) -> None:
    segments = sms.sms_segments(text)
    parts = sms.sms_parts(text)
    assert "".join(parts) == text
    assert len(parts) == segments.parts
    single, per_part = (160, 153) if segments.encoding == "GSM-7" else (70, 67)
    limit = single if len(parts) == 1 else per_part
    assert all(_part_units(part, segments.encoding) <= limit for part in parts)
    assert segments.units == sum(_part_units(part, segments.encoding) for part in parts)


@given(ANY_TEXT)
def test_parts_are_never_fewer_than_units_divided_by_part_size(text: str) -> None:
    segments = sms.sms_segments(text)
    per_part = 153 if segments.encoding == "GSM-7" else 67
    if segments.parts > 1:
        assert segments.parts >= math.ceil(segments.units / per_part)
    else:
        assert segments.units <= (160 if segments.encoding == "GSM-7" else 70)


@given(GSM_TEXT)
def test_gsm_text_is_never_reported_ucs2(text: str) -> None:
    assert sms.sms_segments(text).encoding == "GSM-7"


@given(ANY_TEXT, ANY_TEXT.filter(bool).map(lambda s: s[0]))
def test_appending_a_character_never_decreases_parts(text: str, char: str) -> None:
    assert sms.sms_segments(text + char).parts >= sms.sms_segments(text).parts


# check_content ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ({}, "content['text'] must be a string"),
        ({"text": 5}, "content['text'] must be a string, got int"),
        ({"text": "  "}, "content['text'] is empty"),
        ({"text": "hi", "html": "x"}, "unknown field 'html'"),
        ({"text": "ก" * (67 * 6 + 1)}, "needs 7 SMS parts (UCS-2, 403 units); at most 6"),
    ],
)
def test_check_content_names_the_field(content: dict[str, Any], names: str) -> None:
    with pytest.raises(ContentError, match=re.escape(names)):
        sms.check_content(content)


def test_check_content_accepts_the_limit_and_honours_max_parts() -> None:
    sms.check_content({"text": "ก" * 67 * 6})
    with pytest.raises(ContentError, match="at most 2"):
        sms.check_content({"text": "ก" * 135}, max_parts=2)


# Config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "ftp://gw.example/send"}, "must be an absolute http:// or https:// URL"),
        ({"sender": "SAMPAN-COFFEE"}, "is not a valid SMS sender"),
        ({"sender": "ร้านกาแฟ"}, "is not a valid SMS sender"),
        (
            {"body_template": {"to": "{to}", "msg": "{body}"}},
            "'{body}', which is not a placeholder",
        ),
        ({"body_template": {"to": "{to}", "msg": "{text"}}, "'{text', which is not a placeholder"),
        ({"body_template": {"msg": "{text}"}}, "must place {to} in some field"),
        ({"auth": {"type": "oauth"}}, "does not match any of the expected tags"),
        ({"auth": {"type": "header", "name": "X Key", "value": "v"}}, "not a valid HTTP header"),
        ({"method": "GET"}, "method GET sends the fields in the query string"),
        ({"message_id_path": "data..id"}, "must be dotted keys"),
        ({"max_parts": 0}, "greater than or equal to 1"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_config_refuses_with_a_precise_message(overrides: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"url": "https://gw.example/send", **overrides}
    with pytest.raises(ValidationError) as excinfo:
        sms.Config(**values)
    assert message in str(excinfo.value)


def test_config_defaults_fit_a_thai_gateway() -> None:
    config = sms.Config(url="https://gw.example/send", sender="0812345678")
    assert config.body_template == {"msisdn": "{to}", "message": "{text}", "sender": "{sender}"}
    assert (config.method, config.body_format, config.to_format) == ("POST", "json", "e164_digits")
    assert (config.message_id_path, config.max_parts) == ("id", 6)


# Sending ----------------------------------------------------------------------------------


def test_send_delivers_thai_text_with_bearer_auth(
    gateway: SmsGateway, adapter: sms.Adapter
) -> None:
    delivery = adapter.send(envelope())

    assert gateway.messages == [{"msisdn": "66812345678", "message": THAI, "sender": "SAMPAN"}]
    assert gateway.server.requests[0].headers["authorization"] == "Bearer tok-123"
    assert delivery.provider_message_id == "sms-000001"
    assert delivery.units == 1
    assert delivery.detail == {"encoding": "UCS-2", "parts": 1}


@pytest.mark.parametrize(
    ("to_format", "expected"),
    [("e164", "+66812345678"), ("e164_digits", "66812345678"), ("national", "0812345678")],
)
def test_send_formats_the_number(gateway: SmsGateway, to_format: str, expected: str) -> None:
    channel = sms.Adapter(config_for(gateway, to_format=to_format))
    try:
        channel.send(envelope())
    finally:
        channel.close()
    assert gateway.messages[0]["msisdn"] == expected


def test_send_form_with_basic_auth_template_and_nested_id() -> None:
    auth = {"type": "basic", "username": "shop", "password": "รหัส:ผ่าน"}
    with SmsGateway(
        auth=auth, body_format="form", required=("to", "body", "ref"), id_path="data.0.id"
    ) as gateway:
        channel = sms.Adapter(
            config_for(
                gateway,
                body_template={"to": "{to}", "body": "{text}", "ref": "{message_id}/{retry_key}"},
                message_id_path="data.0.id",
                sender=None,
            )
        )
        text = "a" * 150 + "{to} {sender} ^" + "€"
        delivery = channel.send(envelope(text=text, message_id="m-9"))
        channel.close()
    assert gateway.messages == [{"to": "66812345678", "body": text, "ref": "m-9/retry-m-9"}]
    assert delivery.provider_message_id == "sms-000001"
    assert delivery.units == 2
    assert delivery.detail == {"encoding": "GSM-7", "parts": 2}


def test_send_with_header_auth_over_get_leaves_out_a_missing_sender() -> None:
    auth = {"type": "header", "name": "X-Api-Key", "value": "key-1"}
    with SmsGateway(auth=auth, method="GET", body_format="form") as gateway:
        channel = sms.Adapter(config_for(gateway, sender=None))
        channel.send(envelope(text="Your OTP is 123456"))
        channel.close()
    assert gateway.messages == [{"msisdn": "66812345678", "message": "Your OTP is 123456"}]
    assert gateway.server.requests[0].headers["x-api-key"] == "key-1"


def test_wrong_credentials_are_permanent(gateway: SmsGateway) -> None:
    channel = sms.Adapter(config_for(gateway, auth={"type": "bearer", "token": "wrong"}))
    with pytest.raises(PermanentError, match="HTTP 401: .*invalid credentials") as excinfo:
        channel.send(envelope())
    channel.close()
    assert excinfo.value.status == 401
    assert gateway.messages == []


def test_429_with_retry_after_is_transient(gateway: SmsGateway, adapter: sms.Adapter) -> None:
    gateway.fail_next(1, 429, body=b'{"error":"rate limited"}', retry_after="7")
    with pytest.raises(TransientError, match="rate limited") as excinfo:
        adapter.send(envelope())
    assert (excinfo.value.status, excinfo.value.retry_after) == (429, 7.0)
    assert gateway.messages == []


def test_retry_after_as_http_date(gateway: SmsGateway) -> None:
    channel = sms.Adapter(config_for(gateway), clock=lambda: 1_700_000_000.0)
    gateway.fail_next(1, 503, retry_after="Tue, 14 Nov 2023 22:13:27 GMT")
    with pytest.raises(TransientError) as excinfo:
        channel.send(envelope())
    channel.close()
    assert excinfo.value.retry_after == 7.0


@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_server_errors_are_transient(
    gateway: SmsGateway, adapter: sms.Adapter, status: int
) -> None:
    gateway.fail_next(1, status)
    with pytest.raises(TransientError, match=f"HTTP {status}") as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == status
    assert excinfo.value.retry_after is None


@pytest.mark.parametrize("status", [400, 402, 403, 422])
def test_client_errors_are_permanent(
    gateway: SmsGateway, adapter: sms.Adapter, status: int
) -> None:
    gateway.fail_next(1, status, body=b'{"error":"insufficient credit"}')
    with pytest.raises(PermanentError, match="insufficient credit") as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == status


def test_connection_refused_is_transient() -> None:
    channel = sms.Adapter(sms.Config(url=f"http://127.0.0.1:{free_port()}/send", timeout_seconds=2))
    with pytest.raises(TransientError, match="SMS gateway unreachable: ConnectError"):
        channel.send(envelope())
    channel.close()


@pytest.mark.parametrize("to", ["0812345678", "+0812345678", "66812345678", "+66 81 234 5678"])
def test_a_number_that_is_not_e164_is_permanent(
    gateway: SmsGateway, adapter: sms.Adapter, to: str
) -> None:
    with pytest.raises(PermanentError, match="is not an E.164 number"):
        adapter.send(envelope(to=to))
    assert gateway.server.requests == []


def test_content_too_long_is_refused_before_any_request(
    gateway: SmsGateway, adapter: sms.Adapter
) -> None:
    with pytest.raises(PermanentError, match="at most 6 are allowed"):
        adapter.send(envelope(text="ก" * 500))
    with pytest.raises(ContentError, match="at most 6 are allowed"):
        adapter.check_content({"text": "ก" * 500})
    assert gateway.server.requests == []


def test_adapter_is_not_idempotent_and_sends_to_one_number() -> None:
    assert sms.Adapter.idempotent is False
    assert sms.Adapter.max_recipients == 1
    assert sms.KIND == "sms"

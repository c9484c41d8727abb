"""Validation and normalisation of Segment messages, without a server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampan.collect.segment_spec import (
    MessageRejected,
    channel_of,
    normalise_messages,
    server_track,
)
from tests.factories import message

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def normalise(payload: object, endpoint_type: str | None = None) -> list[dict[str, object]]:
    accepted = normalise_messages(
        payload, endpoint_type=endpoint_type, source_kind="web", received_at=NOW
    )
    return [orjson.loads(m.body) for m in accepted]


def rejected(payload: object, endpoint_type: str | None = None) -> MessageRejected:
    with pytest.raises(MessageRejected) as info:
        normalise(payload, endpoint_type)
    return info.value


def test_message_without_user_or_anonymous_id_is_rejected_naming_field_and_index() -> None:
    bad = message()
    del bad["anonymousId"]
    error = rejected({"batch": [message(), message(), bad]})
    assert error.status == 400
    assert error.message == "batch[2]: 'userId' or 'anonymousId' is required"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": "nonsense"}, "batch[0]: 'type' must be one of"),
        ({"type": "track", "event": ""}, "batch[0]: 'event' is required for a track message"),
        ({"type": "group"}, "batch[0]: 'groupId' is required for a group message"),
        ({"type": "alias", "userId": "u1"}, "'previousId' is required for a alias message"),
        ({"properties": [1, 2]}, "batch[0]: 'properties' must be an object"),
        ({"timestamp": "yesterday"}, "batch[0]: 'timestamp' is not an ISO 8601 date-time"),
        ({"userId": {"id": 1}}, "batch[0]: 'userId' must be a string"),
        ({"userId": "u" * 300}, "batch[0]: 'userId' is longer than 255 characters"),
    ],
)
def test_invalid_fields_are_rejected_with_a_precise_message(
    fields: dict[str, object], expected: str
) -> None:
    item = message()
    if fields.get("type") not in (None, "track"):
        del item["event"]
    item.update(fields)
    error = rejected({"batch": [item]})
    assert error.status == 400
    assert expected in error.message


def test_oversized_message_batch_and_count_are_413() -> None:
    big = message(properties={"blob": "x" * 33_000})
    assert rejected({"batch": [big]}).status == 413
    too_many = {"batch": [message() for _ in range(2501)]}
    error = rejected(too_many)
    assert (error.status, error.message) == (413, "batch has 2501 messages, over the limit of 2500")


def test_batch_context_is_merged_into_each_message_and_the_message_wins() -> None:
    payload = {
        "context": {"locale": "th-TH", "channel": "line", "ip": "1.2.3.4"},
        "batch": [message(context={"ip": "5.6.7.8"}), message()],
    }
    first, second = normalise(payload)
    assert first["context"] == {"locale": "th-TH", "channel": "line", "ip": "5.6.7.8"}
    assert second["context"] == {"locale": "th-TH", "channel": "line", "ip": "1.2.3.4"}


def test_client_clock_skew_is_corrected_as_segment_documents() -> None:
    # The device clock runs 10 minutes fast: it stamped the event 30 s before sending.
    sent = NOW + timedelta(minutes=10)
    stamped = sent - timedelta(seconds=30)
    (msg,) = normalise(
        {"batch": [message(timestamp=stamped.isoformat())], "sentAt": sent.isoformat()}
    )
    assert msg["timestamp"] == "2026-11-23T09:59:30.000Z"
    assert msg["originalTimestamp"] == "2026-11-23T10:09:30.000Z"
    assert msg["receivedAt"] == "2026-11-23T10:00:00.000Z"


def test_missing_timestamp_takes_the_receive_time_and_missing_message_id_is_generated() -> None:
    item = message()
    del item["messageId"]
    (msg,) = normalise({"batch": [item]})
    assert msg["timestamp"] == "2026-11-23T10:00:00.000Z"
    assert isinstance(msg["messageId"], str)
    assert len(msg["messageId"]) == 36


def test_single_message_endpoint_sets_the_type_and_drops_the_write_key() -> None:
    (msg,) = normalise({"userId": "u1", "traits": {"name": "สมชาย"}, "writeKey": "wk"}, "identify")
    assert msg["type"] == "identify"
    assert "writeKey" not in msg
    assert msg["traits"] == {"name": "สมชาย"}


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("line", "web", "line"),
        ("browser", "app", "web"),
        ("mobile", "web", "app"),
        ("mars", "pos", "pos"),
        (None, "pos", "pos"),
        ("server", "web", "server"),
    ],
)
def test_channel_comes_from_the_message_when_it_names_one_else_the_source(
    raw: str | None, kind: str, expected: str
) -> None:
    assert channel_of(raw, kind) == expected


def test_top_level_channel_is_read_before_context_channel() -> None:
    accepted = normalise_messages(
        {
            "batch": [
                message(channel="mobile", context={"channel": "line"}),
                message(context={"channel": "line"}),
            ]
        },
        endpoint_type=None,
        source_kind="web",
        received_at=NOW,
    )
    assert [m.channel for m in accepted] == ["app", "line"]


_ids = st.text(min_size=1, max_size=40).filter(lambda value: value.strip() == value)
_subjects = st.one_of(
    st.builds(lambda value: {"userId": value}, _ids),
    st.builds(lambda value: {"anonymousId": value}, _ids),
    st.builds(
        lambda value, kind: {"anonymousId": value, "externalIds": [{"type": kind, "id": value}]},
        _ids,
        st.sampled_from(["email", "phone", "line_user_id"]),
    ),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=30),
    event_id=_ids,
    subject=_subjects,
    properties=st.dictionaries(st.text(max_size=10), _json, max_size=5),
    source_kind=st.sampled_from(["email", "line", "facebook", "server"]),
    # Hypothesis takes naive bounds and adds the zone itself.
    at=st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_server_events_are_stored_exactly_as_the_tracking_api_would_store_them(
    name: str,
    event_id: str,
    subject: dict[str, Any],
    properties: dict[str, Any],
    source_kind: str,
    at: datetime,
) -> None:
    payload: dict[str, Any] = {
        "type": "track",
        "event": name,
        "messageId": event_id,
        "properties": properties,
        "timestamp": at.isoformat(),
        **{key: value for key, value in subject.items() if key != "externalIds"},
    }
    if "externalIds" in subject:
        payload["context"] = {"externalIds": subject["externalIds"]}
    [normalised] = normalise_messages(
        {"batch": [payload]}, endpoint_type=None, source_kind=source_kind, received_at=at
    )
    fast = server_track(
        name=name,
        message_id=event_id,
        subject=subject,
        properties=properties,
        source_kind=source_kind,
        at=at,
    )
    assert orjson.loads(fast.body) == orjson.loads(normalised.body)
    assert dataclasses.replace(fast, body=b"") == dataclasses.replace(normalised, body=b"")

"""Consent rules: the shape of a change, and contactability over random histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampan.consent.rules import (
    ConsentFact,
    ConsentRuleError,
    PurposeCatalog,
    decide,
    parse_changes,
)
from sampan.settings import CONTACT_CHANNELS, default_purposes

CATALOG = PurposeCatalog.build(default_purposes())
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_a_tracked_change_reads_camel_case_and_defaults_to_consent() -> None:
    changes = parse_changes(
        {
            "purpose": "marketing",
            "channel": "line",
            "status": "granted",
            "noticeVersion": "2026-01",
            "noticeLanguage": "th",
            "expiresAt": "2027-01-01T00:00:00Z",
        },
        CATALOG,
    )
    assert len(changes) == 1
    change = changes[0]
    assert (change.purpose, change.channel, change.status) == ("marketing", "line", "granted")
    assert change.lawful_basis == "consent"
    assert change.notice_version == "2026-01"
    assert change.expires_at == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_list_of_changes_names_the_bad_item() -> None:
    with pytest.raises(ConsentRuleError, match=r"properties.consents\[1\].status"):
        parse_changes(
            {
                "consents": [
                    {"purpose": "analytics", "status": "granted"},
                    {"purpose": "analytics", "status": "maybe"},
                ]
            },
            CATALOG,
        )


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"status": "granted"}, "purpose is required"),
        ({"purpose": "spam", "status": "granted"}, "unknown purpose 'spam'"),
        ({"purpose": "marketing", "status": "granted"}, "given per channel"),
        ({"purpose": "marketing", "channel": "fax", "status": "granted"}, "got 'fax'"),
        ({"purpose": "analytics", "channel": "sms", "status": "granted"}, "not given per channel"),
        (
            {"purpose": "analytics", "status": "granted", "lawfulBasis": "whim"},
            "lawful_basis must be one of",
        ),
        (
            {"purpose": "analytics", "status": "granted", "expiresAt": "2027-01-01T00:00:00"},
            "time zone",
        ),
        ({"consents": []}, "non-empty list"),
    ],
)
def test_bad_changes_are_refused_with_the_reason(properties: dict, message: str) -> None:
    with pytest.raises(ConsentRuleError, match=message):
        parse_changes(properties, CATALOG)


slots = st.sampled_from(CATALOG.slots())
facts = st.lists(
    st.tuples(
        slots,
        st.sampled_from(["granted", "withdrawn"]),
        st.integers(min_value=-400, max_value=0),
        st.one_of(st.none(), st.integers(min_value=-30, max_value=400)),
    ),
    max_size=12,
)
blocks = st.lists(st.sampled_from(["restricted", "objected", "suppressed", "erased"]), max_size=2)


@settings(max_examples=400, deadline=None)
@given(history=facts, active_blocks=blocks, attempt=slots)
def test_nothing_marked_not_contactable_is_ever_contactable(
    history: list, active_blocks: list[str], attempt: tuple[str, str]
) -> None:
    records = [
        ConsentFact(
            purpose=slot[0],
            channel=slot[1],
            status=status,
            recorded_at=NOW + timedelta(days=day),
            order=index,
            expires_at=NOW + timedelta(days=expiry) if expiry is not None else None,
        )
        for index, (slot, status, day, expiry) in enumerate(history)
    ]
    purpose = CATALOG.get(attempt[0])
    decision = decide(
        purpose=purpose, channel=attempt[1], facts=records, blocks=active_blocks, now=NOW
    )
    same_slot = sorted(
        (r for r in records if (r.purpose, r.channel) == attempt),
        key=lambda r: (r.recorded_at, r.order),
    )
    latest = same_slot[-1] if same_slot else None
    if decision.allowed:
        assert not active_blocks
        assert latest is None or latest.status == "granted"
        if purpose.requires_consent:
            assert latest is not None
            assert latest.expires_at is None or latest.expires_at > NOW
    if active_blocks or (latest is not None and latest.status == "withdrawn"):
        assert not decision.allowed
    assert decision.reason


def test_every_per_channel_purpose_offers_every_channel() -> None:
    marketing = [channel for purpose, channel in CATALOG.slots() if purpose == "marketing"]
    assert marketing == list(CONTACT_CHANNELS)
    assert ("analytics", "") in CATALOG.slots()

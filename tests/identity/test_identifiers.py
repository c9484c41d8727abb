"""Identifier normalisation and extraction from Segment messages."""

from __future__ import annotations

import pytest

from sampan.identity.identifiers import (
    Identifier,
    IdentityRules,
    extract_identifiers,
    normalise,
    normalise_phone,
)

RULES = IdentityRules.build()


@pytest.mark.parametrize(
    "written",
    [
        "081-234-5678",
        "0812345678",
        "+66 81 234 5678",
        "+66812345678",
        "081 234 5678",
        "(081) 234-5678",
        "66812345678",
    ],
)
def test_thai_mobile_numbers_in_any_written_form_are_one_identifier(written: str) -> None:
    assert normalise("phone", written, RULES) == Identifier("phone", "+66812345678")


@pytest.mark.parametrize("bad", ["000-000-0000", "0000000000", "12345", "08x-123", "+66 0"])
def test_invalid_or_placeholder_phone_numbers_identify_nobody(bad: str) -> None:
    assert normalise_phone(bad) is None


def test_bangkok_landline_normalises_too() -> None:
    assert normalise_phone("02-123-4567") == "+6621234567"


def test_email_is_trimmed_lower_cased_and_validated() -> None:
    assert normalise("email", "  Somchai.J@Gmail.COM ", RULES) == Identifier(
        "email", "somchai.j@gmail.com"
    )
    assert normalise("email", "not-an-email", RULES) is None


@pytest.mark.parametrize(
    "value", ["", "null", "undefined", "anonymous", "0", "  NULL ", None, True]
)
def test_blocked_values_identify_nobody(value: object) -> None:
    assert normalise("user_id", value, RULES) is None


def test_extra_blocked_values_come_from_settings() -> None:
    rules = IdentityRules.build(blocked=["guest"])
    assert normalise("user_id", "Guest", rules) is None


def test_identifiers_come_from_every_documented_place_in_priority_order() -> None:
    message = {
        "userId": "M000123",
        "anonymousId": "anon-9",
        "traits": {"email": "A@B.co.th", "phone": "081-234-5678", "name": "สมชาย"},
        "context": {
            "traits": {"lineUserId": "U1234"},
            "externalIds": [
                {"id": "PSID-1", "type": "facebook_psid", "collection": "users"},
                {"id": "x", "type": "not_a_type"},
            ],
            "device": {"id": "dev-1"},
        },
    }
    assert extract_identifiers(message, RULES) == [
        Identifier("user_id", "M000123"),
        Identifier("email", "a@b.co.th"),
        Identifier("phone", "+66812345678"),
        Identifier("line_user_id", "U1234"),
        Identifier("facebook_psid", "PSID-1"),
        Identifier("device_id", "dev-1"),
        Identifier("anonymous_id", "anon-9"),
    ]


def test_custom_identifier_types_and_priorities_come_from_settings() -> None:
    rules = IdentityRules.build(
        custom_types=["citizen_id"], priority=["phone", "user_id"], limits={"phone": 2}
    )
    message = {"userId": "u1", "traits": {"citizen_id": "1101700203451", "phone": "0812345678"}}
    assert [i.type for i in extract_identifiers(message, rules)] == [
        "phone",
        "user_id",
        "citizen_id",
    ]
    assert rules.limit("phone") == 2
    assert rules.limit("user_id") == 1
    assert rules.limit("citizen_id") == 5


def test_alias_links_the_previous_id_to_the_user() -> None:
    message = {"type": "alias", "userId": "M1", "previousId": "anon-42"}
    assert extract_identifiers(message, RULES) == [
        Identifier("user_id", "M1"),
        Identifier("anonymous_id", "anon-42"),
    ]


def test_group_traits_describe_the_company_and_identify_nobody() -> None:
    message = {
        "type": "group",
        "userId": "M1",
        "groupId": "c-1",
        "traits": {"email": "sales@company.co.th", "phone": "021234567"},
    }
    assert extract_identifiers(message, RULES) == [Identifier("user_id", "M1")]

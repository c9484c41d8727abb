"""Personal data is masked by shape, whatever route the document comes from."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sampan.access.masking import mask_document, mask_email, mask_name, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+66812345678", "08x-xxx-5678"),
        ("0812345678", "08x-xxx-5678"),
        ("081-234-5678", "08x-xxx-5678"),
        ("+66 2 123 4567", "02x-xxx-4567"),
        ("+14155550123", "xxx-xxx-0123"),
        ("12", "***"),
    ],
)
def test_phone_keeps_only_its_prefix_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_email_keeps_its_first_letter_and_domain() -> None:
    assert mask_email("somchai@gmail.com") == "s***@gmail.com"
    assert mask_email("not an address") == "***"


def test_thai_and_latin_names_keep_the_first_letter_of_each_word() -> None:
    assert mask_name("สมชาย ใจดี") == "ส*** ใ***"
    assert mask_name("Somchai Jaidee") == "S*** J***"


def test_a_customer_360_document_is_masked_by_key_identifier_type_and_text() -> None:
    document = {
        "id": "prf_0193a0812345678ab",
        "display_name": "สมชาย ใจดี",
        "identities": [
            {"type": "phone", "value": "+66812345678"},
            {"type": "email", "value": "somchai@gmail.com"},
            {"type": "line_user_id", "value": "U4af4980629abcdef"},
            {"type": "user_id", "value": "M1"},
        ],
        "traits": {
            "name": "สมชาย ใจดี",
            "firstName": "สมชาย",
            "last_name": "ใจดี",
            "birthday": "1990-04-13",
            "address": {"street": "99 ถนนสุขุมวิท", "city": "กรุงเทพฯ"},
            "skin_type": "oily",
        },
        "notes": [{"author": "นุ่น", "body": "โทรกลับที่ 081 234 5678 หรือ somchai@gmail.com"}],
        "timeline": [
            {
                "type": "track",
                "name": "Order Completed",
                "message": {
                    "properties": {"products": [{"name": "Serum", "price": 990}]},
                    "context": {"ip": "203.0.113.7", "traits": {"name": "Somchai J"}},
                },
            }
        ],
        "created_at": "2026-06-30T12:00:00Z",
    }
    assert mask_document(document) == {
        "id": "prf_0193a0812345678ab",
        "display_name": "ส*** ใ***",
        "identities": [
            {"type": "phone", "value": "08x-xxx-5678"},
            {"type": "email", "value": "s***@gmail.com"},
            {"type": "line_user_id", "value": "***cdef"},
            {"type": "user_id", "value": "M1"},
        ],
        "traits": {
            "name": "ส*** ใ***",
            "firstName": "ส***",
            "last_name": "ใ***",
            "birthday": "***",
            "address": {"street": "***", "city": "***"},
            "skin_type": "oily",
        },
        "notes": [{"author": "นุ่น", "body": "โทรกลับที่ 08x-xxx-5678 หรือ s***@gmail.com"}],
        "timeline": [
            {
                "type": "track",
                "name": "Order Completed",
                "message": {
                    "properties": {"products": [{"name": "Serum", "price": 990}]},
                    "context": {"ip": "***", "traits": {"name": "S*** J***"}},
                },
            }
        ],
        "created_at": "2026-06-30T12:00:00Z",
    }


def test_a_name_next_to_an_email_is_a_person_but_a_product_name_is_not() -> None:
    assert mask_document({"name": "Somchai J", "email": "s@x.co.th", "role": "analyst"}) == {
        "name": "S*** J***",
        "email": "s***@x.co.th",
        "role": "analyst",
    }
    assert mask_document({"name": "Vitamin C Serum", "sku": "SR-1"}) == {
        "name": "Vitamin C Serum",
        "sku": "SR-1",
    }


thai_mobiles = st.builds(
    lambda prefix, rest: f"0{prefix}{rest}",
    st.sampled_from("689"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@given(
    phone=thai_mobiles,
    key=st.sampled_from(["phone", "body", "detail", "mobile", "x"]),
    separator=st.sampled_from(["", "-", " "]),
)
def test_no_thai_mobile_number_survives_masking(phone: str, key: str, separator: str) -> None:
    written = f"{phone[:3]}{separator}{phone[3:6]}{separator}{phone[6:]}"
    document = {key: f"โทร {written} ค่ะ", "list": [written, {"type": "phone", "value": phone}]}
    masked = json.dumps(mask_document(document), ensure_ascii=False)
    assert phone not in masked.replace("-", "").replace(" ", "")
    assert phone[-4:] in masked


def test_contact_and_member_ids_kept_as_traits_are_masked_like_identities() -> None:
    traits = {
        "traits": {
            "line_user_id": "U5f64a1b2c3d4e5f60718293a4b5c6d7e",
            "loyaltyId": "LOY-00012345",
            "pos_customer_id": "POS-BKK01-998877",
            "pickup_code": "123456",
            "plan": "gold",
        }
    }
    masked = mask_document(traits)["traits"]
    assert masked["line_user_id"] == "***6d7e"
    assert masked["loyaltyId"] == "***2345"
    assert masked["pos_customer_id"] == "***8877"
    assert masked["pickup_code"] == "***"
    assert masked["plan"] == "gold"

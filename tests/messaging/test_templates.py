"""The template language: fallbacks, mappings, Thai dates, all-or-nothing rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from sampan.messaging.outbox import template_variables
from sampan.messaging.templates import RenderError, check_body, render_body, wrap_links
from sampan.profiles.schemas import ProfileFacts
from sampan.settings import FrequencyCap, Settings


def _render(text: str, **variables: object) -> str:
    return str(render_body({"text": text}, variables)["text"])


def test_missing_and_null_values_render_empty_so_fallbacks_work() -> None:
    assert _render("คุณ{{ profile.nickname or 'ลูกค้า' }}", profile={"nickname": None}) == "คุณลูกค้า"
    assert _render("[{{ profile.nickname }}]", profile={"nickname": None}) == "[]"
    assert _render("[{{ event.product.name }}]", event={}) == "[]"
    assert _render("{{ event.product.name | default('สินค้า') }}", event={}) == "สินค้า"


def test_keys_of_a_mapping_win_over_its_methods() -> None:
    assert _render("{{ event.items | length }}", event={"items": [1, 2, 3]}) == "3"


def test_thai_dates_are_in_bangkok_and_the_buddhist_era() -> None:
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 06:30 on the 24th in Bangkok
    assert _render("{{ when | thai_date }}", when=late) == "24 พ.ย. 2569"
    assert _render("{{ 1290.5 | baht }}") == "฿1,290.50"


def test_errors_name_the_field_and_nothing_is_half_rendered() -> None:
    with pytest.raises(RenderError, match=r"body\.messages\[1\]\.text"):
        render_body({"messages": [{"text": "ok"}, {"text": "{{ 1 / 0 }}"}]}, {}, "body")
    with pytest.raises(RenderError, match="line 1"):
        check_body({"text": "{% if %}"}, "body")


def test_only_clickable_fields_are_wrapped() -> None:
    content = {
        "messages": [
            {"type": "text", "text": "ดู https://shop.example/a"},
            {
                "type": "image",
                "originalContentUrl": "https://cdn.example/a.jpg",
                "previewImageUrl": "https://cdn.example/a.jpg",
            },
        ]
    }
    wrapped, links = wrap_links(content, lambda index: f"https://t.example/{index}")
    assert links == ["https://shop.example/a"]
    assert wrapped["messages"][0]["text"] == "ดู https://t.example/0"
    assert wrapped["messages"][1]["originalContentUrl"] == "https://cdn.example/a.jpg"


def test_frequency_caps_must_name_known_channel_kinds() -> None:
    with pytest.raises(ValidationError, match="lne"):
        Settings(frequency_caps={"lne": FrequencyCap(per_day=1)})


def test_templates_read_spec_traits_in_either_spelling() -> None:
    facts = ProfileFacts(
        profile_id="p1",
        traits={"firstName": "สมหญิง", "last_name": "ใจดี", "lastName": "Jaidee"},
        first_seen_ms=None,
        last_seen_ms=None,
        event_count=0,
        order_count=0,
        total_spent=0,
        last_order_ms=None,
        identifier_types=(),
    )
    seen = template_variables(facts, event=None, coupon_code=None, extra=None)["profile"]
    assert (seen["first_name"], seen["firstName"]) == ("สมหญิง", "สมหญิง")
    # Sent in both spellings, each keeps its own value.
    assert (seen["last_name"], seen["lastName"]) == ("ใจดี", "Jaidee")
    body = {"text": "สวัสดีคุณ{{ profile.first_name }}"}
    assert render_body(body, {"profile": seen}, "t")["text"] == "สวัสดีคุณสมหญิง"

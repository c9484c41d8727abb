"""Demo messaging set-up through the public API: channels (off), templates, a draft campaign.

The channels are created switched off with placeholder credentials: the demo's phone numbers
and addresses look real, so nothing may ever be sent from it. Switch a channel on with real
credentials (PUT /api/messaging/channels/{name}) to try sending.
"""

from __future__ import annotations

from typing import Any

import httpx

CHANNELS: list[dict[str, Any]] = [
    {
        "name": "line-oa",
        "kind": "line",
        "enabled": False,
        "config": {
            "channel_access_token": "replace-with-your-channel-access-token",
            "channel_secret": "replace-with-your-channel-secret",
        },
    },
    {
        "name": "email",
        "kind": "email",
        "enabled": False,
        "config": {
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "from_address": "hello@sampan-beauty.example",
            "from_name": "สำเภา บิวตี้",
        },
    },
    {
        "name": "sms",
        "kind": "sms",
        "enabled": False,
        "config": {"url": "https://sms-gateway.example.com/api/send", "sender": "SAMPAN"},
    },
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "welcome",
        "category": "marketing",
        "bodies": {
            "line": {
                "th": {
                    "messages": [
                        {
                            "type": "text",
                            "text": "สวัสดีค่ะคุณ{{ profile.first_name or 'ลูกค้า' }} "
                            "ยินดีต้อนรับสู่สำเภา บิวตี้ รับส่วนลด 10% ด้วยโค้ด {{ coupon_code }}",
                        }
                    ]
                },
                "en": {
                    "messages": [
                        {
                            "type": "text",
                            "text": "Hi {{ profile.first_name or 'there' }}, welcome to "
                            "Sampan Beauty: 10% off with code {{ coupon_code }}",
                        }
                    ]
                },
            },
            "email": {
                "th": {
                    "subject": "ยินดีต้อนรับคุณ{{ profile.first_name or 'ลูกค้า' }}",
                    "text": "รับส่วนลด 10% ด้วยโค้ด {{ coupon_code }} https://sampan-beauty.example",
                    "html": "<p>สวัสดีค่ะคุณ{{ profile.first_name or 'ลูกค้า' }}</p>"
                    '<p><a href="https://sampan-beauty.example">ช้อปเลย</a></p>',
                },
                "en": {
                    "subject": "Welcome, {{ profile.first_name or 'friend' }}",
                    "text": "10% off with code {{ coupon_code }} https://sampan-beauty.example",
                },
            },
        },
    },
    {
        "name": "cart-reminder",
        "category": "marketing",
        "bodies": {
            "line": {
                "th": {
                    "messages": [
                        {
                            "type": "text",
                            "text": "คุณ{{ profile.first_name or 'ลูกค้า' }} ลืมสินค้าในตะกร้า "
                            "มูลค่า {{ event.value | baht }} กลับมาชำระได้ที่ "
                            "https://sampan-beauty.example/cart",
                        }
                    ]
                }
            },
            "sms": {
                "th": {"text": "สำเภา บิวตี้: สินค้าในตะกร้ารอคุณอยู่ https://sampan-beauty.example/cart"}
            },
        },
    },
    {
        "name": "delivery-update",
        "category": "transactional",
        "bodies": {
            "sms": {
                "th": {
                    "text": "คำสั่งซื้อ {{ event.order_id }} จัดส่งแล้ว เลขพัสดุ {{ event.tracking_number }}"
                },
                "en": {
                    "text": "Order {{ event.order_id }} shipped, "
                    "tracking {{ event.tracking_number }}"
                },
            }
        },
    },
]


def install_messaging(*, base_url: str, api_key: str) -> int:
    """Create the demo channels, templates and a draft VIP campaign; return how many."""
    headers = {"Authorization": f"Bearer {api_key}"}
    created = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for channel in CHANNELS:
            created += _post(client, "/api/messaging/channels", channel)
        for template in TEMPLATES:
            created += _post(client, "/api/messaging/templates", template)
        vip = next(
            (s for s in client.get("/api/segments").json() if s["name"] == "VIP ตามยอดซื้อ"),
            None,
        )
        existing = {c["name"] for c in client.get("/api/messaging/campaigns").json()}
        if vip is not None and "VIP ปีใหม่ 2027" not in existing:
            campaign = {
                "name": "VIP ปีใหม่ 2027",
                "segment_id": vip["id"],
                "channels": ["line-oa", "email"],
                "variants": [{"name": "A", "template": "welcome"}],
                "control_percent": 10,
                "attribution_days": 7,
            }
            created += _post(client, "/api/messaging/campaigns", campaign)
    return created


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> int:
    response = client.post(path, json=body)
    if response.status_code == 409:
        return 0
    response.raise_for_status()
    return 1

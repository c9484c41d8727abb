"""Ready-made segments from the seeds: RFM groups, lifecycle stages and everyday targets."""

from __future__ import annotations

from typing import Any

from sampan.segments.analysis import INACTIVITY_BUCKETS, LIFECYCLE_STAGES, RFM_GROUPS

_LIFECYCLE_TH = {
    "new_lead": "ผู้สนใจรายใหม่ (ยังไม่เคยซื้อ)",
    "first_time_buyer": "ลูกค้าซื้อครั้งแรก",
    "active": "ลูกค้าที่ยังซื้ออยู่",
    "loyal_vip": "ลูกค้าประจำ / VIP",
    "at_risk": "ลูกค้าเสี่ยงหาย",
    "churned": "ลูกค้าที่หายไปแล้ว",
}
_INACTIVE_DAYS = {"30_days": 30, "60_days": 60, "90_days": 90}


def ready_made(*, vip_spend: float) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Return (key, name, description, condition) of every ready-made segment."""
    segments: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            f"rfm_{group.lower().replace(' ', '_').replace(chr(39), '')}",
            f"RFM: {group}",
            "RFM group, scored on schedule among buyers",
            {"computed": "rfm_group", "op": "eq", "value": group},
        )
        for group in RFM_GROUPS
    ]
    segments += [
        (
            f"lifecycle_{stage}",
            f"Lifecycle: {_LIFECYCLE_TH[stage]}",
            f"Lifecycle stage {stage} (thresholds in settings.lifecycle)",
            {"computed": "lifecycle_stage", "op": "eq", "value": stage},
        )
        for stage in LIFECYCLE_STAGES
    ]
    segments += [
        (
            f"inactive_{bucket}",
            f"ไม่มีความเคลื่อนไหว {days}+ วัน",
            f"No event at all for {days} days or more",
            {"event": "*", "did": False, "within_days": days},
        )
        for bucket, days in _INACTIVE_DAYS.items()
        if bucket in INACTIVITY_BUCKETS
    ]
    segments += [
        (
            "abandoned_cart_24h",
            "ทิ้งตะกร้าใน 24 ชั่วโมง",
            "Added to cart in the last 24 hours and placed no order in those 24 hours",
            {
                "all": [
                    {"event": "Product Added", "within_days": 1},
                    {"event": "Order Completed", "did": False, "within_days": 1},
                ]
            },
        ),
        (
            "no_purchase_90d",
            "ไม่ได้ซื้อ 90 วัน",
            "Bought before, but nothing in the last 90 days",
            {
                "all": [
                    {"computed": "order_count", "op": "gte", "value": 1},
                    {"event": "Order Completed", "did": False, "within_days": 90},
                ]
            },
        ),
        (
            "bought_serum",
            "เคยซื้อเซรั่ม",
            "Ever bought the category serum (copy it for any other category)",
            {"computed": "bought_category", "op": "eq", "value": "serum"},
        ),
        (
            "vip_by_spend",
            "VIP ตามยอดซื้อ",
            f"Spent {vip_spend:,.0f} or more in total",
            {"computed": "total_spent", "op": "gte", "value": vip_spend},
        ),
        (
            "birthday_this_month",
            "เกิดเดือนนี้",
            "Birthday in this calendar month, Asia/Bangkok",
            {"trait": "birthday", "op": "anniversary_this_month"},
        ),
        (
            "inactive_line_followers",
            "เพื่อน LINE ที่ไม่มีความเคลื่อนไหว 60 วัน",
            "Linked to LINE, with no event at all for 60 days",
            {
                "all": [
                    {"identity": "line_user_id"},
                    {"event": "*", "did": False, "within_days": 60},
                ]
            },
        ),
    ]
    return segments

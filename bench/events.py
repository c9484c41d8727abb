"""Synthetic Segment traffic for the benchmarks: identifies and e-commerce tracks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

CATEGORIES = ["serum", "cleanser", "sunscreen", "makeup", "haircare", "supplements"]


def batches(
    *, count: int, size: int = 100, people: int = 20_000, seed: int = 7
) -> list[list[dict[str, Any]]]:
    """Return ``count`` batches of ``size`` messages spread over ``people`` customers."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    n = 0
    for _ in range(count):
        batch = []
        for _ in range(size):
            n += 1
            person = rng.randrange(people)
            at = (start + timedelta(seconds=n * 7)).isoformat()
            kind = rng.random()
            if kind < 0.15:
                msg: dict[str, Any] = {
                    "type": "identify",
                    "userId": f"M{person:07d}",
                    "anonymousId": f"anon-{person}-{rng.randrange(3)}",
                    "traits": {
                        "name": f"ลูกค้า {person}",
                        "email": f"c{person}@example.co.th",
                        "phone": f"08{person % 10}{person:07d}",
                    },
                }
            elif kind < 0.25:
                price = rng.choice([159, 390, 590, 990, 1290, 2590])
                msg = {
                    "type": "track",
                    "userId": f"M{person:07d}",
                    "event": "Order Completed",
                    "properties": {
                        "order_id": f"o{n}",
                        "total": price,
                        "currency": "THB",
                        "products": [
                            {
                                "product_id": f"p{price}",
                                "price": price,
                                "quantity": 1,
                                "category": rng.choice(CATEGORIES),
                            }
                        ],
                    },
                }
            else:
                msg = {
                    "type": "track",
                    "anonymousId": f"anon-{person}-{rng.randrange(3)}",
                    "event": "Product Viewed",
                    "properties": {
                        "product_id": f"p{rng.randrange(60)}",
                        "category": rng.choice(CATEGORIES),
                        "price": 590,
                    },
                    "context": {"page": {"path": "/products"}, "locale": "th-TH"},
                }
            msg["messageId"] = f"bench-{seed}-{n}"
            msg["timestamp"] = at
            batch.append(msg)
        out.append(batch)
    return out

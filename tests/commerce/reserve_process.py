"""A separate process that checks carts out as fast as it can; run by test_concurrency.

Usage: python -m tests.commerce.reserve_process DATABASE_URL DATA_DIR NAME COUNT START_FILE
Prints one JSON line: the orders placed and the checkouts refused for lack of stock.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
from pathlib import Path

from sampan.commerce import service as commerce
from sampan.commerce.schemas import CartItemSet, CartOpen, CheckoutIn
from sampan.runtime import Runtime
from sampan.settings import Settings

SKUS = ("SERUM-C", "SERUM-N", "SUN-50")
ADDRESS = {"name": "ลูกค้า", "line1": "ลาดพร้าว", "latitude": 13.82, "longitude": 100.565}


def main() -> None:
    url, data_dir, name, count, start_file = sys.argv[1:6]
    runtime = Runtime.from_settings(Settings(data_dir=Path(data_dir), database_url=url))
    env = runtime.commerce_env()
    rule = env.settings.routing.model_copy(update={"allow_backorder": False})
    # Half the processes hold units as soon as they are added to the cart.
    reserve_at = "cart" if int(name[1:]) % 2 else "checkout"
    settings = env.settings.model_copy(update={"routing": rule, "reserve_at": reserve_at})
    env = dataclasses.replace(env, settings=settings)
    chooser = random.Random(name)
    while not Path(start_file).exists():
        time.sleep(0.005)
    placed: list[dict[str, object]] = []
    refused = 0
    for number in range(int(count)):
        # Carts of one to three SKUs added in a random order.
        skus = chooser.sample(SKUS, chooser.randint(1, 3))
        try:
            # One transaction per request, as the API does it.
            customer = {"anonymous_id": f"{name}-{number}"}
            with runtime.db.transaction() as session:
                cart = commerce.open_cart(session, CartOpen(customer=customer, channel="web"), env)
            for sku in skus:
                item = CartItemSet(quantity=chooser.randint(1, 2), channel="web")
                with runtime.db.transaction() as session:
                    commerce.set_item(session, cart.id, sku, item, env)
            method = chooser.choice(["delivery", "in_store"])
            checkout = CheckoutIn.model_validate(
                {
                    "channel": "web",
                    "method": method,
                    "address": ADDRESS if method == "delivery" else None,
                    "location_id": "BKK01" if method == "in_store" else None,
                }
            )
            with runtime.db.transaction() as session:
                order = commerce.checkout(session, cart.id, checkout, None, env)
            placed.append(
                {
                    "id": order.id,
                    "lines": [[ln.sku, ln.location_id, ln.quantity] for ln in order.lines],
                }
            )
        except commerce.OutOfStock:
            refused += 1
    runtime.dispose()
    sys.stdout.write(json.dumps({"placed": placed, "refused": refused}) + "\n")


if __name__ == "__main__":
    main()

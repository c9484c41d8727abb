"""Hundreds of checkouts from several processes at once never sell a unit twice.

Half the processes hold units when they are added to the cart, half only at checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from tests.commerce.conftest import Shop

PROCESSES = 4
CHECKOUTS = 60
STOCK = {("BKK01", "SERUM-C"): 20, ("BKK04", "SERUM-C"): 15, ("WH1", "SERUM-N"): 25}
STOCK |= {("BKK01", "SUN-50"): 10, ("BKK04", "SUN-50"): 5, ("BKK01", "SERUM-N"): 6}


def test_concurrent_checkouts_from_several_processes_never_oversell(
    shop: Shop, tmp_path: Path
) -> None:
    shop.stock(*((loc, sku, "receipt", units) for (loc, sku), units in STOCK.items()))
    url = shop.ws.runtime.settings.resolved_database_url()
    start = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.commerce.reserve_process",
                url,
                str(tmp_path),
                f"p{n}",
                str(CHECKOUTS),
                str(start),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(1.5)  # let every process import and connect before the start
    start.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    placed = [order for result in results for order in result["placed"]]
    refused = sum(result["refused"] for result in results)
    assert len(placed) + refused == PROCESSES * CHECKOUTS
    assert refused > 0, "the stock was meant to run out"
    sold: Counter[tuple[str, str]] = Counter()
    for order in placed:
        for sku, location, quantity in order["lines"]:
            assert location is not None
            sold[(location, sku)] += quantity
    with shop.ws.runtime.db.reading() as session:
        rows = session.execute(
            text("SELECT location_id, sku, on_hand, reserved FROM commerce_stock")
        ).all()
        active = dict(
            session.execute(
                text(
                    "SELECT location_id || '/' || sku, SUM(quantity) FROM commerce_reservations"
                    " WHERE status = 'active' GROUP BY location_id, sku"
                )
            ).all()
        )
        # Units held for orders; carts that were refused at checkout may hold some too.
        for_orders = dict(
            session.execute(
                text(
                    "SELECT location_id || '/' || sku, SUM(quantity) FROM commerce_reservations"
                    " WHERE status = 'active' AND holder LIKE 'order:%' GROUP BY location_id, sku"
                )
            ).all()
        )
    for location, sku, on_hand, reserved in rows:
        start_units = STOCK.get((location, sku), 0)
        # In-store orders took units off the shelf; delivery orders hold theirs.
        assert 0 <= reserved <= on_hand, (location, sku, on_hand, reserved)
        assert reserved == active.get(f"{location}/{sku}", 0)
        held = for_orders.get(f"{location}/{sku}", 0)
        assert (start_units - on_hand) + held == sold[(location, sku)], (location, sku)
        assert sold[(location, sku)] <= start_units

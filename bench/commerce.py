"""Commerce: reservations per second on one hot SKU and on 500,000 stock rows, zero oversell.

1. Hot SKU. One (location, SKU) gets ``--hot-units`` units through ``stock.apply_changes``
   (a receipt). ``--clients`` threads, each with its own sessions from one Database, hold
   one unit at a time with ``stock.hold`` (a cart hold expiring in 30 minutes), each in its
   own transaction, until refused. Afterwards: holds granted = units, refusals = clients,
   reserved = on hand, and as many active reservations as units.
2. Spread. ``--branches`` locations x ``--skus`` SKUs (500,000 stock rows by default) with
   20 units each. The same clients run ``--ops`` holds in all, each of one or two random keys
   of 1-3 units, one transaction each. Afterwards, by SQL aggregates over every row: no key
   has more reserved than on hand, and each key's reserved equals the units of its active
   reservations.

The comparison, in the same run with the same threads and the same transaction per
operation, is a plain loop of ``UPDATE commerce_stock SET reserved = reserved + q WHERE
location_id = ? AND sku = ?``: no availability guard, no reservation row. It runs as many
transactions as ours, with the same quantities, on a mirror of ours' keys in the same table
(its own hot SKU; ``p-branch-NN`` beside ``branch-NN``), so on the hot SKU it oversells by
exactly the refusals ours made. Ratio = our transactions/s / plain ones.

The fsync rate of a shared disk swings several-fold within seconds, so each measurement is
cut into ``--slices`` slices run ours, plain, plain, ours, ... (the hot SKU's last slice
holds until refused); a rate is operations over the summed time of its slices. Every
repetition starts from the same stock; figures are medians of ``--repeat``.

This process is pinned to core 0. SQLite runs with synchronous=FULL (an fsync per commit),
as every figure in docs/benchmarks.md. With --postgres-url (or SAMPAN_TEST_POSTGRES_URL) the
run is repeated on PostgreSQL, whose public schema is DROPPED and recreated; there the clients
get a pool of one connection each.

Usage: python -m bench.commerce [--hot-units 2000] [--skus 10000] [--branches 50]
[--ops 6400] [--clients 32] [--slices 8] [--repeat 3] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, create_engine, insert, text, update
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import pin_self
from sampan.cli.process import tune_garbage_collector
from sampan.commerce import stock
from sampan.commerce.models import Stock
from sampan.commerce.schemas import StockChange
from sampan.db.engine import Database, connect
from sampan.db.migrate import upgrade

UNITS_PER_ROW = 20
HOLD_FOR = timedelta(minutes=30)
INSERT_CHUNK = 10_000
_stock = cast(Table, Stock.__table__)

Key = tuple[str, str]
Op = dict[Key, int]


# -- the databases ------------------------------------------------------------------------------


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def open_database(url: str, clients: int) -> Database:
    if url.startswith("sqlite"):
        # One writer at a time anyway: the clients queue on the Database's write lock.
        return connect(url)
    # connect() pools 16 connections; give each client its own, as 32 shoppers would have.
    engine = create_engine(url, pool_size=clients + 2, max_overflow=0, pool_pre_ping=True)
    factory = sessionmaker(engine, expire_on_commit=False)
    return Database(engine=engine, sessions=factory, read_sessions=factory)


def receive(db: Database, keys: Sequence[Key], units: int) -> None:
    """Put ``units`` of each key on the shelf through the stock API, in one transaction."""
    now = datetime.now(UTC)
    changes = [
        StockChange(location_id=location, sku=sku, kind="receipt", quantity=units)
        for location, sku in keys
    ]
    with db.transaction() as session:
        stock.apply_changes(session, changes, now)


def stock_rows(db: Database, keys: Sequence[Key]) -> None:
    """Write these stock rows with UNITS_PER_ROW units each straight into commerce_stock.

    apply_changes does an UPDATE, a ledger row and an emptiness check per change: fine for
    a till, but about 0.35 ms a change here, so a million rows would take 6 minutes of setup.
    """
    now = datetime.now(UTC)
    with db.transaction() as session:
        for start in range(0, len(keys), INSERT_CHUNK):
            session.execute(
                insert(_stock),
                [
                    {
                        "location_id": location,
                        "sku": sku,
                        "on_hand": UNITS_PER_ROW,
                        "reserved": 0,
                        "incoming": 0,
                        "updated_at": now,
                    }
                    for location, sku in keys[start : start + INSERT_CHUNK]
                ],
            )
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE commerce_stock"))
            conn.commit()


def clear(db: Database) -> None:
    """Put the spread stock back as it was: nothing reserved, no reservation rows."""
    with db.transaction() as session:
        session.execute(text("UPDATE commerce_stock SET reserved = 0 WHERE reserved <> 0"))
        session.execute(text("DELETE FROM commerce_reservations"))


# -- clients ------------------------------------------------------------------------------------


@dataclass
class Tally:
    transactions: int = 0
    holds: int = 0  # transactions whose units were all granted
    units: int = 0  # units granted (ours) or added to reserved (plain)
    refused: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    seconds: float
    tally: Tally
    cpu: float = 0.0  # CPU seconds of this process (every thread) meanwhile

    @property
    def per_s(self) -> float:
        return self.tally.transactions / self.seconds

    @property
    def holds_per_s(self) -> float:
        return self.tally.holds / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU microseconds of this process per transaction."""
        return self.cpu / self.tally.transactions * 1e6


Client = Callable[[int, Tally], None]


def merged(outcomes: Sequence[Outcome]) -> Outcome:
    total = Tally()
    for outcome in outcomes:
        tally = outcome.tally
        total.transactions += tally.transactions
        total.holds += tally.holds
        total.units += tally.units
        total.refused += tally.refused
        total.errors.extend(tally.errors)
    seconds = sum(outcome.seconds for outcome in outcomes)
    return Outcome(seconds, total, sum(outcome.cpu for outcome in outcomes))


def run_clients(clients: int, client: Client) -> Outcome:
    """Run ``client(index, tally)`` on that many threads started together; time them."""
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def body(index: int) -> None:
        start.wait()
        try:
            client(index, tallies[index])
        except Exception:  # noqa: BLE001 - reported with the figures, never swallowed
            tallies[index].errors.append(traceback.format_exc())

    threads = [threading.Thread(target=body, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    cpu = time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    total = merged([Outcome(0.0, tally) for tally in tallies])
    return Outcome(elapsed, total.tally, time.process_time() - cpu)


def hold_once(db: Database, holder: str, op: Op, tally: Tally) -> bool:
    """Hold ``op`` for ``holder`` in one transaction; return False when refused."""
    now = datetime.now(UTC)
    tally.transactions += 1
    try:
        with db.transaction() as session:
            stock.hold(session, holder=holder, wanted=op, expires_at=now + HOLD_FOR, now=now)
    except stock.OutOfStock:
        tally.refused += 1
        return False
    tally.holds += 1
    tally.units += sum(op.values())
    return True


def plain_once(db: Database, op: Op, tally: Tally) -> None:
    """The same operation as a bare UPDATE per key: no guard, no reservation row."""
    tally.transactions += 1
    with db.transaction() as session:
        for (location, sku), quantity in sorted(op.items()):
            session.execute(
                update(_stock)
                .where(_stock.c.location_id == location, _stock.c.sku == sku)
                .values(reserved=_stock.c.reserved + quantity)
            )
    tally.holds += 1
    tally.units += sum(op.values())


# -- checks -------------------------------------------------------------------------------------


def one(session: Session, sql: str, **params: object) -> int:
    return int(session.execute(text(sql), params).scalar() or 0)


def check_hot(db: Database, key: Key, units: int, clients: int, tally: Tally) -> int:
    """Assert that the hot SKU was held exactly to its last unit; return units oversold."""
    location, sku = key
    with db.reading() as session:
        on_hand, reserved = stock.totals(session)[key]
        active, active_units = session.execute(
            text(
                "SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM commerce_reservations "
                "WHERE location_id = :location AND sku = :sku AND status = 'active'"
            ),
            {"location": location, "sku": sku},
        ).one()
    problems = []
    if tally.holds != units:
        problems.append(f"{tally.holds} holds granted for {units} units")
    if tally.refused != clients:
        problems.append(f"{tally.refused} refusals, expected one per client ({clients})")
    if (on_hand, reserved) != (units, units):
        problems.append(f"on hand {on_hand}, reserved {reserved}, expected {units} each")
    if (active, active_units) != (units, units):
        problems.append(f"{active} active reservations of {active_units} units, expected {units}")
    if problems:
        raise AssertionError(f"hot SKU {key}: " + "; ".join(problems))
    return max(0, reserved - on_hand)


def check_spread(db: Database, tally: Tally) -> int:
    """Assert that every key's reserved is backed by stock and by reservations; return oversold.

    Over ours' rows (``branch-NN``) only: the plain loop's mirror has no reservations.
    """
    with db.reading() as session:
        over = one(
            session,
            "SELECT COUNT(*) FROM commerce_stock WHERE location_id LIKE 'branch-%' "
            "AND reserved > on_hand",
        )
        reserved = one(
            session,
            "SELECT COALESCE(SUM(reserved), 0) FROM commerce_stock "
            "WHERE location_id LIKE 'branch-%'",
        )
        held = one(
            session,
            "SELECT COALESCE(SUM(quantity), 0) FROM commerce_reservations "
            "WHERE status = 'active' AND location_id LIKE 'branch-%'",
        )
        mismatched = one(
            session,
            "SELECT COUNT(*) FROM commerce_stock s LEFT JOIN ("
            " SELECT location_id, sku, SUM(quantity) AS units FROM commerce_reservations"
            " WHERE status = 'active' GROUP BY location_id, sku"
            ") r ON r.location_id = s.location_id AND r.sku = s.sku "
            "WHERE s.location_id LIKE 'branch-%' AND s.reserved <> COALESCE(r.units, 0)",
        )
    problems = []
    if over:
        problems.append(f"{over} keys hold more than they have on hand")
    if mismatched:
        problems.append(f"{mismatched} keys' reserved differ from their active reservations")
    if not reserved == held == tally.units:
        problems.append(
            f"reserved {reserved}, active reservations {held}, units granted {tally.units}"
        )
    if problems:
        raise AssertionError("spread: " + "; ".join(problems))
    return 0


def check_plain(db: Database, tally: Tally, where: str, **params: object) -> int:
    """Check that the plain loop lost no update; return the units it oversold."""
    with db.reading() as session:
        reserved, over = session.execute(
            text(
                "SELECT COALESCE(SUM(reserved), 0), "
                "COALESCE(SUM(CASE WHEN reserved > on_hand THEN reserved - on_hand END), 0) "
                f"FROM commerce_stock WHERE {where}"
            ),
            params,
        ).one()
    if reserved != tally.units:
        raise AssertionError(f"plain loop: reserved {reserved}, units added {tally.units}")
    return int(over)


# -- scenarios ----------------------------------------------------------------------------------


@dataclass
class Figure:
    ours: Outcome
    plain: Outcome
    oversold: int
    plain_oversold: int

    @property
    def ratio(self) -> float:
        return self.ours.per_s / self.plain.per_s


def shares(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal whole shares."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def interleaved(
    clients: int, slices: int, ours: Callable[[int], Client], plain: Callable[[int], Client]
) -> tuple[Outcome, Outcome]:
    """Run slice k of ours and of plain (``ours(k)``, ``plain(k)``) in turns; sum each side.

    The order flips every slice (ours, plain, plain, ours, ...), so a slow spell of the
    disk lands on both sides alike.
    """
    measured: dict[str, list[Outcome]] = {"ours": [], "plain": []}
    for k in range(slices):
        order = [("ours", ours(k)), ("plain", plain(k))]
        for name, client in order if k % 2 == 0 else order[::-1]:
            outcome = run_clients(clients, client)
            if outcome.tally.errors:
                raise RuntimeError(
                    f"{name}, slice {k}: {len(outcome.tally.errors)} clients failed; "
                    f"the first:\n{outcome.tally.errors[0]}"
                )
            measured[name].append(outcome)
    return merged(measured["ours"]), merged(measured["plain"])


def hot_sku(db: Database, run: int, units: int, clients: int, slices: int) -> Figure:
    """Hold every unit of a fresh hot key, one per transaction; plain on its own hot key."""
    ours_key = ("hot-branch", f"HOT-{run}")
    plain_key = ("p-hot-branch", f"HOT-{run}")
    receive(db, [ours_key, plain_key], units)
    # Each slice but the last takes its share of the units; the last holds until refused.
    per_slice = shares(units, slices)

    def ours(k: int) -> Client:
        def client(index: int, tally: Tally) -> None:
            if k < slices - 1:
                for i in range(shares(per_slice[k], clients)[index]):
                    hold_once(db, f"cart:hot{run}-{k}-{index}-{i}", {ours_key: 1}, tally)
                return
            i = 0
            while hold_once(db, f"cart:hot{run}-{k}-{index}-{i}", {ours_key: 1}, tally):
                i += 1

        return client

    def plain(k: int) -> Client:
        # As many as ours tries: the last slice's units and one refusal per client.
        count = per_slice[k] + (clients if k == slices - 1 else 0)

        def client(index: int, tally: Tally) -> None:
            for _ in range(shares(count, clients)[index]):
                plain_once(db, {plain_key: 1}, tally)

        return client

    measured_ours, measured_plain = interleaved(clients, slices, ours, plain)
    return Figure(
        measured_ours,
        measured_plain,
        check_hot(db, ours_key, units, clients, measured_ours.tally),
        check_plain(
            db,
            measured_plain.tally,
            "location_id = :location AND sku = :sku",
            location=plain_key[0],
            sku=plain_key[1],
        ),
    )


def spread_ops(run: int, keys: Sequence[Key], ops: int, clients: int) -> list[list[Op]]:
    """Seeded random holds, dealt round-robin to the clients: one or two keys of 1-3 units."""
    rng = random.Random(run)
    dealt: list[list[Op]] = [[] for _ in range(clients)]
    for i in range(ops):
        picked = rng.sample(keys, 2) if rng.random() < 0.5 else [rng.choice(keys)]
        dealt[i % clients].append({key: rng.randint(1, 3) for key in picked})
    return dealt


def mirrored(op: Op) -> Op:
    return {("p-" + location, sku): quantity for (location, sku), quantity in op.items()}


def spread(
    db: Database, run: int, keys: Sequence[Key], ops: int, clients: int, slices: int
) -> Figure:
    """Random holds over every branch; plain does the same on the mirror rows."""
    dealt = spread_ops(run, keys, ops, clients)

    def cut(index: int, k: int) -> list[Op]:
        mine = dealt[index]
        edges = [0, *itertools.accumulate(shares(len(mine), slices))]
        return mine[edges[k] : edges[k + 1]]

    def ours(k: int) -> Client:
        def client(index: int, tally: Tally) -> None:
            for i, op in enumerate(cut(index, k)):
                hold_once(db, f"cart:spread{run}-{k}-{index}-{i}", op, tally)

        return client

    def plain(k: int) -> Client:
        def client(index: int, tally: Tally) -> None:
            for op in cut(index, k):
                plain_once(db, mirrored(op), tally)

        return client

    measured_ours, measured_plain = interleaved(clients, slices, ours, plain)
    figure = Figure(
        measured_ours,
        measured_plain,
        check_spread(db, measured_ours.tally),
        check_plain(db, measured_plain.tally, "location_id LIKE 'p-branch-%'"),
    )
    clear(db)
    return figure


# -- the run ------------------------------------------------------------------------------------


def line(figure: Figure, name: str, backend: str, runs: int = 0) -> str:
    label = f"{name}, {backend}" + (f" run {runs}" if runs else "")
    return (
        f"{label}: {figure.ours.holds_per_s:,.0f} holds/s vs {figure.plain.per_s:,.0f} plain "
        f"UPDATEs/s (ratio {figure.ratio:.2f}), oversold {figure.oversold:,} "
        f"(plain: {figure.plain_oversold:,}), refused {figure.ours.tally.refused:,}, "
        f"CPU {figure.ours.cpu_us:,.0f} vs {figure.plain.cpu_us:,.0f} us per transaction"
    )


def run_backend(backend: str, url: str, args: argparse.Namespace) -> dict[str, list[Figure]]:
    db = open_database(url, args.clients)
    results: dict[str, list[Figure]] = {"hot SKU": [], "spread": []}
    try:
        branches = [f"branch-{b:02d}" for b in range(1, args.branches + 1)]
        skus = [f"SKU-{s:05d}" for s in range(1, args.skus + 1)]
        keys = [(branch, sku) for branch in branches for sku in skus]
        started = time.perf_counter()
        stock_rows(db, [*keys, *(("p-" + branch, sku) for branch, sku in keys)])
        print(
            f"{backend}: {2 * len(keys):,} stock rows (ours and the plain loop's mirror) "
            f"written in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        tune_garbage_collector()
        for run in range(args.repeat):
            figure = hot_sku(db, run, args.hot_units, args.clients, args.slices)
            results["hot SKU"].append(figure)
            print("  " + line(figure, "hot SKU", backend, run + 1), flush=True)
            figure = spread(db, run, keys, args.ops, args.clients, args.slices)
            results["spread"].append(figure)
            print("  " + line(figure, "spread", backend, run + 1), flush=True)
    finally:
        db.dispose()
    return results


def report(backend: str, results: dict[str, list[Figure]]) -> None:
    for name, figures in results.items():
        ours = statistics.median(f.ours.holds_per_s for f in figures)
        attempts = statistics.median(f.ours.per_s for f in figures)
        plain = statistics.median(f.plain.per_s for f in figures)
        ratio = statistics.median(f.ratio for f in figures)
        over = max(f.oversold for f in figures)
        plain_over = statistics.median(f.plain_oversold for f in figures)
        refused = statistics.median(f.ours.tally.refused for f in figures)
        ours_cpu = statistics.median(f.ours.cpu_us for f in figures)
        plain_cpu = statistics.median(f.plain.cpu_us for f in figures)
        print(
            f"{name}, {backend}: {ours:,.0f} holds/s vs {plain:,.0f} plain UPDATEs/s "
            f"(ratio {ratio:.2f}), oversold {over:,} (plain: {plain_over:,.0f})\n"
            f"  our transactions/s incl. {refused:,.0f} refusals: {attempts:,.0f}; CPU of "
            f"this process per transaction: {ours_cpu:,.0f} us vs {plain_cpu:,.0f} us plain"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hot-units", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--ops", type=int, default=6400, help="holds per spread measurement")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--slices", type=int, default=8, help="turns of ours and plain")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SAMPAN_TEST_POSTGRES_URL", "").strip() or None,
        help="also run on this PostgreSQL database (its public schema is dropped first)",
    )
    args = parser.parse_args(argv)
    pin_self(0)
    tmp = Path(tempfile.mkdtemp(prefix="sampan-bench-commerce-"))
    backends = [("sqlite", f"sqlite:///{tmp / 'sampan.db'}")]
    if args.postgres_url:
        backends.append(("postgresql", args.postgres_url))
    else:
        print("PostgreSQL skipped (no --postgres-url or SAMPAN_TEST_POSTGRES_URL)")
    try:
        results = {}
        for backend, url in backends:
            if backend == "postgresql":
                reset_postgres(url)
            upgrade(url)
            results[backend] = run_backend(backend, url, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\nMedians of {args.repeat} runs; {args.clients} client threads, one transaction per "
        f"hold, {args.slices} alternating slices; this process on core 0.\n"
        f"hot SKU: {args.hot_units:,} units of one SKU held one by one until refused; spread: "
        f"{args.ops:,} holds of 1-2 keys x 1-3 units over {args.branches} branches x "
        f"{args.skus:,} SKUs ({UNITS_PER_ROW} units each).\n"
        "ratio = our transactions/s / plain ones (same count, same quantities); oversold = "
        "units reserved beyond on hand (ours: the worst run; plain: median)."
    )
    for backend, figures in results.items():
        report(backend, figures)


if __name__ == "__main__":
    main()

"""Stock per location: holds that cannot oversell, and a ledger of every unit moved.

Every change of a stock row is one guarded UPDATE. Holds go through
``reserved = reserved + q WHERE on_hand - reserved >= q``, so two buyers of the last unit
cannot both succeed: SQLite runs writers one at a time, and PostgreSQL re-checks the WHERE
clause on the locked row. On PostgreSQL a function that changes several rows first locks
the stock rows it will touch, in (location, SKU) order, and only then the holds of those
rows, so two transactions never wait on each other in a circle. Nothing here commits: a
refusal raises, and the caller's transaction takes every change of the request back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from sampan.commerce.models import Movement, Reservation, Stock, Transfer
from sampan.commerce.schemas import StockChange, StockLevel, TransferIn, TransferOut
from sampan.core.errors import Conflict, NotFound
from sampan.core.ids import new_id
from sampan.db.rows import affected_rows
from sampan.db.upsert import insert_ignoring_duplicates

Key = tuple[str, str]  # (location id, SKU)

_stock = cast(Table, Stock.__table__)
_holds = cast(Table, Reservation.__table__)


class OutOfStock(Conflict):
    """Fewer units are available than asked for; ``details`` say where there are some."""


def levels(session: Session, keys: Iterable[Key]) -> list[StockLevel]:
    """Return the stock of each (location, SKU), zero for keys never stocked."""
    wanted = sorted(set(keys))
    found: dict[Key, StockLevel] = {}
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        rows = session.execute(
            select(_stock).where(tuple_(_stock.c.location_id, _stock.c.sku).in_(chunk))
        )
        for row in rows:
            found[(row.location_id, row.sku)] = _level(row)
    return [found.get(key) or _empty(key) for key in wanted]


def levels_of(session: Session, skus: Sequence[str]) -> list[StockLevel]:
    """Return the stock of these SKUs at every location that ever held them."""
    rows = session.execute(
        select(_stock).where(_stock.c.sku.in_(skus)).order_by(_stock.c.sku, _stock.c.location_id)
    )
    return [_level(row) for row in rows]


def level_rows(
    session: Session, *, location_id: str | None, sku: str | None, limit: int, offset: int
) -> list[StockLevel]:
    """Return stock rows by location and SKU, optionally of one location or SKU."""
    query = select(_stock).order_by(_stock.c.location_id, _stock.c.sku).limit(limit).offset(offset)
    if location_id is not None:
        query = query.where(_stock.c.location_id == location_id)
    if sku is not None:
        query = query.where(_stock.c.sku == sku)
    return [_level(row) for row in session.execute(query)]


def hold(
    session: Session,
    *,
    holder: str,
    wanted: Mapping[Key, int],
    expires_at: datetime | None,
    now: datetime,
    replaces: str | None = None,
) -> None:
    """Make ``holder`` hold exactly ``wanted``, giving up what ``replaces`` held.

    Units already held by ``replaces`` (the same holder, or the cart an order comes from)
    count towards ``wanted``, so changing a cart or turning it into an order never needs
    stock twice. Holds past their expiry are released when their units are needed.
    Raises OutOfStock, naming every short SKU, when a key lacks units.
    """
    before: dict[Key, int] = defaultdict(int)
    if replaces is not None:
        lock(session, set(wanted) | set(held_by(session, [replaces])[replaces]))
        # Locked, so a sweeper cannot expire them between this count and their replacement.
        for row in session.execute(
            select(_holds.c.location_id, _holds.c.sku, _holds.c.quantity)
            .where(_holds.c.holder == replaces, _holds.c.status == "active")
            .with_for_update()
        ):
            before[(row.location_id, row.sku)] += row.quantity
    elif len(wanted) > 1:
        # One row needs no ordering: its guarded UPDATE takes the only lock.
        lock(session, set(wanted))
    short: list[tuple[Key, int, int]] = []
    for key in sorted(set(before) | set(wanted)):
        delta = wanted.get(key, 0) - before.get(key, 0)
        if delta > 0 and not _take(session, key, delta, now, keep=replaces):
            available = _available(session, key)
            short.append((key, wanted[key], available + before.get(key, 0)))
        elif delta < 0:
            _give_back(session, key, -delta, now)
    if short:
        raise OutOfStock(_short_message(short), details={"short": shortage(session, short)})
    if replaces is not None:
        ended = "converted" if replaces != holder else "released"
        session.execute(
            update(_holds)
            .where(_holds.c.holder == replaces, _holds.c.status == "active")
            .values(status=ended, ended_at=now)
        )
    rows = [
        {
            "id": new_id("rsv"),
            "holder": holder,
            "location_id": location,
            "sku": sku,
            "quantity": quantity,
            "status": "active",
            "expires_at": expires_at,
            "created_at": now,
        }
        for (location, sku), quantity in sorted(wanted.items())
        if quantity > 0
    ]
    if rows:
        session.execute(insert(_holds), rows)


def release(session: Session, *, holder: str, now: datetime, status: str = "released") -> int:
    """Give back every unit ``holder`` holds; return how many."""
    lock(session, set(held_by(session, [holder])[holder]))
    ended = session.execute(
        update(_holds)
        .where(_holds.c.holder == holder, _holds.c.status == "active")
        .values(status=status, ended_at=now)
        .returning(_holds.c.location_id, _holds.c.sku, _holds.c.quantity)
    ).all()
    freed: dict[Key, int] = defaultdict(int)
    for row in ended:
        freed[(row.location_id, row.sku)] += row.quantity
    for key in sorted(freed):
        _give_back(session, key, freed[key], now)
    return sum(freed.values())


def lock(session: Session, keys: Iterable[Key]) -> None:
    """Lock these stock rows in (location, SKU) order; PostgreSQL only, SQLite has one writer."""
    wanted = sorted(set(keys))
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        session.execute(
            select(_stock.c.location_id)
            .where(tuple_(_stock.c.location_id, _stock.c.sku).in_(chunk))
            .order_by(_stock.c.location_id, _stock.c.sku)
            .with_for_update()
        ).all()


def held_by(session: Session, holders: Sequence[str]) -> dict[str, dict[Key, int]]:
    """Return the units each holder holds now, by (location, SKU)."""
    result: dict[str, dict[Key, int]] = {holder: defaultdict(int) for holder in holders}
    for row in session.execute(
        select(_holds.c.holder, _holds.c.location_id, _holds.c.sku, _holds.c.quantity).where(
            _holds.c.holder.in_(holders), _holds.c.status == "active"
        )
    ):
        result[row.holder][(row.location_id, row.sku)] += row.quantity
    return result


def earliest_expiry(session: Session, holder: str) -> datetime | None:
    """Return when the first of the holder's holds lapses, if any does."""
    first: datetime | None = session.scalar(
        select(func.min(_holds.c.expires_at)).where(
            _holds.c.holder == holder, _holds.c.status == "active"
        )
    )
    return first


def expire(
    session: Session, *, now: datetime, key: Key | None = None, keep: str | None = None
) -> int:
    """Release holds past their expiry (of one key, or all); return the units freed.

    The holds of ``keep`` stay: they are being replaced in this transaction.
    """
    where = and_(_holds.c.status == "active", _holds.c.expires_at < now)
    if key is not None:
        lock(session, {key})  # the stock row before its holds, as everywhere
        where = and_(where, _holds.c.location_id == key[0], _holds.c.sku == key[1])
    if keep is not None:
        where = and_(where, _holds.c.holder != keep)
    if key is None:
        lapsed = session.execute(
            select(_holds.c.location_id, _holds.c.sku).where(where).distinct()
        ).all()
        keys = {(row.location_id, row.sku) for row in lapsed}
        lock(session, keys)
        where = and_(where, tuple_(_holds.c.location_id, _holds.c.sku).in_(sorted(keys)))
    ended = session.execute(
        update(_holds)
        .where(where)
        .values(status="expired", ended_at=now)
        .returning(_holds.c.location_id, _holds.c.sku, _holds.c.quantity)
    ).all()
    freed: dict[Key, int] = defaultdict(int)
    for row in ended:
        freed[(row.location_id, row.sku)] += row.quantity
    for each in sorted(freed):
        _give_back(session, each, freed[each], now)
    return sum(freed.values())


def sell_held(
    session: Session, *, holder: str, key: Key, quantity: int, reference: str, now: datetime
) -> None:
    """Sell units the holder held: on hand and held both go down, logged as a sale."""
    remaining = quantity
    for row in session.execute(
        select(_holds.c.id, _holds.c.quantity)
        .where(
            _holds.c.holder == holder,
            _holds.c.status == "active",
            _holds.c.location_id == key[0],
            _holds.c.sku == key[1],
        )
        .order_by(_holds.c.id)
    ).all():
        if remaining == 0:
            break
        used = min(remaining, row.quantity)
        remaining -= used
        if used == row.quantity:
            values: dict[str, Any] = {"status": "fulfilled", "ended_at": now}
        else:
            values = {"quantity": row.quantity - used}
        session.execute(update(_holds).where(_holds.c.id == row.id).values(**values))
    if remaining:
        raise Conflict(
            f"{holder} holds {quantity - remaining} x {key[1]} at {key[0]}, not {quantity}"
        )
    after = session.execute(
        update(_stock)
        .where(
            _stock.c.location_id == key[0],
            _stock.c.sku == key[1],
            _stock.c.reserved >= quantity,
            _stock.c.on_hand >= quantity,
        )
        .values(
            on_hand=_stock.c.on_hand - quantity,
            reserved=_stock.c.reserved - quantity,
            updated_at=now,
        )
        .returning(_stock.c.on_hand)
    ).scalar()
    if after is None:
        raise Conflict(f"{key[0]} has fewer than {quantity} x {key[1]} on hand to hand over")
    _log(session, key, "sale", -quantity, after, reference, None, now)


def apply_changes(session: Session, changes: Sequence[StockChange], now: datetime) -> list[Key]:
    """Apply till or ERP changes in (location, SKU) order; return the keys now in stock again.

    A sale or negative adjustment may not take more than is available (units on hand and not
    held); a count is the truth of the shelf and is taken as it is.
    """
    keys = {(c.location_id, c.sku) for c in changes}
    _ensure_rows(session, keys, now)
    lock(session, keys)
    was_empty = _empty_keys(session, keys)
    refused = []
    for change in sorted(changes, key=lambda c: (c.location_id, c.sku)):
        key = (change.location_id, change.sku)
        if change.kind == "count":
            delta = change.quantity - _on_hand(session, key)
            after = session.execute(
                update(_stock)
                .where(_stock.c.location_id == key[0], _stock.c.sku == key[1])
                .values(on_hand=change.quantity, updated_at=now)
                .returning(_stock.c.on_hand)
            ).scalar_one()
        else:
            delta = -change.quantity if change.kind == "sale" else change.quantity
            after = _move(session, key, delta, now)
            if after is None and expire(session, now=now, key=key):
                after = _move(session, key, delta, now)
            if after is None:
                refused.append((key, -delta, _available(session, key)))
                continue
        _log(session, key, change.kind, delta, after, change.reference, change.note, now)
    if refused:
        raise OutOfStock(_short_message(refused), details={"short": shortage(session, refused)})
    return sorted(was_empty - _empty_keys(session, keys))


def receive(
    session: Session, *, key: Key, quantity: int, kind: str, reference: str | None, now: datetime
) -> int:
    """Put units on the shelf (receipt, return, transfer in); return units on hand after."""
    _ensure_rows(session, {key}, now)
    after = _move(session, key, quantity, now)
    assert after is not None  # adding units never breaks a guard
    _log(session, key, kind, quantity, after, reference, None, now)
    return after


def send_transfer(session: Session, data: TransferIn, now: datetime) -> TransferOut:
    """Take units off the sending shelf and put them in transit to the receiving location."""
    transfer_id = new_id("trf")
    refused = []
    lines = sorted((line.sku, line.quantity) for line in data.lines)
    _ensure_rows(session, {(data.to_location_id, sku) for sku, _ in lines}, now)
    ends = (data.from_location_id, data.to_location_id)
    lock(session, {(location, sku) for sku, _ in lines for location in ends})
    for sku, quantity in lines:
        key = (data.from_location_id, sku)
        after = _move(session, key, -quantity, now)
        if after is None and expire(session, now=now, key=key):
            after = _move(session, key, -quantity, now)
        if after is None:
            refused.append((key, quantity, _available(session, key)))
            continue
        _log(session, key, "transfer_out", -quantity, after, transfer_id, data.reference, now)
    if refused:
        raise OutOfStock(_short_message(refused), details={"short": shortage(session, refused)})
    for sku, quantity in lines:
        session.execute(
            update(_stock)
            .where(_stock.c.location_id == data.to_location_id, _stock.c.sku == sku)
            .values(incoming=_stock.c.incoming + quantity, updated_at=now)
        )
    row = Transfer(
        id=transfer_id,
        from_location_id=data.from_location_id,
        to_location_id=data.to_location_id,
        status="in_transit",
        lines=[{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        reference=data.reference,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return transfer_out(row)


def receive_transfer(
    session: Session, *, transfer_id: str, now: datetime
) -> tuple[TransferOut, list[Key]]:
    """Take a transfer in at its destination; return it and the keys back in stock."""
    row = session.get(Transfer, transfer_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no transfer '{transfer_id}'")
    if row.status != "in_transit":
        raise Conflict(f"transfer '{transfer_id}' was received already, at {row.received_at}")
    keys = {(row.to_location_id, str(line["sku"])) for line in row.lines}
    was_empty = _empty_keys(session, keys)
    for line in sorted(row.lines, key=lambda line: line["sku"]):
        key = (row.to_location_id, line["sku"])
        quantity = int(line["quantity"])
        after = session.execute(
            update(_stock)
            .where(_stock.c.location_id == key[0], _stock.c.sku == key[1])
            .values(
                on_hand=_stock.c.on_hand + quantity,
                incoming=_stock.c.incoming - quantity,
                updated_at=now,
            )
            .returning(_stock.c.on_hand)
        ).scalar_one()
        _log(session, key, "transfer_in", quantity, after, row.id, row.reference, now)
    row.status = "received"
    row.received_at = now
    back = sorted(was_empty - _empty_keys(session, keys))
    return transfer_out(row), back


def list_transfers(
    session: Session, *, status: str | None, location_id: str | None, limit: int
) -> list[TransferOut]:
    """Return the newest transfers, optionally by status or a location at either end."""
    query = select(Transfer).order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Transfer.status == status)
    if location_id is not None:
        query = query.where(
            (Transfer.from_location_id == location_id) | (Transfer.to_location_id == location_id)
        )
    return [transfer_out(row) for row in session.scalars(query)]


def transfer_out(row: Transfer) -> TransferOut:
    """Return a transfer as the API shows it."""
    return TransferOut(
        id=row.id,
        from_location_id=row.from_location_id,
        to_location_id=row.to_location_id,
        status=row.status,
        lines=row.lines,
        reference=row.reference,
        created_at=row.created_at,
        received_at=row.received_at,
    )


def available_by_location(
    session: Session, skus: Iterable[str], now: datetime | None = None, keep: str | None = None
) -> dict[str, dict[str, int]]:
    """Return units available per location and SKU (location -> SKU -> units).

    With ``now``, units of holds past their expiry count as available, except ``keep``'s
    (the caller's own, counted by the caller): a hold for them releases the lapsed holds
    first (see ``_take``).
    """
    wanted = sorted(set(skus))
    lapsed: dict[Key, int] = defaultdict(int)
    if now is not None:
        where = [_holds.c.sku.in_(wanted), _holds.c.status == "active", _holds.c.expires_at < now]
        if keep is not None:
            where.append(_holds.c.holder != keep)
        for location, sku, units in session.execute(
            select(_holds.c.location_id, _holds.c.sku, func.sum(_holds.c.quantity))
            .where(*where)
            .group_by(_holds.c.location_id, _holds.c.sku)
        ):
            lapsed[(location, sku)] = int(units)
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in session.execute(
        select(_stock.c.location_id, _stock.c.sku, _stock.c.on_hand, _stock.c.reserved).where(
            _stock.c.sku.in_(wanted)
        )
    ):
        freed = lapsed.get((row.location_id, row.sku), 0)
        result[row.location_id][row.sku] = max(0, row.on_hand - row.reserved + freed)
    return result


def shortage(session: Session, short: Sequence[tuple[Key, int, int]]) -> list[dict[str, Any]]:
    """Describe each short key: what was wanted, what it has, and where else there is some."""
    elsewhere = available_by_location(session, {key[1] for key, _, _ in short})
    return [
        {
            "location_id": key[0],
            "sku": key[1],
            "wanted": wanted,
            "available": available,
            "elsewhere": sorted(
                (
                    {"location_id": location, "available": units[key[1]]}
                    for location, units in elsewhere.items()
                    if units.get(key[1], 0) > 0 and location != key[0]
                ),
                key=lambda item: (-int(item["available"]), str(item["location_id"])),
            ),
        }
        for key, wanted, available in short
    ]


def totals(session: Session) -> dict[Key, tuple[int, int]]:
    """Return (on hand, held) of every stock row; tests and benchmarks check invariants."""
    return {
        (row.location_id, row.sku): (row.on_hand, row.reserved)
        for row in session.execute(select(_stock))
    }


def ledger(
    session: Session, *, location_id: str | None, sku: str | None, limit: int
) -> list[Movement]:
    """Return the newest movements, optionally of one location and/or SKU."""
    query = select(Movement).order_by(Movement.id.desc()).limit(limit)
    if location_id is not None:
        query = query.where(Movement.location_id == location_id)
    if sku is not None:
        query = query.where(Movement.sku == sku)
    return list(session.scalars(query))


# -- guarded statements -----------------------------------------------------------------------


def _take(
    session: Session, key: Key, quantity: int, now: datetime, *, keep: str | None = None
) -> bool:
    """Hold units if available; on a miss, release lapsed holds of the key and try again.

    ``keep``'s lapsed holds are not released: they were counted as the caller's already.
    """
    for attempt in range(2):
        done = affected_rows(
            session,
            update(_stock)
            .where(
                _stock.c.location_id == key[0],
                _stock.c.sku == key[1],
                _stock.c.on_hand - _stock.c.reserved >= quantity,
            )
            .values(reserved=_stock.c.reserved + quantity, updated_at=now),
        )
        if done or attempt or not expire(session, now=now, key=key, keep=keep):
            return bool(done)
    return False


def _give_back(session: Session, key: Key, quantity: int, now: datetime) -> None:
    session.execute(
        update(_stock)
        .where(_stock.c.location_id == key[0], _stock.c.sku == key[1])
        .values(reserved=_stock.c.reserved - quantity, updated_at=now)
    )


def _move(session: Session, key: Key, delta: int, now: datetime) -> int | None:
    """Change units on hand; a decrease may not touch held units. Return on hand after."""
    guard = [_stock.c.location_id == key[0], _stock.c.sku == key[1]]
    if delta < 0:
        guard.append(_stock.c.on_hand - _stock.c.reserved >= -delta)
    result: int | None = session.execute(
        update(_stock)
        .where(*guard)
        .values(on_hand=_stock.c.on_hand + delta, updated_at=now)
        .returning(_stock.c.on_hand)
    ).scalar()
    return result


def _on_hand(session: Session, key: Key) -> int:
    units = session.scalar(
        select(_stock.c.on_hand).where(_stock.c.location_id == key[0], _stock.c.sku == key[1])
    )
    return units or 0


def _available(session: Session, key: Key) -> int:
    row = session.execute(
        select(_stock.c.on_hand, _stock.c.reserved).where(
            _stock.c.location_id == key[0], _stock.c.sku == key[1]
        )
    ).first()
    return 0 if row is None else max(0, row.on_hand - row.reserved)


def _ensure_rows(session: Session, keys: set[Key], now: datetime) -> None:
    rows = [
        {
            "location_id": location,
            "sku": sku,
            "on_hand": 0,
            "reserved": 0,
            "incoming": 0,
            "updated_at": now,
        }
        for location, sku in sorted(keys)
    ]
    insert_ignoring_duplicates(session, Stock, rows, ["location_id", "sku"])


def _empty_keys(session: Session, keys: set[Key]) -> set[Key]:
    """Return the keys with nothing available."""
    return {(lv.location_id, lv.sku) for lv in levels(session, keys) if lv.available == 0}


def _log(
    session: Session,
    key: Key,
    kind: str,
    quantity: int,
    after: int,
    reference: str | None,
    note: str | None,
    now: datetime,
) -> None:
    session.execute(
        insert(Movement).values(
            location_id=key[0],
            sku=key[1],
            kind=kind,
            quantity=quantity,
            on_hand_after=after,
            reference=reference,
            note=note,
            at=now,
        )
    )


def _level(row: Any) -> StockLevel:
    return StockLevel(
        location_id=row.location_id,
        sku=row.sku,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=max(0, row.on_hand - row.reserved),
        incoming=row.incoming,
        shortfall=max(0, row.reserved - row.on_hand),
    )


def _empty(key: Key) -> StockLevel:
    return StockLevel(
        location_id=key[0], sku=key[1], on_hand=0, reserved=0, available=0, incoming=0, shortfall=0
    )


def _short_message(short: Sequence[tuple[Key, int, int]]) -> str:
    parts = [
        f"{sku} at {location}: {wanted} wanted, {available} available"
        for (location, sku), wanted, available in short
    ]
    return "not enough stock: " + "; ".join(parts)

"""Segment evaluation at scale: the compiled SQL against pandas, and membership upkeep per event.

Part 1 fills the segments read model of a SQLite workspace with a million people and ten
million events, runs the query Sampan's full evaluation runs for one three-condition segment,
and computes the same set with pandas in the same run; the two sets must be identical.
Part 2 measures what live segments add to the pipeline per event, on a small workspace fed
through the real pipeline.
Usage: python -m bench.segments [--people 1000000] [--events 10000000] [--repeats 3]
[--seed 7] [--data-dir DIR] [--skip-incremental] [--incremental-people 20000] [--segments 50]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Select, Table, event, func, select

from bench.harness import percentile, pin_self
from sampan.cli.workspace import ensure_schema
from sampan.collect import service as collect
from sampan.consent.models import ConsentRecord
from sampan.core.clock import to_ms
from sampan.db.engine import Database, connect
from sampan.db.migrate import upgrade
from sampan.runtime import Runtime
from sampan.segments import membership
from sampan.segments import service as segments
from sampan.segments.compiler import CompileContext, members_query
from sampan.segments.conditions import parse_condition
from sampan.segments.models import Person, PersonEvent
from sampan.segments.schemas import SegmentInput
from sampan.settings import Settings

# Noon in Bangkok; everything is generated relative to it, so the figures do not drift.
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
DAY_MS = 86_400_000
CONDITION: dict[str, Any] = {
    "all": [
        {"event": "Order Completed", "count": {"op": "gte", "value": 2}, "within_days": 30},
        {"computed": "total_spent", "op": "gte", "value": 5000},
        {"consent": {"purpose": "marketing", "channel": "email"}},
    ]
}
PART_NAMES = ("event: 2+ orders in 30 days", "computed: spent >= 5,000 baht", "consent: e-mail")
CONTEXT = CompileContext(
    dialect="sqlite", now=NOW, timezone="Asia/Bangkok", no_consent_needed=frozenset({"service"})
)
# An e-commerce shop's mix of tracked events, in percent.
EVENT_MIX = (
    ("Page Viewed", 30),
    ("Product Viewed", 25),
    ("Product List Viewed", 10),
    ("Product Added", 8),
    ("Products Searched", 7),
    ("Cart Viewed", 5),
    ("Checkout Started", 4),
    ("Order Completed", 4),
    ("Promotion Clicked", 4),
    ("Product Added to Wishlist", 3),
)
CITIES = ["กรุงเทพมหานคร", "เชียงใหม่", "ขอนแก่น", "ภูเก็ต", "ชลบุรี", "นนทบุรี", "สงขลา"]
CATEGORIES = ["serum", "cleanser", "sunscreen", "makeup", "haircare", "supplements"]
PRICES = [159, 290, 390, 590, 990, 1290, 1890, 2590, 3490, 5900]
PATHS = ["/", "/products", "/promotions", "/cart", "/account", "/blog/skincare-routine"]
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a UTC datetime in SQLite
CHUNK = 500_000


def settle() -> None:
    gc.collect()
    gc.freeze()


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- data --------------------------------------------------------------------------------------


@dataclass
class Facts:
    """Per-person facts accumulated while events are generated, as the profile fold would."""

    events: list[int]
    orders: list[int]
    spent: list[int]
    first_ms: list[int | None]
    last_ms: list[int | None]
    last_order_ms: list[int | None]


def _profile_ids(people: int, rng: random.Random) -> list[str]:
    # The shape of core.ids.new_id: creation time in ms, then randomness.
    start_ms = to_ms(NOW - timedelta(days=730))
    step = 730 * DAY_MS // people
    return [f"prf_{start_ms + i * step:012x}{rng.getrandbits(48):012x}" for i in range(people)]


def _activity(people: int, rng: random.Random) -> list[float]:
    """Return cumulative activity weights: most people do little, a few do a lot."""
    return list(itertools.accumulate(rng.lognormvariate(0.0, 1.4) for _ in range(people)))


def _property_choices(rng: random.Random) -> dict[str, list[str]]:
    products = [
        f'{{"product_id":"p{n}","category":"{rng.choice(CATEGORIES)}","price":{rng.choice(PRICES)}}}'
        for n in range(200)
    ]
    return {
        "Page Viewed": [f'{{"path":"{p}"}}' for p in PATHS],
        "Product Viewed": products,
        "Product Added": products,
        "Product Added to Wishlist": products,
        "Products Searched": ['{"query":"เซรั่ม"}', '{"query":"sunscreen spf50"}'],
        "Promotion Clicked": ['{"promotion_id":"11.11"}', '{"promotion_id":"payday"}'],
    }


def _event_rows(
    rng: random.Random,
    seqs: range,
    ids: list[str],
    cumulative: list[float],
    facts: Facts,
    properties: dict[str, list[str]],
) -> list[tuple[int, str, str, int, str]]:
    names = [name for name, _ in EVENT_MIX]
    name_weights = list(itertools.accumulate(share for _, share in EVENT_MIX))
    who = rng.choices(range(len(ids)), cum_weights=cumulative, k=len(seqs))
    what = rng.choices(names, cum_weights=name_weights, k=len(seqs))
    now_ms = to_ms(NOW)
    span = 365 * DAY_MS
    rows = []
    for seq, person, name in zip(seqs, who, what, strict=True):
        ts = now_ms - rng.randrange(span)
        facts.events[person] += 1
        first, last = facts.first_ms[person], facts.last_ms[person]
        if first is None or ts < first:
            facts.first_ms[person] = ts
        if last is None or ts > last:
            facts.last_ms[person] = ts
        if name == "Order Completed":
            total = rng.choice(PRICES)
            facts.orders[person] += 1
            facts.spent[person] += total * 100
            last_order = facts.last_order_ms[person]
            if last_order is None or ts > last_order:
                facts.last_order_ms[person] = ts
            props = f'{{"order_id":"o{seq}","total":{total},"currency":"THB"}}'
        else:
            choices = properties.get(name)
            props = rng.choice(choices) if choices else "{}"
        rows.append((seq, ids[person], name, ts, props))
    return rows


def _consent_rows(
    rng: random.Random, ids: list[str]
) -> Iterator[tuple[str, str, str, str | None, str]]:
    """Yield (profile_id, channel, status, expires_at, recorded_at) in the order recorded."""
    # About 85% of people once answered the e-mail marketing question; 30% changed their mind
    # or confirmed later (sometimes stamped with the same time, sometimes back-dated by an
    # import, so (recorded_at, id) decides), 10% gave consent with an expiry; and 30% also
    # answered for LINE, which the e-mail test must ignore.
    now = NOW.replace(tzinfo=None)
    for profile_id in ids:
        if rng.random() < 0.85:
            first = now - timedelta(seconds=rng.randrange(730 * 86_400))
            yield profile_id, "email", "granted", _expiry(rng, first), _text(first)
            if rng.random() < 0.3:
                roll = rng.random()
                if roll < 0.05:
                    second = first
                elif roll < 0.10:
                    second = first - timedelta(seconds=rng.randrange(1, 30 * 86_400))
                else:
                    second = first + timedelta(seconds=rng.randrange(1, 365 * 86_400))
                second = min(second, now)
                status = "withdrawn" if rng.random() < 0.6 else "granted"
                expiry = _expiry(rng, second) if status == "granted" else None
                yield profile_id, "email", status, expiry, _text(second)
        if rng.random() < 0.3:
            moment = now - timedelta(seconds=rng.randrange(730 * 86_400))
            yield profile_id, "line", "granted", None, _text(moment)


def _expiry(rng: random.Random, recorded: datetime) -> str | None:
    if rng.random() >= 0.1:
        return None
    return _text(recorded + timedelta(days=rng.choice([180, 365, 730])))


def _text(moment: datetime) -> str:
    return moment.strftime(SQLITE_TIME)


def _insert(
    conn: sqlite3.Connection, table: Table, rows: Sequence[dict[str, Any]] | None, **constant: Any
) -> None:
    """Insert rows, filling the model's scalar defaults for columns the rows do not name."""
    if not rows:
        return
    present = {r[1] for r in conn.execute(f"PRAGMA table_info({table.name})")}
    defaults = {
        c.name: c.default.arg
        for c in table.columns
        if c.default is not None and c.default.is_scalar and c.name in present
    }
    columns = [c for c in {**defaults, **constant, **rows[0]} if c in present]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    base = {**defaults, **constant}
    conn.executemany(sql, (tuple({**base, **r}[c] for c in columns) for r in rows))


@contextmanager
def _without_indexes(conn: sqlite3.Connection, table: str) -> Iterator[None]:
    """Drop a table's indexes for a bulk load and build them again after, as they were."""
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    for _, sql in indexes:
        conn.execute(sql)


def generate(path: Path, *, people: int, events: int, seed: int) -> dict[str, float]:
    """Create the workspace schema at ``path`` and fill what the segment query reads."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    upgrade(f"sqlite:///{path}")
    rng = random.Random(seed)
    ids = _profile_ids(people, rng)
    cumulative = _activity(people, rng)
    facts = Facts(
        [0] * people, [0] * people, [0] * people, [None] * people, [None] * people, [None] * people
    )
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("BEGIN")
    properties = _property_choices(rng)
    event_table = PersonEvent.__table__
    with _without_indexes(conn, event_table.name):
        for at in range(0, events, CHUNK):
            rows = _event_rows(
                rng, range(at + 1, min(at + CHUNK, events) + 1), ids, cumulative, facts, properties
            )
            conn.executemany(
                f"INSERT INTO {event_table.name} (seq, profile_id, name, ts_ms, properties) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        timings["events"] = time.perf_counter() - start
    timings["event indexes"] = time.perf_counter() - start - timings["events"]
    people_rows = [
        {
            "profile_id": profile_id,
            "traits": f'{{"city":"{rng.choice(CITIES)}","locale":"th-TH"}}',
            "first_seen_ms": facts.first_ms[i],
            "last_seen_ms": facts.last_ms[i],
            "event_count": facts.events[i],
            "order_count": facts.orders[i],
            "total_spent": facts.spent[i],
            "last_order_ms": facts.last_order_ms[i],
            "identifier_types": "|email|phone|" if rng.random() < 0.6 else "|email|",
        }
        for i, profile_id in enumerate(ids)
    ]
    mark = time.perf_counter()
    _insert(conn, Person.__table__, people_rows)
    del people_rows
    created = _text(NOW.replace(tzinfo=None))
    consent_rows = [
        {
            "id": n,
            "profile_id": profile_id,
            "channel": channel,
            "status": status,
            "expires_at": expires_at,
            "recorded_at": recorded_at,
        }
        for n, (profile_id, channel, status, expires_at, recorded_at) in enumerate(
            _consent_rows(rng, ids), start=1
        )
    ]
    _insert(
        conn,
        ConsentRecord.__table__,
        consent_rows,
        purpose="marketing",
        lawful_basis="consent",
        source="bench",
        recorded_by="bench",
        created_at=created,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    timings["people and consents"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - start
    return timings


def table_counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {
            name: int(session.connection().exec_driver_sql(f"SELECT count(*) FROM {name}").scalar())
            for name in ("segments_people", "segments_events", "consent_records", "consent_blocks")
        }


# -- Sampan ------------------------------------------------------------------------------------


def sampan_members(db: Database, condition: dict[str, Any]) -> tuple[float, set[str]]:
    """Compile and run the members query as a full evaluation does; return time and set."""
    settle()
    start = time.perf_counter()
    with db.reading() as session:
        members = set(session.scalars(members_query(parse_condition(condition), CONTEXT)))
    return time.perf_counter() - start, members


def query_plan(db: Database, query: Select[Any]) -> list[str]:
    """Return SQLite's EXPLAIN QUERY PLAN for the statement as Sampan sends it."""
    plan: list[tuple[int, int, str]] = []
    with db.reading() as session:
        connection = session.connection()

        def explain(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            rows = cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plan.extend((r[0], r[1], r[3]) for r in rows)

        event.listen(connection, "before_cursor_execute", explain)
        try:
            session.execute(query.limit(0)).all()
        finally:
            event.remove(connection, "before_cursor_execute", explain)
    depth = {0: -1}
    lines = []
    for node, parent, detail in plan:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def touched_evaluation(db: Database, size: int, repeats: int) -> tuple[float, float]:
    """Time the segment's query restricted to ``size`` people who just sent events.

    The people are the owners of random logged events, so the active are picked as often as
    a live event stream would touch them. Return the median time and members found per run.
    """
    rng = random.Random(size)
    query = members_query(parse_condition(CONDITION), CONTEXT)
    runs: list[float] = []
    found: list[int] = []
    with db.reading() as session:
        last = int(session.scalar(select(func.max(PersonEvent.seq))) or 0)
    for _ in range(max(repeats, 5)):
        seqs = [rng.randint(1, last) for _ in range(size)]
        with db.reading() as session:
            people = sorted(
                set(
                    session.scalars(select(PersonEvent.profile_id).where(PersonEvent.seq.in_(seqs)))
                )
            )
            start = time.perf_counter()
            members = set(session.scalars(query.where(Person.profile_id.in_(people))))
            runs.append(time.perf_counter() - start)
        found.append(len(members))
    return median_of(runs), median_of(found)


# -- pandas ------------------------------------------------------------------------------------


def load_frames(path: Path) -> dict[str, Any]:
    """Read the columns the query needs into DataFrames, timestamps parsed."""
    with sqlite3.connect(path) as conn:
        frames = {
            "events": pd.read_sql_query(
                "SELECT profile_id, name, ts_ms FROM segments_events", conn
            ),
            "people": pd.read_sql_query(
                "SELECT profile_id, total_spent FROM segments_people", conn
            ),
            "consents": pd.read_sql_query(
                "SELECT id, profile_id, purpose, channel, status, recorded_at, expires_at "
                "FROM consent_records",
                conn,
            ),
            "blocks": pd.read_sql_query("SELECT profile_id FROM consent_blocks", conn),
            "aliases": pd.read_sql_query("SELECT alias_id, profile_id FROM segments_aliases", conn),
        }
    consents = frames["consents"]
    for column in ("recorded_at", "expires_at"):
        consents[column] = pd.to_datetime(consents[column], format=SQLITE_TIME).dt.tz_localize(
            "UTC"
        )
    if len(frames["aliases"]):
        sys.exit("the pandas side ignores merged profiles: the generated data must have none")
    return frames


def pandas_members(frames: dict[str, Any]) -> tuple[float, set[str]]:
    """Return the time and members of the same segment, in plain pandas."""
    settle()
    start = time.perf_counter()
    since = to_ms(NOW) - 30 * DAY_MS
    events = frames["events"]
    recent = events[events["ts_ms"] >= since]
    orders = recent[recent["name"] == "Order Completed"]
    per_person = orders.groupby("profile_id").size()
    buyers = per_person.index[per_person >= 2]
    people = frames["people"]
    spenders = pd.Index(people["profile_id"][people["total_spent"] >= 5000 * 100])
    records = frames["consents"]
    slot = records[(records["purpose"] == "marketing") & (records["channel"] == "email")]
    latest = slot.sort_values(["recorded_at", "id"]).drop_duplicates("profile_id", keep="last")
    granted = latest[
        (latest["status"] == "granted")
        & (latest["expires_at"].isna() | (latest["expires_at"] > pd.Timestamp(NOW)))
    ]
    members = (
        spenders.intersection(buyers)
        .intersection(pd.Index(granted["profile_id"]))
        .difference(pd.Index(frames["blocks"]["profile_id"]))
    )
    result = set(members)
    return time.perf_counter() - start, result


# -- part 1 ------------------------------------------------------------------------------------


@contextmanager
def workspace_file(data_dir: str | None, people: int, events: int, seed: int) -> Iterator[Path]:
    """Yield a generated database, reused from ``data_dir`` when it holds one of this size."""
    keep = data_dir is not None
    folder = Path(data_dir) if keep else Path(tempfile.mkdtemp(prefix="sampan-bench-segments-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"segments-{people}-{events}-{seed}.db"
    done = path.with_suffix(".done")
    try:
        if done.exists():
            print(f"reusing {path} ({path.stat().st_size / 2**30:.2f} GiB)")
        else:
            for stale in folder.glob(path.name + "*"):
                stale.unlink()
            timings = generate(path, people=people, events=events, seed=seed)
            done.touch()
            print(
                f"generated {people:,} people and {events:,} events in {timings['total']:.0f} s "
                f"(events {timings['events']:.0f} s, their indexes "
                f"{timings['event indexes']:.0f} s, people and consents "
                f"{timings['people and consents']:.0f} s; seed {seed}); "
                f"{path.stat().st_size / 2**30:.2f} GiB at {path}"
            )
        yield path
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def full_recompute(path: Path, repeats: int) -> None:
    db = connect(f"sqlite:///{path}")
    counts = table_counts(db)
    print(
        "rows: "
        + ", ".join(f"{name} {count:,}" for name, count in counts.items())
        + " (segments_aliases empty: no merged profiles)"
    )
    sampan_runs: list[float] = []
    reference: set[str] = set()
    for run in range(repeats):
        elapsed, members = sampan_members(db, CONDITION)
        sampan_runs.append(elapsed)
        if run == 0:
            reference = members
        elif members != reference:
            sys.exit("the query gave different members on a repeat")
    parts: dict[str, list[float]] = {name: [] for name in PART_NAMES}
    part_sizes: dict[str, int] = {}
    for _ in range(repeats):
        for name, child in zip(PART_NAMES, CONDITION["all"], strict=True):
            elapsed, members = sampan_members(db, child)
            parts[name].append(elapsed)
            part_sizes[name] = len(members)
    plan = query_plan(db, members_query(parse_condition(CONDITION), CONTEXT))
    touched = {size: touched_evaluation(db, size, repeats) for size in (1, 200)}
    db.dispose()

    start = time.perf_counter()
    frames = load_frames(path)
    load_s = time.perf_counter() - start
    pandas_runs: list[float] = []
    identical = True
    for _ in range(repeats):
        elapsed, members = pandas_members(frames)
        pandas_runs.append(elapsed)
        identical = identical and members == reference
    del frames
    gc.unfreeze()
    gc.collect()

    sampan_s, pandas_s = median_of(sampan_runs), median_of(pandas_runs)
    print()
    print("segment: " + " AND ".join(PART_NAMES) + f"; now = {NOW.isoformat()}")
    print(
        f"Sampan (SQLite, members_query as full evaluation runs it): {sampan_s:.3f} s median "
        f"of {repeats} ({', '.join(f'{t:.3f}' for t in sampan_runs)}); aim < 2 s"
    )
    print(
        f"pandas {pd.__version__} (same set, DataFrames in memory): {pandas_s:.3f} s median "
        f"({', '.join(f'{t:.3f}' for t in pandas_runs)}); loading the frames took {load_s:.1f} s"
    )
    print(f"ratio Sampan / pandas: {sampan_s / pandas_s:.2f}")
    print(f"members: {len(reference):,}; identical: {identical}")
    print("each condition alone (members_query of the one leaf), median:")
    for name in PART_NAMES:
        print(f"  {name}: {median_of(parts[name]):.3f} s, {part_sizes[name]:,} people")
    print(
        "the same segment for the people an event batch touched (members_query restricted "
        "to them, as incremental evaluation runs it), median:"
    )
    for size, (elapsed, found) in touched.items():
        print(f"  {size} touched: {elapsed * 1000:.1f} ms ({found:g} member(s) found per run)")
    print("query plan (EXPLAIN QUERY PLAN):")
    for line in plan:
        print("  " + line)
    if not identical:
        sys.exit("Sampan and pandas selected different members")


# -- part 2 ------------------------------------------------------------------------------------


def segment_conditions(
    rng: random.Random, created: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield varied segment definitions: traits, computed, events, identity, consent, nesting.

    ``created`` holds the ids of the segments defined so far, for members-of conditions.
    """
    templates: list[Callable[[int], tuple[str, dict[str, Any]]]] = [
        lambda i: (f"city {CITIES[i % 7]}", {"trait": "city", "op": "eq", "value": CITIES[i % 7]}),
        lambda i: (
            "northern cities",
            {"trait": "city", "op": "in", "value": ["เชียงใหม่", "เชียงราย", "ลำปาง"]},
        ),
        lambda i: (
            "birthday soon",
            {"trait": "birthday", "op": "anniversary_within_days", "days": 7 + i},
        ),
        lambda i: (
            f"spent {1000 * (i + 1):,}+",
            {"computed": "total_spent", "op": "gte", "value": 1000 * (i + 1)},
        ),
        lambda i: (
            f"{i % 4 + 2}+ orders",
            {"computed": "order_count", "op": "gte", "value": i % 4 + 2},
        ),
        lambda i: (
            f"seen within {7 * (i % 4 + 1)} days",
            {"computed": "last_seen_at", "op": "within_last_days", "days": 7 * (i % 4 + 1)},
        ),
        lambda i: (
            f"viewed {i % 3 + 2}+ products in 14 days",
            {
                "event": "Product Viewed",
                "count": {"op": "gte", "value": i % 3 + 2},
                "within_days": 14,
            },
        ),
        lambda i: (
            f"bought {CATEGORIES[i % 6]} in 90 days",
            {
                "event": "Order Completed",
                "where": [{"property": "category", "op": "eq", "value": CATEGORIES[i % 6]}],
                "within_days": 90,
            },
        ),
        lambda i: (
            "orders worth 3,000+ in 60 days",
            {
                "event": "Order Completed",
                "sum": {"property": "total", "op": "gte", "value": 3000},
                "within_days": 60,
            },
        ),
        lambda i: (
            "no order in 30 days",
            {"event": "Order Completed", "did": False, "within_days": 30 + i},
        ),
        lambda i: ("has LINE", {"identity": "line_user_id"}),
        lambda i: (
            f"marketing by {('email', 'line', 'sms')[i % 3]}",
            {"consent": {"purpose": "marketing", "channel": ("email", "line", "sms")[i % 3]}},
        ),
        lambda i: (
            "active buyer reachable by e-mail",
            {
                "all": [
                    {"computed": "order_count", "op": "gte", "value": 1},
                    {"event": "*", "within_days": 30},
                    {"consent": {"purpose": "marketing", "channel": "email"}},
                    {
                        "any": [
                            {"trait": "city", "op": "eq", "value": "กรุงเทพมหานคร"},
                            {"not": {"identity": "phone"}},
                        ]
                    },
                ]
            },
        ),
        lambda i: (
            "earlier segment, reachable on LINE",
            {
                "all": [
                    {"segment": created[-1]},
                    {"consent": {"purpose": "marketing", "channel": "line"}},
                ]
            },
        ),
    ]
    for n in range(10_000):
        name, condition = templates[n % len(templates)](n // len(templates) + rng.randrange(3))
        yield f"{name} #{n}", condition


def _person_messages(i: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """Return one customer's history: an identify, consents, and some tracks."""
    user = f"M{i:07d}"
    first = now - timedelta(days=rng.uniform(30, 150))
    traits: dict[str, Any] = {
        "name": f"ลูกค้า {i}",
        "email": f"c{i}@example.co.th",
        "city": rng.choice(CITIES),
        "birthday": f"{rng.randrange(1960, 2006)}-{rng.randrange(1, 13):02d}-"
        f"{rng.randrange(1, 29):02d}",
    }
    if rng.random() < 0.7:
        traits["phone"] = f"08{i % 10}{i:07d}"
    if rng.random() < 0.3:
        traits["lineUserId"] = f"U{rng.getrandbits(128):032x}"
    out: list[dict[str, Any]] = [
        {"type": "identify", "userId": user, "traits": traits, "timestamp": first.isoformat()}
    ]
    for channel, share in (("email", 0.6), ("line", 0.25)):
        if rng.random() < share:
            out.append(
                _track(
                    user,
                    "Consent Updated",
                    first,
                    purpose="marketing",
                    channel=channel,
                    status="granted",
                )
            )
    for _ in range(min(int(rng.lognormvariate(1.0, 1.0)), 60)):
        out.append(_activity_message(user, rng, now - timedelta(days=rng.uniform(0, 120))))
    return out


def _track(user: str, name: str, at: datetime, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": name,
        "properties": properties,
        "timestamp": at.isoformat(),
    }


def _activity_message(user: str, rng: random.Random, at: datetime) -> dict[str, Any]:
    roll = rng.random()
    category = rng.choice(CATEGORIES)
    price = rng.choice(PRICES)
    if roll < 0.15:
        return _track(
            user,
            "Order Completed",
            at,
            order_id=f"o{rng.getrandbits(40)}",
            total=price,
            currency="THB",
            category=category,
            products=[
                {"product_id": f"p{price}", "price": price, "quantity": 1, "category": category}
            ],
        )
    if roll < 0.35:
        return {
            "type": "page",
            "userId": user,
            "name": "Home",
            "properties": {"path": "/"},
            "timestamp": at.isoformat(),
        }
    if roll < 0.45:
        return _track(
            user, "Product Added", at, product_id=f"p{price}", category=category, price=price
        )
    return _track(
        user, "Product Viewed", at, product_id=f"p{price}", category=category, price=price
    )


def _live_message(rng: random.Random, people: int, now: datetime) -> dict[str, Any]:
    """Return what a shop sends now: mostly browsing, some orders, profile and consent updates."""
    i = rng.randrange(people)
    user = f"M{i:07d}"
    roll = rng.random()
    if roll < 0.08:
        return {
            "type": "identify",
            "userId": user,
            "traits": {"city": rng.choice(CITIES)},
            "timestamp": now.isoformat(),
        }
    if roll < 0.12:
        status = "granted" if rng.random() < 0.7 else "withdrawn"
        return _track(
            user,
            "Consent Updated",
            now,
            purpose="marketing",
            channel=rng.choice(["email", "line"]),
            status=status,
        )
    return _activity_message(user, rng, now)


def _send(runtime: Runtime, source_id: str, messages: list[dict[str, Any]]) -> None:
    received = datetime.now(UTC)
    accepted = collect.normalise_messages(
        {"batch": messages}, endpoint_type=None, source_kind="server", received_at=received
    )
    with runtime.db.transaction() as session:
        collect.store_messages(
            session, source_id=source_id, messages=accepted, received_ms=to_ms(received)
        )


def _catch_up(runtime: Runtime) -> int:
    processed = 0
    while True:
        with runtime.derived_db.transaction() as session:
            step = runtime.advance_pipeline(session).processed
        if not step:
            return processed
        processed += step


@dataclass
class Timings:
    """Per-batch seconds of each measured part, by mode."""

    pipeline: dict[str, list[float]]
    react: list[float]
    evaluate: list[float]
    by_segment: dict[str, list[float]]


@contextmanager
def _instrumented(timings: Timings, mode: str) -> Iterator[None]:
    """Time segments' reaction inside the pipeline; with mode 'none', hide every segment.

    The runtime calls these functions through their modules, so wrapping the module
    attributes times exactly what the pipeline runs.
    """
    react, evaluate, live = segments.react_to_batch, membership.evaluate, membership.live_segments
    evaluate_one = membership._evaluate_one

    def timed_react(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        react(*args, **kwargs)
        if mode == "live":
            timings.react.append(time.perf_counter() - start)

    def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = evaluate(*args, **kwargs)
        if mode == "live":
            timings.evaluate.append(time.perf_counter() - start)
        return result

    def timed_evaluate_one(session: Any, segment: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = evaluate_one(session, segment, *args)
        timings.by_segment.setdefault(segment.id, []).append(time.perf_counter() - start)
        return result

    segments.react_to_batch = timed_react
    membership.evaluate = timed_evaluate
    membership._evaluate_one = timed_evaluate_one
    if mode == "none":
        membership.live_segments = lambda _session: []
    try:
        yield
    finally:
        segments.react_to_batch = react
        membership.evaluate = evaluate
        membership.live_segments = live
        membership._evaluate_one = evaluate_one


def build_workspace(
    folder: Path, people: int, target: int, seed: int
) -> tuple[Runtime, str, dict[str, str]]:
    """Load ``people`` customers through the pipeline, then define segments up to ``target``.

    Segments come after the data (``sampan init`` would install the ready-made ones first),
    so that loading does not pay for evaluating them.
    """
    runtime = Runtime.from_settings(Settings(data_dir=folder, database_url=None))
    ensure_schema(runtime)
    with runtime.db.transaction() as session:
        source_id = collect.create_source(session, name="Shop", kind="server").id
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = time.perf_counter()
    pending: list[dict[str, Any]] = []
    sent = 0
    for i in range(people):
        pending += _person_messages(i, rng, now)
        if len(pending) >= 1000 or i == people - 1:
            _send(runtime, source_id, pending)
            sent += len(pending)
            pending = []
    loaded = _catch_up(runtime)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    # The ready-made segments, in the versions that have them.
    install = getattr(segments, "install_ready_made", None)
    if install is not None:
        with runtime.db.transaction() as session:
            install(session, context=runtime.segment_context())
    with runtime.db.reading() as session:
        ready = len(membership.live_segments(session))
    created: list[str] = []
    definitions = segment_conditions(rng, created)
    while True:
        with runtime.db.transaction() as session:
            if len(membership.live_segments(session)) >= target:
                break
            name, condition = next(definitions)
            made = segments.create_segment(
                session,
                segment=SegmentInput(name=name, condition=condition),
                context=runtime.segment_context(),
            )
            created.append(made.id)
    with runtime.db.reading() as session:
        live = membership.live_segments(session)
        defined = segments.list_segments(session)
    sizes = [s.size for s in defined]
    define_s = time.perf_counter() - start
    print(
        f"workspace: {people:,} customers, {sent:,} messages through the pipeline in "
        f"{load_s:.0f} s ({loaded:,} events folded); {len(live)} live segments "
        f"({ready} ready-made, {len(live) - ready} defined by the bench) created in "
        f"{define_s:.1f} s, sizes {min(sizes):,}-{max(sizes):,} (median "
        f"{statistics.median(sizes):,.0f})"
    )
    return runtime, source_id, {s.id: s.name for s in defined}


def incremental(people: int, target: int, seed: int, rounds: dict[int, int]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sampan-bench-incremental-"))
    try:
        runtime, source_id, names = build_workspace(folder, people, target, seed)
        rng = random.Random(seed + 1)
        for size, batches in rounds.items():
            timings = Timings({"live": [], "none": []}, [], [], {})
            for n in range(2 * batches):
                # Alternate, so that both modes see the same machine and the same data size.
                mode = "live" if n % 2 == 0 else "none"
                now = datetime.now(UTC)
                _send(runtime, source_id, [_live_message(rng, people, now) for _ in range(size)])
                settle()
                with _instrumented(timings, mode):
                    start = time.perf_counter()
                    with runtime.derived_db.transaction() as session:
                        processed = runtime.advance_pipeline(session).processed
                    timings.pipeline[mode].append(time.perf_counter() - start)
                gc.unfreeze()
                if processed != size:
                    sys.exit(f"the pipeline took {processed} events, expected {size}")
            _report_incremental(size, batches, names, timings)
        runtime.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _report_incremental(size: int, batches: int, names: dict[str, str], timings: Timings) -> None:
    def figures(values: list[float]) -> str:
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        return (
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms per batch = "
            f"p50 {p50 / size:.2f} ms, p99 {p99 / size:.2f} ms per event"
        )

    live, none = timings.pipeline["live"], timings.pipeline["none"]
    label = f"{len(names)} segments"
    print(f"batches of {size} event(s), {batches} per mode, modes alternating:")
    print(f"  pipeline step with {label}: {figures(live)}")
    print(f"  pipeline step with no live segment: {figures(none)}")
    print(f"  segments' reaction (react_to_batch) with {label}: {figures(timings.react)}")
    print(f"    of which evaluating membership: {figures(timings.evaluate)}")
    added = statistics.median(live) - statistics.median(none)
    print(
        f"  median cost of the segments over none: {added * 1000:.1f} ms per batch, "
        f"{added * 1000 / size:.2f} ms per event"
    )
    slowest = sorted(timings.by_segment.items(), key=lambda kv: -statistics.median(kv[1]))
    print("  slowest segments to evaluate for a batch (median ms per batch):")
    for segment_id, values in slowest[:5]:
        print(f"    {statistics.median(values) * 1000:6.1f}  {names.get(segment_id, segment_id)}")
    rest = [statistics.median(v) for _, v in slowest[5:]]
    print(f"    {sum(rest) * 1000:6.1f}  the other {len(rest)} together")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", help="keep the generated database here and reuse it on later runs"
    )
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--incremental-people", type=int, default=20_000)
    parser.add_argument("--segments", type=int, default=50)
    parser.add_argument("--single-batches", type=int, default=200, help="per mode")
    parser.add_argument("--large-batches", type=int, default=30, help="per mode")
    args = parser.parse_args()
    pin_self(1)
    started = time.perf_counter()
    print("part 1: full recompute of one segment, Sampan's SQL against pandas")
    with workspace_file(args.data_dir, args.people, args.events, args.seed) as path:
        full_recompute(path, args.repeats)
    if not args.skip_incremental:
        print(f"\npart 2: membership upkeep in the pipeline, {args.segments} live segments")
        incremental(
            args.incremental_people,
            args.segments,
            args.seed,
            {1: args.single_batches, 200: args.large_batches},
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s, peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()

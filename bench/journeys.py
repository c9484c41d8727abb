"""Journeys: 100,000 entries at once, timer lateness, and memory with 1,000,000 runs waiting.

1. Entries and steps. N people (identified, with LINE ids and marketing consent) are loaded
   through the event pipeline. A live journey starts on "Signed Up": split A/B, send a
   personalised LINE (A) or e-mail (B) message to the outbox, tag the profile, wait a day.
   N "Signed Up" events are logged at once; the run times the pipeline folding them (runs
   start inside its transactions), then the worker advancing every run to its wait. In the
   same run the pipeline folds N "Page Viewed"-like events no journey listens to: the entry
   overhead is the ratio of the two rates.
2. Timer lateness. 20,000 runs (``--timers``) wait on timers due over two minutes (10,000
   a minute, the first 20 s ahead); a JourneyRunner thread (as in ``sampan serve``) fires
   them on the real clock. Lateness = when the step after the wait was taken minus when its
   timer was due.
3. Memory. Runs are written waiting on timers a day away (10,000, then 1,000,000); a fresh
   process advances 5,000 due runs among them in rounds of 500 and reports its resident
   memory after the first round and its highest after any later one. Flat memory = the
   same figures at both sizes.

This process is pinned to core 0. With --postgres-url (or SAMPAN_TEST_POSTGRES_URL) the run
uses PostgreSQL, whose public schema is DROPPED and recreated.

Usage: python -m bench.journeys [--people 100000] [--waiting 1000000] [--timers 20000]
[--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

from bench.harness import pin_self
from sampan.cli.process import tune_garbage_collector
from sampan.collect import service as collect
from sampan.db.migrate import upgrade
from sampan.journeys import service as journeys
from sampan.journeys.models import Run, Step
from sampan.journeys.schemas import JourneyInput
from sampan.messaging import service as messaging
from sampan.messaging.models import Message
from sampan.messaging.schemas import ChannelInput, TemplateInput
from sampan.profiles.models import Profile
from sampan.runtime import Runtime
from sampan.settings import Settings
from sampan.worker import JourneyRunner

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 2_000
TIMERS_PER_MINUTE = 10_000
TIMER_LEAD_S = 20.0
DUE_IN_MEMORY_PROBE = 5_000

WELCOME: dict[str, Any] = {
    "entry": {"type": "event", "event": "Signed Up"},
    "start": "ab",
    "nodes": [
        {
            "id": "ab",
            "type": "split",
            "paths": [
                {"name": "A", "weight": 1, "next": "line"},
                {"name": "B", "weight": 1, "next": "mail"},
            ],
        },
        {
            "id": "line",
            "type": "send",
            "template": "welcome",
            "channels": ["line-oa"],
            "next": "tag",
        },
        {"id": "mail", "type": "send", "template": "welcome", "channels": ["mail"], "next": "tag"},
        {"id": "tag", "type": "update_profile", "traits": {"welcomed": True}, "next": "pause"},
        {"id": "pause", "type": "wait", "duration": "1d"},
    ],
}
TIMER: dict[str, Any] = {
    "entry": {"type": "event", "event": "Timer Test"},
    "start": "pause",
    "nodes": [
        {"id": "pause", "type": "wait", "duration": "1d", "next": "done"},
        {"id": "done", "type": "exit"},
    ],
}
TEMPLATE = TemplateInput(
    name="welcome",
    bodies={
        "line": {"th": {"messages": [{"type": "text", "text": "สวัสดีคุณ{{ profile.first_name }}"}]}},
        "email": {"th": {"subject": "ยินดีต้อนรับคุณ{{ profile.first_name }}", "text": "สวัสดีค่ะ"}},
    },
)


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def workspace(database_url: str | None, tmp: Path) -> Runtime:
    url = database_url or f"sqlite:///{tmp / 'sampan.db'}"
    if database_url:
        reset_postgres(database_url)
    upgrade(url)
    return Runtime.from_settings(Settings(data_dir=tmp, database_url=url, frequency_caps={}))


def log_events(runtime: Runtime, source_id: str, payloads: Iterator[dict[str, Any]]) -> int:
    """Store events straight into the log, in chunks; return how many."""
    count = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        now = datetime.now(UTC)
        accepted = collect.normalise_messages(
            {"batch": batch}, endpoint_type=None, source_kind="web", received_at=now
        )
        with runtime.db.transaction() as session:
            collect.store_messages(
                session,
                source_id=source_id,
                messages=accepted,
                received_ms=int(now.timestamp() * 1000),
            )

    for payload in payloads:
        batch.append(payload)
        count += 1
        if len(batch) == CHUNK:
            flush()
            batch = []
    if batch:
        flush()
    return count


def drain_pipeline(runtime: Runtime) -> int:
    total = 0
    while True:
        with runtime.derived_db.transaction() as session:
            done = runtime.advance_pipeline(session).processed
        with runtime.derived_db.transaction() as session:
            runtime.react_to_changes(session)
        if not done:
            return total
        total += done


def people(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        user = f"bench-{i}"
        yield {
            "type": "identify",
            "userId": user,
            "traits": {
                "first_name": f"คน{i}",
                "email": f"c{i}@example.com",
                "line_user_id": f"U{uuid.uuid5(uuid.NAMESPACE_OID, user).hex}",
            },
        }
        yield {
            "type": "track",
            "userId": user,
            "event": "Consent Updated",
            "properties": {
                "consents": [
                    {"purpose": "marketing", "channel": c, "status": "granted"}
                    for c in ("line", "email")
                ]
            },
        }


def events(n: int, name: str) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"type": "track", "userId": f"bench-{i}", "event": name, "properties": {"i": i}}


def publish(runtime: Runtime, name: str, definition: dict[str, Any]) -> str:
    env = runtime.journey_env()
    with runtime.db.transaction() as session:
        made = journeys.create_journey(session, data=JourneyInput(name=name, definition=definition))
        journeys.publish_journey(session, journey_id=made.id, env=env)
    return made.id


def setup(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        source = collect.create_source(session, name="bench", kind="web").id
        for name, kind, config in (
            ("line-oa", "line", {"channel_access_token": "t", "channel_secret": "s"}),
            ("mail", "email", {"host": "127.0.0.1", "port": 2525, "from_address": "a@b.co"}),
        ):
            messaging.create_channel(
                session,
                data=ChannelInput(name=name, kind=kind, config=config),
                rules=runtime.messaging_rules,
            )
        messaging.save_template(session, data=TEMPLATE, rules=runtime.messaging_rules)
    return source


def entries_and_steps(runtime: Runtime, source: str, n: int) -> dict[str, float]:
    started = time.perf_counter()
    log_events(runtime, source, people(n))
    drain_pipeline(runtime)
    print(f"  {n} people loaded in {time.perf_counter() - started:.1f} s", flush=True)
    publish(runtime, "welcome", WELCOME)
    # The plain pipeline rate, on events no journey listens to.
    log_events(runtime, source, events(n, "Page Seen"))
    t0 = time.perf_counter()
    drain_pipeline(runtime)
    plain = time.perf_counter() - t0
    log_events(runtime, source, events(n, "Signed Up"))
    t0 = time.perf_counter()
    drain_pipeline(runtime)
    entering = time.perf_counter() - t0
    with runtime.db.reading() as session:
        entered = session.scalar(select(func.count()).select_from(Run)) or 0
    if entered != n:
        raise RuntimeError(f"{entered} runs started, expected {n}")
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    while runtime.advance_journeys(limit=500):
        pass
    stepping = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    with runtime.db.reading() as session:
        steps = session.scalar(
            select(func.count()).select_from(Step).where(Step.node_id != "entry")
        )
        waiting = session.scalar(select(func.count()).select_from(Run).where(Run.waiting.is_(True)))
        queued = session.scalar(select(func.count()).select_from(Message))
    if waiting != n or queued != n:
        raise RuntimeError(f"{waiting} waiting and {queued} messages, expected {n} each")
    return {
        "people": n,
        "plain_events_per_s": n / plain,
        "entries_per_s": n / entering,
        "entry_seconds": entering,
        "steps": float(steps or 0),
        "step_seconds": stepping,
        "steps_per_s": (steps or 0) / stepping,
        "runs_per_s": n / stepping,
        "cpu_share": cpu / stepping,
    }


def insert_waiting(
    runtime: Runtime, journey_id: str, profiles: list[str], dues: list[datetime]
) -> None:
    now = datetime.now(UTC)
    rows = []
    for i, (profile_id, due) in enumerate(zip(profiles, dues, strict=True)):
        rows.append(
            {
                "id": f"run_bench_{journey_id[-6:]}_{i:08d}",
                "journey_id": journey_id,
                "version": 1,
                "profile_id": profile_id,
                "entry_key": None,
                "status": "active",
                "node_id": "pause",
                "waiting": True,
                "due_at": due,
                "entry_seq": 0,
                "wait_after_seq": 0,
                "trigger": {},
                "variables": {},
                "entered_at": now,
                "steps": 1,
            }
        )
        if len(rows) == 20_000:
            with runtime.db.transaction() as session:
                session.execute(insert(Run), rows)
            rows = []
    if rows:
        with runtime.db.transaction() as session:
            session.execute(insert(Run), rows)


def profile_ids(runtime: Runtime, n: int) -> list[str]:
    with runtime.db.reading() as session:
        found = list(
            session.scalars(select(Profile.id).where(Profile.merged_into.is_(None)).limit(n))
        )
    return (found * (n // max(1, len(found)) + 1))[:n]


def timer_lateness(runtime: Runtime, timers: int) -> dict[str, float]:
    journey_id = publish(runtime, "timers", TIMER)
    start = datetime.now(UTC) + timedelta(seconds=TIMER_LEAD_S)
    step = 60.0 / TIMERS_PER_MINUTE
    dues = [start + timedelta(seconds=i * step) for i in range(timers)]
    insert_waiting(runtime, journey_id, profile_ids(runtime, timers), dues)
    runner = JourneyRunner(runtime)
    runner.start()
    try:
        deadline = time.monotonic() + TIMER_LEAD_S + timers * step + 120
        while True:
            with runtime.db.reading() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(Run)
                    .where(Run.journey_id == journey_id, Run.status == "active")
                )
            if not left:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{left} timers never fired")
            time.sleep(1.0)
    finally:
        runner.stop()
    with runtime.db.reading() as session:
        fired = dict(
            session.execute(
                select(Step.run_id, Step.at).where(
                    Step.journey_id == journey_id, Step.outcome == "waited"
                )
            ).all()
        )
    due_of = {f"run_bench_{journey_id[-6:]}_{i:08d}": due for i, due in enumerate(dues)}
    lateness = sorted((fired[run] - due).total_seconds() for run, due in due_of.items())
    cuts = statistics.quantiles(lateness, n=100, method="inclusive")
    return {
        "timers": float(len(lateness)),
        "p50_s": cuts[49],
        "p99_s": cuts[98],
        "max_s": lateness[-1],
        "min_s": lateness[0],
    }


def memory(runtime: Runtime, waiting: int) -> dict[str, float]:
    journey_id = publish(runtime, f"memory {waiting}", TIMER)
    later = datetime.now(UTC) + timedelta(days=1)
    now = datetime.now(UTC) - timedelta(seconds=1)
    ids = profile_ids(runtime, waiting + DUE_IN_MEMORY_PROBE)
    dues = [later] * waiting + [now] * DUE_IN_MEMORY_PROBE
    t0 = time.perf_counter()
    insert_waiting(runtime, journey_id, ids, dues)
    print(f"  {waiting + DUE_IN_MEMORY_PROBE} runs written in {time.perf_counter() - t0:.0f} s")
    probe = subprocess.run(
        [sys.executable, "-m", "bench.journeys", "--probe"],
        env={
            **os.environ,
            "SAMPAN_DATABASE_URL": runtime.settings.resolved_database_url(),
            "SAMPAN_DATA_DIR": str(runtime.settings.data_dir),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(probe.stdout.strip().splitlines()[-1])
    with runtime.db.transaction() as session:
        session.execute(
            text("UPDATE journeys_journeys SET status = 'archived' WHERE id = :id"),
            {"id": journey_id},
        )
    return result | {"waiting": float(waiting)}


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def probe() -> None:
    """Advance the due runs in rounds in this fresh process; print its memory growth."""
    pin_self(0)
    runtime = Runtime.from_settings(Settings())
    # One round first: imports, statement caches and the connection pool are in memory.
    runtime.advance_journeys(limit=500)
    base = rss_kib()
    peak = base
    advanced = 0
    while step := runtime.advance_journeys(limit=500):
        advanced += step
        peak = max(peak, rss_kib())
    print(
        json.dumps(
            {"advanced": advanced, "base_mib": base / 1024, "growth_mib": (peak - base) / 1024}
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--waiting", type=int, default=1_000_000)
    parser.add_argument("--timers", type=int, default=20_000)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SAMPAN_TEST_POSTGRES_URL") or None
    )
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        probe()
        return
    pin_self(0)
    tune_garbage_collector()
    tmp = Path(tempfile.mkdtemp(prefix="sampan-bench-journeys-"))
    backend = "postgresql" if args.postgres_url else "sqlite"
    runtime = workspace(args.postgres_url, tmp)
    try:
        source = setup(runtime)
        print(f"{backend}: entries and steps for {args.people} people", flush=True)
        flow = entries_and_steps(runtime, source, args.people)
        print(f"{backend}: timer lateness, {args.timers} timers at 10,000/min", flush=True)
        timers = timer_lateness(runtime, args.timers)
        print(f"{backend}: memory with runs waiting", flush=True)
        small = memory(runtime, 10_000)
        large = memory(runtime, args.waiting)
    finally:
        runtime.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\n{backend}, this process on core 0\n"
        f"entries: {flow['people']:.0f} 'Signed Up' events folded by the pipeline, starting a "
        f"run each, in {flow['entry_seconds']:.1f} s = {flow['entries_per_s']:,.0f}/s; the same "
        f"pipeline on events no journey listens to: {flow['plain_events_per_s']:,.0f}/s "
        f"(ratio {flow['entries_per_s'] / flow['plain_events_per_s']:.2f})\n"
        f"steps: {flow['steps']:,.0f} steps (split, send, tag, wait) in "
        f"{flow['step_seconds']:.1f} s = {flow['steps_per_s']:,.0f} steps/s, "
        f"{flow['runs_per_s']:,.0f} runs/s to their wait (CPU {flow['cpu_share']:.0%})\n"
        f"timers: {timers['timers']:,.0f} due at 10,000/min, lateness p50 "
        f"{timers['p50_s'] * 1000:.0f} ms, p99 {timers['p99_s'] * 1000:.0f} ms, max "
        f"{timers['max_s'] * 1000:.0f} ms (aim: p99 under 1 s)\n"
        f"memory: a worker advancing {DUE_IN_MEMORY_PROBE:,} due runs held "
        f"{small['base_mib']:.0f} MiB after its first round and grew {small['growth_mib']:.1f} "
        f"MiB more with {small['waiting']:,.0f} runs waiting; {large['base_mib']:.0f} MiB and "
        f"{large['growth_mib']:.1f} MiB with {large['waiting']:,.0f} waiting",
        flush=True,
    )


if __name__ == "__main__":
    main()

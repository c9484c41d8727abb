"""Messaging: messages/s from the outbox to loopback LINE and SMTP servers vs a bare client.

A workspace of N people (LINE user id, e-mail address, marketing consent on both) gets one
personalised Thai message per person: first on LINE (push, no multicast grouping since every
text differs), then by e-mail. For each channel the run times the enqueue (rows written to the
outbox per second), then ``Dispatcher.drain()`` (claim, re-check consent and quiet hours,
send on the dispatcher's thread pool, record outcomes and "Message Sent" events), then a bare
client sending the same rendered messages from the same process, core and thread count:
line-bot-sdk ``push_message_with_http_info`` for LINE, smtplib on one reused connection per
thread for SMTP. Overhead = 1 - ours / bare: what the outbox's guarantees cost.

This process runs on core 0; each provider server runs in its own process on core 1 (its
busy share of that core is printed, so a server-bound figure shows). Every repetition starts
from an empty outbox; figures are medians. With --postgres-url (or SAMPAN_TEST_POSTGRES_URL)
the run is repeated on PostgreSQL; that database's public schema is DROPPED and recreated,
and its server processes are not pinned.

Usage: python -m bench.messaging [--people 5000] [--repeat 3] [--postgres-url URL]
[--profile] [--threads N] [--batch-size N]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import time as clock_time
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    PushMessageRequest,
)
from sqlalchemy import create_engine, delete, func, select, text

from bench.harness import free_port, pin_self, pinned
from sampan.access import service as access
from sampan.api.app import create_app
from sampan.cli.process import tune_garbage_collector
from sampan.collect import service as collect
from sampan.db.migrate import upgrade
from sampan.messaging.models import Message
from sampan.messaging.schemas import Outgoing
from sampan.messaging.service import enqueue
from sampan.profiles.models import Profile
from sampan.runtime import Runtime
from sampan.settings import QuietHours, Settings

ROOT = Path(__file__).resolve().parent.parent
LINE_TOKEN = "bench-channel-access-token"
LINE_SECRET = "bench-line-channel-secret-0123456789"
FROM_ADDRESS = "shop@sampan.example"
FROM_NAME = "ร้านสำเภา"
PEOPLE_PER_REQUEST = 500
ENQUEUE_CHUNK = 500
NAMES = ["สมชาย", "สมหญิง", "มะลิ", "นก", "ฟ้า", "ดาว", "พลอย", "ต้น", "แก้ว", "บุญมี"]
TEMPLATE: dict[str, Any] = {
    "name": "bench-welcome",
    "category": "marketing",
    "bodies": {
        "line": {
            "th": {
                "messages": [
                    {
                        "type": "text",
                        "text": "สวัสดีคุณ{{ profile.first_name }} โปรเดือนนี้ลด 20% ทุกชิ้น",
                    }
                ]
            }
        },
        "email": {
            "th": {
                "subject": "ยินดีต้อนรับคุณ{{ profile.first_name }}",
                "text": "สวัสดีคุณ{{ profile.first_name }} ดูโปรได้ที่ https://shop.example/welcome",
                "html": "<p>สวัสดีคุณ{{ profile.first_name }}</p>"
                '<a href="https://shop.example/welcome">ช้อปเลย</a>',
            }
        },
    },
}
# What the dispatcher's e-mail adapter writes: 7bit makes Thai bodies base64/quoted-printable.
MAIL_POLICY = SMTP_POLICY.clone(cte_type="7bit")
# A counting SMTP server (aiosmtpd); its DATA reply carries how many messages it accepted.
SMTP_SERVER = """
import sys, time
from aiosmtpd.controller import Controller

class Counter:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return f"250 2.0.0 Ok: queued as {Counter.count}"

controller = Controller(
    Counter(), hostname="127.0.0.1", port=int(sys.argv[1]), enable_SMTPUTF8=True
)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


# -- provider servers in their own pinned processes ---------------------------------------------


@dataclass
class Provider:
    name: str
    proc: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def provider(name: str, cmd: list[str]) -> Iterator[Provider]:
    port = free_port()
    proc = subprocess.Popen(
        [*pinned(1), sys.executable, *cmd, str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            raise RuntimeError(f"{name} server did not start: {line!r}")
        yield Provider(name, proc, port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def line_server() -> AbstractContextManager[Provider]:
    cmd = ["-m", "tests.messaging.servers.line", "--token", LINE_TOKEN, "--port"]
    return provider("LINE", cmd)


def smtp_server() -> AbstractContextManager[Provider]:
    return provider("SMTP", ["-c", SMTP_SERVER])


def line_accepted(server: Provider) -> int:
    return int(httpx.get(f"{server.url}/__loopback__/stats").json()["accepted"])


def smtp_accepted(server: Provider) -> int:
    """Send one probe message and read the server's count from its reply (minus the probe)."""
    with smtplib.SMTP("127.0.0.1", server.port, local_hostname="localhost") as conn:
        conn.ehlo()
        conn.mail("probe@example.com")
        conn.rcpt("probe@example.com")
        code, reply = conn.data(b"Subject: probe\r\n\r\nprobe\r\n")
    if code != 250:
        raise RuntimeError(f"SMTP probe refused: {code} {reply!r}")
    return int(reply.decode().rsplit(" ", 1)[1]) - probe_count(server)


_probes: dict[int, int] = {}


def probe_count(server: Provider) -> int:
    _probes[server.port] = _probes.get(server.port, 0) + 1
    return _probes[server.port]


# -- the workspace ------------------------------------------------------------------------------


@dataclass
class Bench:
    runtime: Runtime
    template_id: str
    profile_ids: list[str]
    tmp: Path


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def line_user_id(i: int) -> str:
    return "U" + hashlib.md5(f"bench-{i}".encode()).hexdigest()  # noqa: S324 - not security


def people_batches(people: int) -> Iterator[bytes]:
    for start in range(0, people, PEOPLE_PER_REQUEST):
        batch: list[dict[str, Any]] = []
        for i in range(start, min(people, start + PEOPLE_PER_REQUEST)):
            user_id = f"bench-{i}"
            batch.append(
                {
                    "type": "identify",
                    "userId": user_id,
                    "traits": {
                        "first_name": f"{NAMES[i % len(NAMES)]}{i}",
                        "locale": "th-TH",
                        "email": f"customer{i}@example.com",
                        "line_user_id": line_user_id(i),
                    },
                    "context": {"locale": "th-TH"},
                }
            )
            batch.append(
                {
                    "type": "track",
                    "userId": user_id,
                    "event": "Consent Updated",
                    "properties": {
                        "consents": [
                            {"purpose": "marketing", "channel": channel, "status": "granted"}
                            for channel in ("line", "email")
                        ]
                    },
                }
            )
        yield orjson.dumps({"batch": batch})


def build_workspace(
    database_url: str | None,
    people: int,
    line: Provider,
    smtp: Provider,
    threads: int,
    batch_size: int,
) -> Bench:
    tmp = Path(tempfile.mkdtemp(prefix="sampan-bench-messaging-"))
    url = database_url or f"sqlite:///{tmp / 'sampan.db'}"
    if database_url:
        reset_postgres(database_url)
    upgrade(url)
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        quiet_hours=QuietHours(start=clock_time(0), end=clock_time(0)),
        frequency_caps={},
        message_send_threads=threads,
        message_batch_size=batch_size,
    )
    runtime = Runtime.from_settings(settings)
    with runtime.db.transaction() as session:
        api_key = access.issue_api_key(session, name="bench").api_key
        write_key = collect.create_source(session, name="Web shop", kind="web").write_key
    auth = {"Authorization": f"Bearer {api_key}"}
    with TestClient(create_app(runtime, run_worker=False)) as client:
        for body in people_batches(people):
            response = client.post(
                "/v1/batch",
                content=body,
                headers={"X-Write-Key": write_key, "Content-Type": "application/json"},
            )
            response.raise_for_status()
        client.app.app.state.pipeline.drain()  # type: ignore[attr-defined]
        channels = [
            {
                "name": "line-oa",
                "kind": "line",
                "config": {
                    "channel_access_token": LINE_TOKEN,
                    "channel_secret": LINE_SECRET,
                    "api_base": line.url,
                },
            },
            {
                "name": "mail",
                "kind": "email",
                "config": {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "security": "none",
                    "from_address": FROM_ADDRESS,
                    "from_name": FROM_NAME,
                    "helo_name": "localhost",
                    # One connection per send thread, as the bare client has.
                    "max_connections": threads,
                },
            },
        ]
        for channel in channels:
            response = client.post("/api/messaging/channels", json=channel, headers=auth)
            if response.status_code != 201:
                raise RuntimeError(response.text)
        response = client.post("/api/messaging/templates", json=TEMPLATE, headers=auth)
        if response.status_code != 201:
            raise RuntimeError(response.text)
        template_id = str(response.json()["id"])
    with runtime.db.reading() as session:
        profile_ids = list(session.scalars(select(Profile.id).where(Profile.merged_into.is_(None))))
    if len(profile_ids) != people:
        raise RuntimeError(f"expected {people} profiles, found {len(profile_ids)}")
    return Bench(runtime, template_id, profile_ids, tmp)


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Figure:
    rate: float  # messages per second
    ours: float  # share of core 0 this process used
    server: float  # share of core 1 the provider server used
    # Share of each core used by anything else meanwhile: other processes (PostgreSQL, other
    # jobs on the machine) and the kernel's loopback networking.
    other0: float
    other1: float


def core_cpu_seconds() -> list[float]:
    """Return the busy CPU time of each core since boot (idle, iowait and steal excluded)."""
    busy = []
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                # user nice system idle iowait irq softirq steal ...
                values = [int(v) for v in fields[:7]]
                busy.append((sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"))
    return busy


@dataclass
class Results:
    figures: dict[str, list[Figure]] = field(default_factory=dict)

    def add(self, key: str, figure: Figure) -> None:
        self.figures.setdefault(key, []).append(figure)

    def median(self, key: str, attr: str = "rate") -> float:
        return statistics.median(getattr(f, attr) for f in self.figures[key])


def timed(count: int, server: Provider | None, work: Callable[[], None]) -> Figure:
    server_before = server.cpu_seconds() if server else 0.0
    cores_before = core_cpu_seconds()
    cpu_before = time.process_time()
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    cores = [after - before for after, before in zip(core_cpu_seconds(), cores_before, strict=True)]
    server_cpu = (server.cpu_seconds() - server_before) if server else 0.0
    other0 = max(0.0, cores[0] - cpu) / elapsed
    other1 = max(0.0, cores[1] - server_cpu) / elapsed if len(cores) > 1 else 0.0
    return Figure(count / elapsed, cpu / elapsed, server_cpu / elapsed, other0, other1)


def enqueue_all(bench: Bench, channel: str, run: str) -> None:
    runtime = bench.runtime
    for start in range(0, len(bench.profile_ids), ENQUEUE_CHUNK):
        items = [
            Outgoing(
                profile_id=profile_id,
                template_id=bench.template_id,
                channels=(channel,),
                idempotency_key=f"bench:{run}:{channel}:{profile_id}",
                category="marketing",
                origin="api",
            )
            for profile_id in bench.profile_ids[start : start + ENQUEUE_CHUNK]
        ]
        with runtime.db.transaction() as session:
            enqueue(
                session,
                items=items,
                rules=runtime.messaging_rules,
                catalog=runtime.catalog,
                currency=runtime.settings.default_currency,
            )


def queued(bench: Bench) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Return (address, rendered content, headers) of every queued message, in send order."""
    with bench.runtime.db.reading() as session:
        rows = session.execute(
            select(Message.address, Message.content, Message.headers)
            .where(Message.status == "queued")
            .order_by(Message.due_at)
        ).all()
    return [(str(a), dict(c), dict(h)) for a, c, h in rows]


def statuses(bench: Bench) -> dict[str, int]:
    with bench.runtime.db.reading() as session:
        rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
        return {status: int(n) for status, n in rows}


def clear_outbox(bench: Bench) -> None:
    """Empty the outbox (TRUNCATE on PostgreSQL, so that no dead rows slow later runs)."""
    with bench.runtime.db.transaction() as session:
        if bench.runtime.db.is_sqlite:
            session.execute(delete(Message))
        else:
            session.execute(text(f"TRUNCATE {Message.__tablename__}"))


def drain(bench: Bench) -> None:
    dispatcher = bench.runtime.dispatcher()
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()


def bare_line(server: Provider, jobs: Sequence[tuple[str, dict[str, Any]]], threads: int) -> None:
    """Push each message with the official SDK from ``threads`` threads, as a script would."""
    configuration = Configuration(host=server.url, access_token=LINE_TOKEN)
    configuration.connection_pool_maxsize = threads
    client = ApiClient(configuration)
    api = MessagingApi(client)

    def push(job: tuple[str, dict[str, Any]]) -> int:
        to, content = job
        request = PushMessageRequest.from_dict({"to": to, "messages": content["messages"]})
        response = api.push_message_with_http_info(request, x_line_retry_key=str(uuid.uuid4()))
        return int(response.status_code)

    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        codes = list(pool.map(push, jobs))
    finally:
        pool.shutdown()
        client.close()
    if any(code != 200 for code in codes):
        raise RuntimeError("bare LINE client: a push was refused")


def bare_smtp(
    server: Provider, jobs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], threads: int
) -> None:
    """Build each MIME message and send it on one reused connection per thread."""
    local = threading.local()
    opened: list[smtplib.SMTP] = []
    domain = FROM_ADDRESS.rpartition("@")[2]

    def send(job: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
        to, content, headers = job
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = Address(display_name=FROM_NAME, addr_spec=FROM_ADDRESS)
        message["To"] = to
        message["Subject"] = content["subject"]
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{uuid.uuid4()}@{domain}>"
        for name, value in headers.items():
            message[name] = value
        message.set_content(content["text"])
        if content.get("html"):
            message.add_alternative(content["html"], subtype="html")
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = smtplib.SMTP("127.0.0.1", server.port, local_hostname="localhost")
            opened.append(conn)
        conn.sendmail(FROM_ADDRESS, [to], message.as_bytes())

    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        list(pool.map(send, jobs))
    finally:
        pool.shutdown()
        for conn in opened:
            conn.quit()


def measure(
    bench: Bench,
    results: Results,
    backend: str,
    runs: int,
    threads: int,
    servers: dict[str, Provider],
) -> None:
    people = len(bench.profile_ids)
    for run in range(runs):
        for kind, channel in (("line", "line-oa"), ("email", "mail")):
            server = servers[kind]
            accepted = line_accepted if kind == "line" else smtp_accepted
            clear_outbox(bench)
            results.add(
                f"{backend}:{kind}:enqueue",
                timed(people, None, partial(enqueue_all, bench, channel, f"{run}")),
            )
            jobs = queued(bench)
            if len(jobs) != people:
                raise RuntimeError(f"{kind}: {len(jobs)} queued of {people}: {statuses(bench)}")
            before = accepted(server)
            bare: Callable[[], None]
            if kind == "line":
                bare = partial(
                    bare_line, server, [(to, content) for to, content, _ in jobs], threads
                )
            else:
                bare = partial(bare_smtp, server, jobs, threads)
            # Alternate the order so that drift (caches, other load) favours neither side.
            order = [("ours", partial(drain, bench)), ("bare", bare)]
            for name, work in order if run % 2 == 0 else order[::-1]:
                results.add(f"{backend}:{kind}:{name}", timed(people, server, work))
            done = statuses(bench)
            if done != {"sent": people}:
                raise RuntimeError(f"{kind}: the outbox did not send everything: {done}")
            arrived = accepted(server) - before
            if arrived != 2 * people:
                raise RuntimeError(f"{kind}: the server accepted {arrived}, not {2 * people}")
            last = {
                name: results.figures[f"{backend}:{kind}:{name}"][-1]
                for name in ("enqueue", "ours", "bare")
            }
            ours, bare = last["ours"], last["bare"]
            print(
                f"  {backend} run {run + 1}: {kind:5} enqueue {last['enqueue'].rate:5.0f}/s  "
                f"ours {ours.rate:5.0f}/s  bare {bare.rate:5.0f}/s  "
                f"busy ours/bare: us {ours.ours:.0%}/{bare.ours:.0%} "
                f"server {ours.server:.0%}/{bare.server:.0%} "
                f"other on core 0 {ours.other0:.0%}/{bare.other0:.0%} "
                f"on core 1 {ours.other1:.0%}/{bare.other1:.0%}",
                flush=True,
            )


def profile(bench: Bench, backend: str, limit: int = 30) -> None:
    """cProfile one drain per channel in every thread; print where dispatching spends time.

    Times are summed over the dispatcher thread and the send threads (waits included), so
    they add up to more than the wall time; compare functions with each other.
    """
    for kind, channel in (("line", "line-oa"), ("email", "mail")):
        clear_outbox(bench)
        enqueue_all(bench, channel, "profile")
        profilers: list[cProfile.Profile] = []

        def start_in_thread(*_: object, profilers: list[cProfile.Profile] = profilers) -> None:
            # Runs on the first event of each new thread: hand over to a profiler of its own.
            profiler = cProfile.Profile()
            profilers.append(profiler)
            profiler.enable()

        threading.setprofile(start_in_thread)
        main_profiler = cProfile.Profile()
        started = time.perf_counter()
        main_profiler.enable()
        try:
            drain(bench)  # the dispatcher's send threads start and end inside
        finally:
            main_profiler.disable()
            threading.setprofile(None)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        stats = pstats.Stats(main_profiler)
        for profiler in profilers:
            stats.add(profiler)
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(r"sampan[/\\](messaging|consent|collect)", limit)
        listing = out.getvalue()
        print(
            f"\n-- {backend} {kind}: drain of {len(bench.profile_ids)} messages under cProfile "
            f"took {elapsed:.1f} s; cumulative seconds summed over all threads --"
        )
        print(listing[listing.index("ncalls") :] if "ncalls" in listing else listing)


# -- the run ------------------------------------------------------------------------------------


def run_backend(
    backend: str, database_url: str | None, args: argparse.Namespace, results: Results
) -> None:
    # Fresh provider servers per backend: the loopback LINE server keeps every retry key.
    with line_server() as line, smtp_server() as smtp:
        started = time.perf_counter()
        bench = build_workspace(
            database_url, args.people, line, smtp, args.threads, args.batch_size
        )
        print(f"{backend}: {args.people} people loaded in {time.perf_counter() - started:.1f} s")
        try:
            tune_garbage_collector()
            measure(
                bench, results, backend, args.repeat, args.threads, {"line": line, "email": smtp}
            )
            if args.profile:
                profile(bench, backend)
        finally:
            bench.runtime.dispose()
            shutil.rmtree(bench.tmp, ignore_errors=True)


def report(results: Results, backends: Sequence[str], threads: int) -> None:
    runs = len(next(iter(results.figures.values())))
    print(
        f"\nMedians of {runs} runs; {threads} send threads; this process pinned to core 0, "
        "each provider server to core 1.\n"
        "msg/s: wall-clock rate; overhead = 1 - ours/bare (median of the per-run ratios).\n"
        "per CPU-s: messages per CPU-second of this process (the per-core figure); CPU ovh: "
        "the same ratio on it.\n"
        "core shares, ours|bare: us = this process; server = the provider server; other = "
        "anything else\n  (PostgreSQL, the kernel's loopback networking, other jobs: "
        "figures are only clean when it is ~0)."
    )
    header = (
        f"{'backend':10} {'channel':7} {'enqueue':>7} {'ours':>6} {'bare':>6} {'overhead':>8} "
        f"{'ours/CPU-s':>10} {'bare/CPU-s':>10} {'CPU ovh':>7} {'core0 us':>9} "
        f"{'core0 other':>11} {'core1 server':>12} {'core1 other':>11}"
    )
    print(header)
    print("-" * len(header))

    def pair(key: str, attr: str) -> str:
        ours = results.median(f"{key}:ours", attr)
        return f"{ours:.0%}|{results.median(f'{key}:bare', attr):.0%}"

    for backend in backends:
        for kind in ("line", "email"):
            key = f"{backend}:{kind}"
            ours, bare = results.figures[f"{key}:ours"], results.figures[f"{key}:bare"]
            pairs = list(zip(ours, bare, strict=True))
            overhead = statistics.median(1 - o.rate / b.rate for o, b in pairs)
            ours_cpu = statistics.median(o.rate / o.ours for o in ours)
            bare_cpu = statistics.median(b.rate / b.ours for b in bare)
            cpu_overhead = statistics.median(
                1 - (o.rate / o.ours) / (b.rate / b.ours) for o, b in pairs
            )
            print(
                f"{backend:10} {kind:7} {results.median(f'{key}:enqueue'):7.0f} "
                f"{results.median(f'{key}:ours'):6.0f} {results.median(f'{key}:bare'):6.0f} "
                f"{overhead:8.0%} {ours_cpu:10.0f} {bare_cpu:10.0f} {cpu_overhead:7.0%} "
                f"{pair(key, 'ours'):>9} {pair(key, 'other0'):>11} {pair(key, 'server'):>12} "
                f"{pair(key, 'other1'):>11}"
            )
    print("\nAims: overhead under 25%; at least 1,000 LINE pushes/s per core.")
    for backend in backends:
        line = results.figures[f"{backend}:line:ours"]
        rate = statistics.median(o.rate for o in line)
        per_cpu = statistics.median(o.rate / o.ours for o in line)
        verdict = "meets" if min(rate, per_cpu) >= 1000 else "misses"
        print(
            f"  {backend}: LINE {rate:.0f} pushes/s wall, {per_cpu:.0f} per CPU-second of "
            f"core 0: {verdict} 1,000/s"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SAMPAN_TEST_POSTGRES_URL", "").strip() or None,
        help="also run on this PostgreSQL database (its public schema is dropped first)",
    )
    parser.add_argument("--threads", type=int, default=Settings().message_send_threads)
    parser.add_argument("--batch-size", type=int, default=Settings().message_batch_size)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one extra drain per channel"
    )
    args = parser.parse_args(argv)
    pin_self(0)
    backends = [("sqlite", None)]
    if args.postgres_url:
        backends.append(("postgresql", args.postgres_url))
    else:
        print("PostgreSQL skipped (no --postgres-url or SAMPAN_TEST_POSTGRES_URL)")
    results = Results()
    for backend, url in backends:
        run_backend(backend, url, args, results)
    report(results, [name for name, _ in backends], args.threads)


if __name__ == "__main__":
    main()

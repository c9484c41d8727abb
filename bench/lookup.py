"""Profile lookup: GET /api/profiles/lookup?phone= under concurrent keep-alive clients.

Compared with the bare floor of the same server (GET /healthz, same client, same
concurrency), and measured again while ingestion runs at a steady rate. Server pinned to
core 0, clients on core 1. Usage: python -m bench.lookup [--customers 20000] [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from bench.events import batches as make_batches
from bench.harness import Server, percentile, pin_self, post_all, sampan_server
from bench.ingest import wait_drained

T = TypeVar("T")


@dataclass(frozen=True)
class LoadResult:
    """What one closed-loop run of keep-alive clients saw."""

    requests: int
    elapsed: float
    latencies: list[float]
    errors: int
    first_error: str
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


@dataclass(frozen=True)
class IngestResult:
    """What the paced ingestion offered, and how long each batch waited for its 200."""

    events: int
    failed: int
    offered_seconds: float
    latencies: list[float]


def phone_of(person: int) -> str:
    """Return the customer's mobile as bench.events writes it, so both streams share people."""
    return f"08{person % 10}{person:07d}"


def customer_batches(customers: int, size: int = 100) -> list[list[dict[str, Any]]]:
    """Return one identify per customer: user id, anonymous id, e-mail and phone."""
    messages = [
        {
            "type": "identify",
            "messageId": f"lookup-load-{p}",
            "userId": f"M{p:07d}",
            "anonymousId": f"anon-{p}-0",
            "traits": {
                "name": f"ลูกค้า {p}",
                "email": f"c{p}@example.co.th",
                "phone": phone_of(p),
            },
            "timestamp": "2026-01-01T00:00:00+00:00",
        }
        for p in range(customers)
    ]
    return [messages[i : i + size] for i in range(0, len(messages), size)]


def thai_forms(national: str) -> list[str]:
    """Return ``0812345678`` as people type it: bare, dashed and international."""
    return [
        f"{national[:3]}-{national[3:6]}-{national[6:]}",
        national,
        f"+66 {national[1:3]} {national[3:6]} {national[6:]}",
    ]


def get_request(url: str, path: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{extra}\r\n".encode()


def post_request(url: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one pre-built request on a keep-alive connection; return status and body."""
    writer.write(request)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return int(status_line.split(b" ", 2)[1]), body


async def closed_loop(
    url: str, requests: Iterator[bytes], concurrency: int, seconds: float
) -> LoadResult:
    """Keep ``concurrency`` connections busy for ``seconds``, one request in flight on each."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors: list[str] = []

    async def connection(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, body = await exchange(reader, writer, next(requests))
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"{status} {body[:200]!r}")
        finally:
            writer.close()

    cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(connection(start + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return LoadResult(
        requests=len(latencies),
        elapsed=elapsed,
        latencies=latencies,
        errors=len(errors),
        first_error=errors[0] if errors else "",
        client_cpu=(time.process_time() - cpu) / elapsed,
    )


async def paced_ingest(
    url: str, bodies: Iterator[tuple[int, bytes]], per_second: float, stop: asyncio.Event
) -> IngestResult:
    """POST batches on a fixed schedule until ``stop`` is set.

    Open loop: a batch is due at its scheduled time whether or not earlier ones were
    answered, and its latency counts from that time, so a slow server shows as latency
    instead of quietly lowering the offered rate.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    queue: asyncio.Queue[tuple[float, int, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    accepted = failed = 0

    async def sender() -> None:
        nonlocal accepted, failed
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await queue.get()) is not None:
                due, events, request = item
                status, _ = await exchange(reader, writer, request)
                latencies.append(time.perf_counter() - due)
                if status == 200:
                    accepted += events
                else:
                    failed += events
        finally:
            writer.close()

    senders = [asyncio.create_task(sender()) for _ in range(8)]
    start = time.perf_counter()
    for sent in itertools.count():
        due = start + sent / per_second
        if due > time.perf_counter():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), due - time.perf_counter())
        if stop.is_set():
            break
        queue.put_nowait((due, *next(bodies)))
    offered = time.perf_counter() - start
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    return IngestResult(accepted, failed, offered, latencies)


async def lookup_while_ingesting(
    url: str,
    requests: Iterator[bytes],
    concurrency: int,
    seconds: float,
    bodies: Iterator[tuple[int, bytes]],
    events_per_second: float,
) -> tuple[LoadResult, IngestResult]:
    stop = asyncio.Event()
    ingest = asyncio.create_task(paced_ingest(url, bodies, events_per_second / 100, stop))
    await asyncio.sleep(1)  # let the worker get busy before measuring
    result = await closed_loop(url, requests, concurrency, seconds)
    stop.set()
    return result, await ingest


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when it is there: it keeps the load generator cheap."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def load_customers(server: Server, customers: int) -> str:
    batches = customer_batches(customers)
    bodies = [orjson.dumps({"batch": b}) for b in batches]
    start = time.perf_counter()
    run(lambda: post_all(server.url, "/v1/batch", bodies, {"X-Write-Key": server.write_key}, 8))
    posted = time.perf_counter() - start
    wait_drained(server.url, server.auth)
    drained = time.perf_counter() - start
    total = httpx.get(f"{server.url}/api/profiles?limit=1", headers=server.auth).json()["total"]
    return (
        f"loaded {customers:,} customers (identify with userId, anonymousId, e-mail, phone): "
        f"accepted in {posted:.1f} s, in profiles after {drained:.1f} s; "
        f"{total:,} profiles in the workspace"
    )


def check_answers(server: Server, customers: int, rng: random.Random) -> None:
    """Look a few customers up and check the answer is theirs, not merely a 200."""
    for person in rng.sample(range(customers), 20):
        form = rng.choice(thai_forms(phone_of(person)))
        response = httpx.get(
            f"{server.url}/api/profiles/lookup", params={"phone": form}, headers=server.auth
        )
        values = {i["value"] for i in response.json().get("identities", [])}
        if response.status_code != 200 or f"M{person:07d}" not in values:
            sys.exit(f"lookup of {form!r} answered {response.status_code}: {response.text[:300]}")


def summary(label: str, results: Sequence[LoadResult]) -> str:
    med = statistics.median
    return (
        f"{label:<38} {med(r.rate for r in results):>9,.0f} req/s   "
        f"p50 {med(r.p50_ms for r in results):6.1f} ms   "
        f"p99 {med(r.p99_ms for r in results):6.1f} ms   "
        f"(client core {med(r.client_cpu for r in results):.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=6, help="per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ingest-rate", type=float, default=2000, help="events/s, 2nd line")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pin_self(1)
    rng = random.Random(args.seed)

    runs = args.repeats * len(args.concurrency)
    background = make_batches(
        count=int(args.ingest_rate / 100 * (args.seconds + 2) * runs) + 10,
        people=args.customers,
        seed=args.seed + 100,
    )
    background_bodies = [(len(b), orjson.dumps({"batch": b})) for b in background]

    with sampan_server(worker=True) as server:
        print(load_customers(server, args.customers))
        check_answers(server, args.customers, rng)
        auth = {"Authorization": f"Bearer {server.api_key}"}
        lookups = itertools.cycle(
            [
                get_request(
                    server.url,
                    "/api/profiles/lookup?"
                    + urlencode({"phone": rng.choice(thai_forms(phone_of(person)))}),
                    auth,
                )
                for person in (rng.randrange(args.customers) for _ in range(50_000))
            ]
        )
        health = itertools.repeat(get_request(server.url, "/healthz", {}))
        ingest_requests = (
            (n, post_request(server.url, "/v1/batch", body, {"X-Write-Key": server.write_key}))
            for n, body in background_bodies
        )
        # Warm up: connections, thread pool, SQLite page cache.
        for warm in (health, lookups):
            run(lambda w=warm: closed_loop(server.url, w, 8, 1))

        bare: dict[int, list[LoadResult]] = {c: [] for c in args.concurrency}
        lookup: dict[int, list[LoadResult]] = {c: [] for c in args.concurrency}
        loaded: dict[int, list[LoadResult]] = {c: [] for c in args.concurrency}
        ingest_notes: dict[int, list[str]] = {c: [] for c in args.concurrency}
        ingest_failed = 0
        for repeat in range(args.repeats):
            for c in args.concurrency:
                bare[c].append(run(lambda c=c: closed_loop(server.url, health, c, args.seconds)))
                lookup[c].append(run(lambda c=c: closed_loop(server.url, lookups, c, args.seconds)))
                result, ingest = run(
                    lambda c=c: lookup_while_ingesting(
                        server.url, lookups, c, args.seconds, ingest_requests, args.ingest_rate
                    )
                )
                loaded[c].append(result)
                ingest_failed += ingest.failed
                backlog = httpx.get(f"{server.url}/api/pipeline", headers=server.auth).json()
                drain_start = time.perf_counter()
                wait_drained(server.url, server.auth)
                note = (
                    f"ingest offered {args.ingest_rate:,.0f} ev/s for "
                    f"{ingest.offered_seconds:.1f} s: {ingest.events:,} events accepted, "
                    f"{ingest.failed} failed, batch answered p50 "
                    f"{percentile(ingest.latencies, 50) * 1000:.0f} ms / p99 "
                    f"{percentile(ingest.latencies, 99) * 1000:.0f} ms after due; pipeline "
                    f"backlog {backlog['backlog']:,} at the end, drained in "
                    f"{time.perf_counter() - drain_start:.1f} s"
                )
                ingest_notes[c].append(note)
                print(
                    f"run {repeat + 1}, {c} connections: healthz {bare[c][-1].rate:,.0f} req/s, "
                    f"lookup {lookup[c][-1].rate:,.0f} req/s, lookup while ingesting "
                    f"{result.rate:,.0f} req/s; {note}"
                )

    errors = {
        name: sum(r.errors for rs in results.values() for r in rs)
        for name, results in (("healthz", bare), ("lookup", lookup), ("loaded", loaded))
    }
    print()
    print(
        f"{args.customers:,} customers; phones written as 081-234-5678 / 0812345678 / "
        f"+66 81 234 5678 at random; {args.seconds:g} s per measurement, "
        f"medians of {args.repeats} repeats; keep-alive clients on core 1, server on core 0"
    )
    for c in args.concurrency:
        print(f"-- {c} connections")
        print(summary("GET /healthz (floor)", bare[c]))
        print(summary("GET /api/profiles/lookup?phone=", lookup[c]))
        print(summary(f"  same, ingesting {args.ingest_rate:,.0f} events/s", loaded[c]))
        floor = statistics.median(r.rate for r in bare[c])
        quiet = statistics.median(r.rate for r in lookup[c])
        busy = statistics.median(r.rate for r in loaded[c])
        print(
            f"ratio lookup / healthz throughput: {quiet / floor:.0%}; "
            f"while ingesting: {busy / floor:.0%}"
        )
        print(f"  ingestion (last repeat): {ingest_notes[c][-1]}")
    print(
        f"errors (non-200): healthz {errors['healthz']}, lookup {errors['lookup']}, "
        f"lookup while ingesting {errors['loaded']}; ingested events refused {ingest_failed}"
    )
    failures = [r.first_error for d in (bare, lookup, loaded) for rs in d.values() for r in rs]
    if any(errors.values()):
        sys.exit(f"some answers were not 200, e.g. {next(f for f in failures if f)}")
    if ingest_failed:
        sys.exit(f"{ingest_failed:,} ingested events were refused")


if __name__ == "__main__":
    main()

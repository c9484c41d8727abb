"""Ingestion: events/s through POST /v1/batch vs the raw insert rate of the same store.

Also the accept-to-profile delay (p50/p99) at a sustained load. Server pinned to core 0,
load generator on core 1. Usage: python bench/ingest.py [--batches 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from bench.events import batches as make_batches
from bench.harness import percentile, pin_self, post_all, sampan_server
from sampan.cli.process import tune_garbage_collector
from sampan.collect.ingest import store_messages
from sampan.collect.segment_spec import normalise_messages
from sampan.db.engine import connect
from sampan.db.migrate import upgrade


async def blast(
    url: str, write_key: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float]]:
    return await post_all(url, "/v1/batch", bodies, {"X-Write-Key": write_key}, concurrency)


async def paced(url: str, write_key: str, bodies: list[bytes], per_second: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        headers = {"X-Write-Key": write_key, "Content-Type": "application/json"}
        start = time.perf_counter()
        pending = []
        for i, body in enumerate(bodies):
            delay = start + i / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(
                asyncio.create_task(client.post("/v1/batch", content=body, headers=headers))
            )
        for response in await asyncio.gather(*pending):
            if response.status_code != 200:
                raise RuntimeError(response.text)


def wait_drained(url: str, auth: dict[str, str], timeout: float = 600) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = httpx.get(f"{url}/api/pipeline", headers=auth).json()
        if report["backlog"] == 0:
            return dict(report)
        time.sleep(0.1)
    raise RuntimeError("pipeline did not drain")


def raw_insert_rate(all_batches: list[list[dict[str, object]]]) -> float:
    """Insert the same normalised events straight into a fresh store, one commit per batch.

    Under the same garbage-collector tuning as the server, so both run at their best.
    """
    tmp = Path(tempfile.mkdtemp(prefix="sampan-raw-"))
    url = f"sqlite:///{tmp / 'raw.db'}"
    upgrade(url)
    db = connect(url)
    now = datetime.now(UTC)
    prepared = [
        normalise_messages({"batch": b}, endpoint_type=None, source_kind="web", received_at=now)
        for b in all_batches
    ]
    tune_garbage_collector()
    start = time.perf_counter()
    for messages in prepared:
        with db.transaction() as session:
            store_messages(session, source_id="src_raw", messages=messages, received_ms=0)
    elapsed = time.perf_counter() - start
    db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return sum(len(m) for m in prepared) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--paced-rates", default="1000,2500,5000", help="events/s of the sustained lag runs"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pin_self(1)
    all_batches = make_batches(count=args.batches)
    bodies = [orjson.dumps({"batch": b}) for b in all_batches]
    events = sum(len(b) for b in all_batches)

    api_rates, raw_rates, p50s, p99s = [], [], [], []
    for run in range(args.repeats):
        with sampan_server(worker=False) as server:
            elapsed, latencies = asyncio.run(
                blast(server.url, server.write_key, bodies, args.concurrency)
            )
        api_rates.append(events / elapsed)
        p50s.append(percentile(latencies, 50) * 1000)
        p99s.append(percentile(latencies, 99) * 1000)
        pin_self(0)
        raw_rates.append(raw_insert_rate(all_batches))
        pin_self(1)
        print(
            f"run {run + 1}: API {api_rates[-1]:,.0f} ev/s (p50 {p50s[-1]:.1f} ms, "
            f"p99 {p99s[-1]:.1f} ms), raw insert {raw_rates[-1]:,.0f} ev/s"
        )

    with sampan_server(worker=True) as server:
        start = time.perf_counter()
        elapsed, _ = asyncio.run(blast(server.url, server.write_key, bodies, args.concurrency))
        wait_drained(server.url, server.auth)
        with_worker = events / elapsed
        end_to_end = events / (time.perf_counter() - start)
    lag_reports = []
    for rate in (float(r) for r in args.paced_rates.split(",")):
        lag_batches = make_batches(count=max(1, int(rate * 10 / 100)), seed=11)
        with sampan_server(worker=True) as server:
            asyncio.run(
                paced(
                    server.url,
                    server.write_key,
                    [orjson.dumps({"batch": b}) for b in lag_batches],
                    rate / 100,
                )
            )
            lag_reports.append((rate, wait_drained(server.url, server.auth)))

    api, raw = statistics.median(api_rates), statistics.median(raw_rates)
    print()
    print(f"events per run: {events:,} in batches of 100, {args.concurrency} connections")
    print(
        f"ingest (API, worker off), median: {api:,.0f} events/s; "
        f"request p50 {statistics.median(p50s):.1f} ms, p99 {statistics.median(p99s):.1f} ms"
    )
    print(f"raw insert into the same store, median: {raw:,.0f} events/s")
    print(f"ratio API / raw: {api / raw:.0%}")
    print(
        f"ingest with the in-process worker running: {with_worker:,.0f} events/s; "
        f"accepted-to-all-in-profiles: {end_to_end:,.0f} events/s"
    )
    for rate, report in lag_reports:
        print(
            f"accept-to-profile delay at {rate:,.0f} events/s for 10 s: "
            f"p50 {report['lag_ms_p50']:.0f} ms, p99 {report['lag_ms_p99']:.0f} ms "
            f"({report['lag_samples']:,} events)"
        )


if __name__ == "__main__":
    main()

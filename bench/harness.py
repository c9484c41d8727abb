"""Shared benchmark plumbing: a real `sampan serve` process pinned to one core."""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int) -> list[str]:
    """Return a taskset prefix pinning a command to one core, when taskset exists."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def pin_self(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


@dataclass
class Server:
    url: str
    api_key: str
    write_key: str
    data_dir: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@contextmanager
def sampan_server(*, worker: bool = True, cpu: int = 0) -> Iterator[Server]:
    """Initialise a fresh SQLite workspace and serve it from a separate, pinned process."""
    data_dir = Path(tempfile.mkdtemp(prefix="sampan-bench-"))
    env = {**os.environ, "SAMPAN_DATA_DIR": str(data_dir)}
    env.pop("SAMPAN_DATABASE_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "sampan.cli", "init", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    keys = json.loads(init.stdout)
    port = free_port()
    cmd = [*pinned(cpu), sys.executable, "-m", "sampan.cli", "serve", "--port", str(port)]
    if not worker:
        cmd.append("--no-worker")
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield Server(url, keys["api_key"], keys["write_key"], data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    return cuts[max(0, min(998, round(pct * 10) - 1))]


async def post_all(
    url: str, path: str, bodies: Sequence[bytes], headers: dict[str, str], concurrency: int
) -> tuple[float, list[float]]:
    """POST every body over ``concurrency`` keep-alive connections; return time and latencies.

    A minimal HTTP/1.1 client on asyncio streams: requests are pre-built bytes, so the load
    generator costs little next to the server it measures.
    """
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    latencies: list[float] = []
    next_index = iter(range(len(requests)))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in next_index:
                started = time.perf_counter()
                writer.write(requests[i])
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if b" 200 " not in status_line:
                    raise RuntimeError(f"{status_line!r} {body!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies

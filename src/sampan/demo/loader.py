"""Send the demo data set to a running Sampan through its Segment-compatible tracking API."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import datetime

import httpx
import orjson
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from sampan import __version__
from sampan.demo.generator import DemoSummary, generate_events, summarise
from sampan.demo.messages import DemoEvent

# Limits of Segment's HTTP Tracking API, which the /v1/batch endpoint keeps.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2_500
_ENVELOPE = len(b'{"batch":[]}')


class DemoLoadError(RuntimeError):
    """Report that the tracking API refused, or never received, part of the demo data."""


def load_demo(
    *,
    base_url: str,
    write_keys: Mapping[str, str],
    seed: int,
    customers: int,
    end: datetime,
    show_progress: bool = True,
    batch_size: int = 100,
) -> DemoSummary:
    """Generate the demo events and POST them to `base_url`/v1/batch with each source's key.

    Batches of one source go out in timestamp order on one connection each; sources go in
    parallel, since the server does not depend on the order across sources.
    """
    if not 1 <= batch_size <= MAX_BATCH_EVENTS:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_EVENTS}, got {batch_size}")
    events = list(generate_events(seed=seed, customers=customers, end=end))
    batches = _batches_per_source(events, batch_size=batch_size)
    missing = sorted(set(batches) - set(write_keys))
    if missing:
        raise DemoLoadError(
            f"no write key for source(s) {', '.join(missing)}: "
            f"pass one write key for each of {', '.join(sorted(batches))}"
        )
    url = f"{base_url.rstrip('/')}/v1/batch"
    stop = threading.Event()
    headers = {"Content-Type": "application/json", "User-Agent": f"sampan-demo/{__version__}"}
    with (
        httpx.Client(headers=headers, timeout=60.0) as client,
        _progress(len(events), enabled=show_progress) as advance,
        ThreadPoolExecutor(max_workers=len(batches) or 1, thread_name_prefix="demo") as pool,
    ):
        futures = [
            pool.submit(_send, client, url, write_keys[source], source, planned, advance, stop)
            for source, planned in batches.items()
        ]
        for future in as_completed(futures):
            future.result()
    return summarise(events)


def _batches_per_source(
    events: Iterable[DemoEvent], *, batch_size: int
) -> dict[str, list[list[bytes]]]:
    """Split each source's events, in order, into batches under the count and byte limits."""
    batches: dict[str, list[list[bytes]]] = {}
    open_bytes: dict[str, int] = {}
    for event in events:
        encoded = orjson.dumps(event.payload)
        if len(encoded) > MAX_EVENT_BYTES:
            raise DemoLoadError(
                f"demo event {event.payload.get('messageId')} is {len(encoded)} bytes, "
                f"above the {MAX_EVENT_BYTES}-byte limit per event"
            )
        source_batches = batches.setdefault(event.source, [[]])
        current = source_batches[-1]
        size = open_bytes.get(event.source, _ENVELOPE)
        # +1 for the comma that joins this event to the previous one.
        if current and (len(current) >= batch_size or size + 1 + len(encoded) > MAX_BATCH_BYTES):
            current = []
            source_batches.append(current)
            size = _ENVELOPE
        size += len(encoded) + (1 if current else 0)
        current.append(encoded)
        open_bytes[event.source] = size
    return batches


def _send(
    client: httpx.Client,
    url: str,
    write_key: str,
    source: str,
    batches: list[list[bytes]],
    advance: Callable[[int], None],
    stop: threading.Event,
) -> None:
    """POST one source's batches in order, stopping early once any source has failed."""
    try:
        for batch in batches:
            if stop.is_set():
                return
            body = b'{"batch":[' + b",".join(batch) + b"]}"
            try:
                response = client.post(url, content=body, auth=(write_key, ""))
            except httpx.HTTPError as error:
                raise DemoLoadError(
                    f"could not send {source} demo events to {url}: {error}"
                ) from error
            if response.status_code != 200:
                raise DemoLoadError(
                    f"POST {url} with the {source} write key answered HTTP "
                    f"{response.status_code}: {response.text[:500]}"
                )
            advance(len(batch))
    except BaseException:
        stop.set()
        raise


class _EventsPerSecond(ProgressColumn):
    """Show how many events per second the server is accepting."""

    def render(self, task: Task) -> Text:
        """Return the current speed, or a dash before there is one."""
        speed = task.finished_speed or task.speed
        return Text(
            f"{speed:,.0f} events/s" if speed else "– events/s", style="progress.data.speed"
        )


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _count: None
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _EventsPerSecond(),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task("Sending demo events", total=total)
        yield lambda count: progress.advance(task, count)

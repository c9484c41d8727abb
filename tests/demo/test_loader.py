from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sampan.demo.generator import BANGKOK, generate_events
from sampan.demo.loader import MAX_BATCH_BYTES, DemoLoadError, load_demo

END = datetime(2025, 6, 30, 21, 0, tzinfo=BANGKOK)
WRITE_KEYS = {"web": "wk_web", "app": "wk_app", "pos": "wk_pos", "line": "wk_line"}


@dataclass
class Received:
    source: str
    size: int
    events: list[dict[str, Any]]


@dataclass
class FakeTrackingApi:
    status: int = 200
    batches: list[Received] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


@pytest.fixture
def tracking_api() -> Iterator[FakeTrackingApi]:
    api = FakeTrackingApi()
    sources = {key: source for source, key in WRITE_KEYS.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with api.lock:
                api.requests += 1
            scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
            user, _, password = base64.b64decode(credentials).decode().partition(":")
            if (
                self.path != "/v1/batch"
                or scheme != "Basic"
                or user not in sources
                or password
                or api.status != 200
            ):
                self.answer(401, {"success": False, "error": "invalid write key"})
                return
            events = json.loads(body)["batch"]
            with api.lock:
                api.batches.append(Received(sources[user], len(body), events))
            self.answer(200, {"success": True})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            encoded = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


def test_every_event_arrives_once_with_its_sources_write_key(
    tracking_api: FakeTrackingApi,
) -> None:
    expected = list(generate_events(seed=5, customers=60, end=END))

    summary = load_demo(
        base_url=tracking_api.url,
        write_keys=WRITE_KEYS,
        seed=5,
        customers=60,
        end=END,
        show_progress=False,
    )

    received = [event for batch in tracking_api.batches for event in batch.events]
    counts = Counter(event["messageId"] for event in received)
    assert sorted(counts) == sorted(event.payload["messageId"] for event in expected)
    assert set(counts.values()) == {1}
    assert all(
        event["context"]["channel"] == batch.source
        for batch in tracking_api.batches
        for event in batch.events
    )
    assert all(len(batch.events) <= 100 for batch in tracking_api.batches)
    assert all(batch.size <= MAX_BATCH_BYTES for batch in tracking_api.batches)
    assert summary.events == len(expected)
    assert summary.customers == 60


def test_batches_of_one_source_arrive_in_timestamp_order(tracking_api: FakeTrackingApi) -> None:
    load_demo(
        base_url=tracking_api.url,
        write_keys=WRITE_KEYS,
        seed=5,
        customers=60,
        end=END,
        show_progress=False,
        batch_size=25,
    )

    for source in WRITE_KEYS:
        stamps = [
            datetime.fromisoformat(event["timestamp"])
            for batch in tracking_api.batches
            if batch.source == source
            for event in batch.events
        ]
        assert stamps
        assert stamps == sorted(stamps)


def test_large_batches_are_split_to_stay_under_500_kb(tracking_api: FakeTrackingApi) -> None:
    load_demo(
        base_url=tracking_api.url,
        write_keys=WRITE_KEYS,
        seed=5,
        customers=120,
        end=END,
        show_progress=False,
        batch_size=2_500,
    )

    sizes = [batch.size for batch in tracking_api.batches]
    assert max(sizes) <= MAX_BATCH_BYTES
    assert max(sizes) > MAX_BATCH_BYTES * 0.9
    assert sum(1 for batch in tracking_api.batches if batch.source == "web") >= 2


def test_a_refused_write_key_raises_an_error_naming_the_status(
    tracking_api: FakeTrackingApi,
) -> None:
    tracking_api.status = 401

    with pytest.raises(DemoLoadError, match="HTTP 401") as raised:
        load_demo(
            base_url=tracking_api.url,
            write_keys=WRITE_KEYS,
            seed=5,
            customers=60,
            end=END,
            show_progress=False,
        )

    assert "invalid write key" in str(raised.value)
    assert tracking_api.batches == []
    assert tracking_api.requests <= len(WRITE_KEYS)


def test_a_missing_write_key_is_reported_before_anything_is_sent(
    tracking_api: FakeTrackingApi,
) -> None:
    keys = {source: key for source, key in WRITE_KEYS.items() if source != "pos"}

    with pytest.raises(DemoLoadError, match="no write key for source\\(s\\) pos"):
        load_demo(
            base_url=tracking_api.url,
            write_keys=keys,
            seed=5,
            customers=60,
            end=END,
            show_progress=False,
        )

    assert tracking_api.requests == 0


def test_progress_bar_does_not_break_loading(tracking_api: FakeTrackingApi) -> None:
    summary = load_demo(
        base_url=tracking_api.url,
        write_keys=WRITE_KEYS,
        seed=5,
        customers=20,
        end=END,
        show_progress=True,
    )

    assert sum(len(batch.events) for batch in tracking_api.batches) == summary.events

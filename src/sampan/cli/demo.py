"""``sampan demo``: serve, load the demo brand through the public API, print where to look."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from rich.console import Console
from sqlalchemy.orm import Session

from sampan.access import service as access
from sampan.api.app import create_app
from sampan.cli.process import tune_garbage_collector
from sampan.cli.workspace import initialise
from sampan.collect import service as collect
from sampan.demo.commerce import install_commerce
from sampan.demo.journeys import install_journeys
from sampan.demo.loader import load_demo
from sampan.demo.messaging import install_messaging
from sampan.profiles import service as profiles
from sampan.runtime import Runtime

DEMO_SOURCES = {
    "web": "Demo web shop",
    "app": "Demo mobile app",
    "pos": "Demo branches POS",
    "line": "Demo LINE OA",
}
# A fixed, published password: demo workspaces are for trying Sampan, never for real data.
DEMO_PASSWORD = "sampan-demo-2026"
DEMO_USERS = {
    "admin": "ผู้ดูแลระบบ",
    "privacy_officer": "เจ้าหน้าที่คุ้มครองข้อมูล",
    "service_agent": "พนักงานบริการลูกค้า",
    "store_staff": "พนักงานสาขาสยาม",
    "marketer": "ฝ่ายการตลาด",
    "analyst": "นักวิเคราะห์ข้อมูล",
    "developer": "นักพัฒนาระบบ",
}


def run_demo(
    runtime: Runtime,
    *,
    seed: int,
    customers: int,
    host: str,
    port: int,
    serve: bool,
    console: Console,
    end: datetime | None = None,
) -> None:
    """Start the server, load the demo data once per workspace, then keep serving."""
    initialise(runtime)
    with runtime.db.transaction() as session:
        existing = {s.name for s in collect.list_sources(session)}
        already_loaded = set(DEMO_SOURCES.values()) <= existing
        keys = {}
        if not already_loaded:
            for kind, name in DEMO_SOURCES.items():
                keys[kind] = collect.create_source(session, name=name, kind=kind).write_key
        api_key = access.issue_api_key(session, name="demo").api_key
        _create_demo_users(session)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime),
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
        )
    )
    base_url = f"http://{host}:{port}"
    # Never in the future: the data ends now (to the minute) unless an end is given.
    zone = ZoneInfo(runtime.settings.timezone)
    end = end.replace(tzinfo=end.tzinfo or zone) if end else datetime.now(zone)
    end = end.astimezone(zone).replace(second=0, microsecond=0)

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        if already_loaded:
            console.print("Demo data already loaded in this workspace; serving it.")
        else:
            summary = load_demo(
                base_url=base_url, write_keys=keys, seed=seed, customers=customers, end=end
            )
            console.print(
                f"Sent {summary.events:,} events for {summary.customers:,} customers "
                f"({summary.orders:,} orders)."
            )
            _wait_for_pipeline(runtime, console)
            # RFM groups and time-based segments are otherwise first scored on the schedule.
            httpx.post(
                f"{base_url}/api/segments/evaluate",
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=600,
            ).raise_for_status()
            install_messaging(base_url=base_url, api_key=api_key)
            install_journeys(base_url=base_url, api_key=api_key)
        # Also in a workspace loaded before commerce existed; it changes nothing the second time.
        shop = install_commerce(runtime.db, runtime.commerce_env(), seed=seed)
        console.print(
            f"Stocked {shop.skus} SKUs at {shop.locations} locations "
            f"({shop.transfers} transfers in transit)."
        )
        console.rule("Sampan demo is ready")
        lines = [
            f"API docs   {base_url}/api/docs",
            f"API        {base_url}/api  (Authorization: Bearer {api_key})",
            f"Tracking   {base_url}/v1/batch",
            *(f"Write key  {DEMO_SOURCES[kind]}: {key}" for kind, key in keys.items()),
            f"Try        curl -G -H 'Authorization: Bearer {api_key}' "
            f"{base_url}/api/profiles --data-urlencode 'q=สม'",
            f"Log in     POST {base_url}/api/auth/login as admin@sampan.local, "
            f"password {DEMO_PASSWORD}",
            "Users      "
            + ", ".join(f"{role}@sampan.local" for role in DEMO_USERS if role != "admin")
            + " (same password)",
        ]
        for line in lines:
            console.print(line, soft_wrap=True, highlight=False)
        if not serve:
            server.should_exit = True

    loader = threading.Thread(target=load, name="sampan-demo-loader", daemon=True)
    tune_garbage_collector()
    loader.start()
    server.run()
    loader.join(timeout=1)


def _create_demo_users(session: Session) -> None:
    """Create one console user per role, ``<role>@sampan.local``, unless they exist."""
    existing = {user.email for user in access.list_users(session)}
    for role, name in DEMO_USERS.items():
        email = f"{role}@sampan.local"
        if email not in existing:
            access.create_user(session, email=email, name=name, role=role, password=DEMO_PASSWORD)


def _wait_for_pipeline(runtime: Runtime, console: Console) -> None:
    with console.status("Resolving identities and building profiles..."):
        while True:
            with runtime.db.reading() as session:
                status = profiles.pipeline_status(session)
            if status.backlog == 0:
                return
            time.sleep(0.2)

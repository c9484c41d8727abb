"""HTTP routes of journeys under /api/journeys."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request

from sampan.access.guards import require
from sampan.access.schemas import Principal
from sampan.db.engine import Database
from sampan.db.requests import database
from sampan.journeys import service
from sampan.journeys.schemas import (
    CouponOut,
    JourneyEnv,
    JourneyInput,
    JourneyMetrics,
    JourneyOut,
    PlaybookInstall,
    PlaybookOut,
    RedeemInput,
    RunOut,
    SimulationInput,
    SimulationOut,
    TaskOut,
    ValidationOut,
)

router = APIRouter(prefix="/api/journeys", tags=["journeys"])
Db = Annotated[Database, Depends(database)]
Reader = Annotated[Principal, require("journeys:read")]
Writer = Annotated[Principal, require("journeys:write")]


async def _env(request: Request) -> JourneyEnv:
    factory = request.app.state.journey_env
    env = factory()
    assert isinstance(env, JourneyEnv)
    return env


Env = Annotated[JourneyEnv, Depends(_env)]


def _wake(request: Request) -> None:
    runner = getattr(request.app.state, "journeys", None)
    if runner is not None:
        runner.notify()


@router.get("", response_model=list[JourneyOut], summary="List journeys")
def list_journeys(db: Db, _: Reader) -> list[JourneyOut]:
    """Return every journey, newest first."""
    with db.reading() as session:
        return service.list_journeys(session)


@router.post("", response_model=JourneyOut, status_code=201, summary="Create a journey draft")
def create_journey(data: JourneyInput, db: Db, env: Env, _: Writer) -> JourneyOut:
    """Save a draft; it runs only once published. A malformed graph is refused with 400."""
    with db.transaction() as session:
        return service.create_journey(session, data=data, clock=env.clock)


@router.post("/validate", response_model=ValidationOut, summary="Check a definition")
def validate(
    db: Db, env: Env, _: Reader, definition: Annotated[dict[str, Any], Body(embed=True)]
) -> ValidationOut:
    """List every problem with a definition, each at its JSON path (e.g. ``nodes[2].next``)."""
    with db.reading() as session:
        return service.validate_definition(session, definition=definition, env=env)


@router.get("/playbooks", response_model=list[PlaybookOut], summary="List playbooks")
def list_playbooks(_: Reader) -> list[PlaybookOut]:
    """Return the ready-made journeys shipped with Sampan."""
    return service.list_playbooks()


@router.post(
    "/playbooks/{key}/install",
    response_model=JourneyOut,
    status_code=201,
    summary="Install a playbook",
)
def install_playbook(
    key: str,
    request: Request,
    db: Db,
    env: Env,
    _: Writer,
    data: Annotated[PlaybookInstall | None, Body()] = None,
) -> JourneyOut:
    """Create the playbook's templates and segments if missing, and its journey (a draft)."""
    with db.transaction() as session:
        out = service.install_playbook(
            session, key=key, data=data or PlaybookInstall(), env=env, clock=env.clock
        )
    _wake(request)
    return out


@router.get("/tasks", response_model=list[TaskOut], summary="List tasks journeys created")
def list_tasks(
    db: Db,
    _: Reader,
    team: str | None = None,
    status: Literal["open", "done"] = "open",
) -> list[TaskOut]:
    """Return open (or done) tasks, for one team or all."""
    with db.reading() as session:
        return service.list_tasks(session, team=team, status=status)


@router.post("/tasks/{task_id}/done", response_model=TaskOut, summary="Complete a task")
def complete_task(task_id: str, db: Db, env: Env, _: Writer) -> TaskOut:
    """Mark a task done."""
    with db.transaction() as session:
        return service.complete_task(session, task_id=task_id, clock=env.clock)


@router.get("/coupons/{code}", response_model=CouponOut, summary="Look a coupon up")
def get_coupon(code: str, db: Db, _: Reader) -> CouponOut:
    """Return a coupon a journey issued and whether it was used."""
    with db.reading() as session:
        return service.get_coupon(session, code=code)


@router.post("/coupons/{code}/redeem", response_model=CouponOut, summary="Use a coupon")
def redeem_coupon(code: str, data: RedeemInput, db: Db, env: Env, _: Writer) -> CouponOut:
    """Use a coupon for an order: once only (the same order again is harmless), before expiry."""
    with db.transaction() as session:
        return service.redeem_coupon(session, code=code, order_id=data.order_id, clock=env.clock)


@router.get("/runs/{run_id}", response_model=RunOut, summary="Get a run with its path")
def get_run(run_id: str, db: Db, _: Reader) -> RunOut:
    """Return a run and every step it took."""
    with db.reading() as session:
        return service.get_run(session, run_id=run_id)


@router.get("/{journey_id}", response_model=JourneyOut, summary="Get a journey")
def get_journey(journey_id: str, db: Db, _: Reader) -> JourneyOut:
    """Return one journey with its draft."""
    with db.reading() as session:
        return service.get_journey(session, journey_id=journey_id)


@router.put("/{journey_id}", response_model=JourneyOut, summary="Replace a journey's draft")
def update_journey(journey_id: str, data: JourneyInput, db: Db, env: Env, _: Writer) -> JourneyOut:
    """Save a new draft; what runs changes on the next publish."""
    with db.transaction() as session:
        return service.update_journey(session, journey_id=journey_id, data=data, clock=env.clock)


@router.post("/{journey_id}/publish", response_model=JourneyOut, summary="Publish the draft")
def publish(journey_id: str, request: Request, db: Db, env: Env, _: Writer) -> JourneyOut:
    """Publish the draft as a new version and make the journey live."""
    with db.transaction() as session:
        out = service.publish_journey(session, journey_id=journey_id, env=env, clock=env.clock)
    _wake(request)
    return out


@router.post("/{journey_id}/pause", response_model=JourneyOut, summary="Pause a journey")
def pause(journey_id: str, db: Db, env: Env, _: Writer) -> JourneyOut:
    """Stop entries and hold every timer until resumed."""
    with db.transaction() as session:
        return service.pause_journey(session, journey_id=journey_id, paused=True, clock=env.clock)


@router.post("/{journey_id}/resume", response_model=JourneyOut, summary="Resume a journey")
def resume(journey_id: str, request: Request, db: Db, env: Env, _: Writer) -> JourneyOut:
    """Let a paused journey run again; timers that came due meanwhile fire now."""
    with db.transaction() as session:
        out = service.pause_journey(session, journey_id=journey_id, paused=False, clock=env.clock)
    _wake(request)
    return out


@router.post("/{journey_id}/archive", response_model=JourneyOut, summary="Archive a journey")
def archive(journey_id: str, db: Db, env: Env, _: Writer) -> JourneyOut:
    """End every run in flight and archive the journey."""
    with db.transaction() as session:
        return service.archive_journey(session, journey_id=journey_id, clock=env.clock)


@router.get("/{journey_id}/runs", response_model=list[RunOut], summary="List a journey's runs")
def list_runs(
    journey_id: str,
    db: Db,
    _: Reader,
    status: Literal["active", "completed", "exited", "held_out", "failed"] | None = None,
    profile_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunOut]:
    """Return runs, newest first."""
    with db.reading() as session:
        return service.list_runs(
            session, journey_id=journey_id, status=status, profile_id=profile_id, limit=limit
        )


@router.post(
    "/{journey_id}/simulate", response_model=SimulationOut, summary="Simulate for one person"
)
def simulate(journey_id: str, data: SimulationInput, db: Db, env: Env, _: Reader) -> SimulationOut:
    """Walk the draft (or a version) for a real or synthetic person; nothing is written or sent."""
    with db.reading() as session:
        return service.simulate_journey(session, journey_id=journey_id, data=data, env=env)


@router.get("/{journey_id}/metrics", response_model=JourneyMetrics, summary="Journey metrics")
def metrics(journey_id: str, db: Db, _: Reader) -> JourneyMetrics:
    """Return counts per journey and node, messages by status, conversions and uplift."""
    with db.reading() as session:
        return service.journey_metrics(session, journey_id=journey_id)

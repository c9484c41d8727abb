"""Build the FastAPI application around a runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel

from sampan import __version__
from sampan.access.api import auth_router
from sampan.access.api import routers as access_routers
from sampan.access.guards import authenticate, build_access_runtime, ensure_guarded, require
from sampan.access.masking import PiiMaskingMiddleware
from sampan.access.schemas import Permission
from sampan.analytics.api import router as analytics_router
from sampan.api.console import add_console
from sampan.collect import service as collect
from sampan.collect.api import sources_router
from sampan.collect.schemas import SourceInfo
from sampan.collect.tracking import (
    TRACKING_ANSWER_SCHEMA,
    CollectRuntime,
    TrackingEndpoint,
    tracking_openapi,
)
from sampan.commerce.api import public as commerce_public
from sampan.commerce.api import router as commerce_router
from sampan.consent import service as consent
from sampan.consent.api import PrivacyContext
from sampan.consent.api import pages as preference_pages
from sampan.consent.api import router as privacy_router
from sampan.core.clock import Clock, system_clock
from sampan.core.credentials import CredentialCache
from sampan.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    SampanError,
    Unauthorized,
    Unprocessable,
)
from sampan.journeys.api import router as journeys_router
from sampan.messaging.api import MessagingContext
from sampan.messaging.api import public as messaging_public
from sampan.messaging.api import router as messaging_router
from sampan.profiles import service as profiles
from sampan.profiles.api import router as profiles_router
from sampan.runtime import Runtime
from sampan.segments.api import router as segments_router
from sampan.worker import (
    HoldExpiry,
    JourneyRunner,
    MessageSender,
    ProfilePipeline,
    RetentionSchedule,
    SegmentSchedule,
)

_STATUS = {
    Unprocessable: 422,
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
}


class PipelineReport(BaseModel):
    """Backlog of the event pipeline and the recent accept-to-profile delay."""

    processed_seq: int
    head_seq: int
    backlog: int
    lag_ms_p50: float | None
    lag_ms_p99: float | None
    lag_samples: int


def create_app(
    runtime: Runtime, *, run_worker: bool = True, clock: Clock = system_clock
) -> TrackingEndpoint:
    """Return the Sampan ASGI app; it starts the ingest writer and, optionally, the worker.

    The tracking endpoint answers /v1 itself and passes everything else to the FastAPI
    management app, reachable as ``.app``.
    """
    sender = MessageSender(runtime)
    journey_runner = JourneyRunner(runtime, on_progress=sender.notify)
    pipeline = ProfilePipeline(runtime, on_progress=journey_runner.notify)
    retention = RetentionSchedule(runtime)
    segment_schedule = SegmentSchedule(runtime)
    holds = HoldExpiry(runtime)
    writer = collect.IngestWriter(runtime.db, on_commit=pipeline.notify)

    def check_write_key(write_key: str) -> SourceInfo:
        with runtime.db.reading() as session:
            return collect.authenticate_write_key(session, write_key=write_key)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Management routes run in threads that compete with the event loop for the GIL; a
        # few threads keep tracking requests timely under a heavy management load.
        to_thread.current_default_thread_limiter().total_tokens = runtime.settings.api_threads
        writer.start()
        if run_worker:
            pipeline.start()
            retention.start()
            segment_schedule.start()
            holds.start()
            sender.start()
            journey_runner.start()
        try:
            yield
        finally:
            writer.stop()
            pipeline.stop()
            retention.stop()
            segment_schedule.stop()
            holds.stop()
            journey_runner.stop()
            sender.stop()

    app = FastAPI(
        title="Sampan",
        version=__version__,
        description="Omnichannel customer platform: Segment-compatible collection under /v1, "
        "management API under /api (Bearer API key, or the console's session cookie).",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=runtime.settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["*"],
        max_age=3600,
    )
    # Inside CORS, around every route: answers to callers without pii:read are masked.
    app.add_middleware(PiiMaskingMiddleware)
    app.state.db = runtime.db
    app.state.identity_rules = runtime.rules
    app.state.currency = runtime.settings.default_currency
    app.state.timezone = runtime.settings.timezone
    app.state.collect = CollectRuntime(
        writer=writer,
        keys=CredentialCache(check_write_key),
        clock=clock,
        track_checks={consent.CONSENT_EVENT: consent.consent_event_check(runtime.catalog)},
    )
    app.state.privacy = PrivacyContext(
        settings=runtime.settings,
        catalog=runtime.catalog,
        registry=runtime.registry,
        rules=runtime.rules,
    )
    app.state.pipeline = pipeline
    app.state.sender = sender
    app.state.journeys = journey_runner
    app.state.journey_env = runtime.journey_env
    app.state.commerce_env = runtime.commerce_env()
    app.state.messaging = MessagingContext(
        rules=runtime.messaging_rules,
        catalog=runtime.catalog,
        currency=runtime.settings.default_currency,
    )
    app.state.segment_context = runtime.segment_context
    app.state.access = build_access_runtime(
        runtime.db, runtime.settings, views_db=runtime.derived_db, clock=clock
    )

    @app.exception_handler(SampanError)
    async def domain_error(_: Request, exc: SampanError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            {**exc.details, "detail": exc.message}, status_code=status, headers=headers
        )

    # Every route checks its own permissions with require(...); authenticating at the router
    # too means a route that forgot its check is still closed to strangers.
    secured = [Depends(authenticate)]
    app.include_router(sources_router, dependencies=secured)
    app.include_router(profiles_router, dependencies=secured)
    for router in access_routers:
        app.include_router(router, dependencies=None if router is auth_router else secured)
    app.include_router(privacy_router, dependencies=secured)
    app.include_router(segments_router, dependencies=secured)
    app.include_router(messaging_router, dependencies=secured)
    app.include_router(journeys_router, dependencies=secured)
    app.include_router(commerce_router, dependencies=secured)
    app.include_router(analytics_router, dependencies=secured)
    app.include_router(preference_pages)
    app.include_router(messaging_public)
    app.include_router(commerce_public)
    _add_operations_routes(app, runtime, pipeline)
    # Last of all routes: it answers every other GET with the console.
    add_console(app)
    _document_tracking(app)
    # Last, after every router is included: each /api route must check permissions.
    ensure_guarded(app)
    # In front of FastAPI, not inside it: /v1 posts skip the whole middleware stack.
    return TrackingEndpoint(app, app.state.collect, runtime.settings.cors_origins)


def _document_tracking(app: FastAPI) -> None:
    """Add the /v1 endpoints, served by TrackingEndpoint, to the OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema["paths"] = {**tracking_openapi(), **schema["paths"]}
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["TrackingAnswer"] = TRACKING_ANSWER_SCHEMA
            components.setdefault("securitySchemes", {})["HTTPBasic"] = {
                "type": "http",
                "scheme": "basic",
                "description": "The source's write key as user name, empty password "
                "(or an X-Write-Key header, or writeKey in the body)",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_operations_routes(app: FastAPI, runtime: Runtime, pipeline: ProfilePipeline) -> None:
    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/api/pipeline",
        tags=["operations"],
        response_model=PipelineReport,
        dependencies=[require(Permission.OPERATIONS_READ)],
        summary="Pipeline backlog and delay",
    )
    def pipeline_report() -> PipelineReport:
        with runtime.db.reading() as session:
            status = profiles.pipeline_status(session)
        lags = pipeline.lag_percentiles()
        return PipelineReport(
            **status.model_dump(),
            lag_ms_p50=lags["p50"],
            lag_ms_p99=lags["p99"],
            lag_samples=int(lags["samples"] or 0),
        )

    registry = CollectorRegistry()
    registry.register(_PipelineCollector(runtime, pipeline))

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse, summary="Metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(registry).decode())


class _PipelineCollector:
    def __init__(self, runtime: Runtime, pipeline: ProfilePipeline) -> None:
        self._runtime = runtime
        self._pipeline = pipeline

    def collect(self) -> list[GaugeMetricFamily]:
        with self._runtime.db.reading() as session:
            status = profiles.pipeline_status(session)
        lags = self._pipeline.lag_percentiles()
        families = [
            GaugeMetricFamily(
                "sampan_events_logged", "Newest event sequence number", value=status.head_seq
            ),
            GaugeMetricFamily(
                "sampan_pipeline_backlog", "Events not yet in profiles", value=status.backlog
            ),
        ]
        lag = GaugeMetricFamily(
            "sampan_pipeline_lag_ms", "Accept-to-profile delay", labels=["quantile"]
        )
        for quantile, key in (("0.5", "p50"), ("0.99", "p99")):
            value = lags[key]
            if value is not None:
                lag.add_metric([quantile], value)
        families.append(lag)
        return families

"""Build the Parlor backend app; run it with `python -m backend` (see backend/core/launch.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from backend.api.errors import install_error_handlers
from backend.api.main import api_router, socket_routes
from backend.api.protocol_version import ProtocolVersionMiddleware
from backend.api.request_id import RequestIdMiddleware
from backend.core.config import Settings, get_settings
from backend.core.launch import check_launch
from backend.core.version import VERSION
from backend.metrics import HTTP_LATENCY_BUCKETS, Metrics, get_metrics
from backend.realtime.direct import RawSendMiddleware
from backend.realtime.hub import Hub
from backend.service import RoomService
from backend.store import create_store
from backend.wiring import attach_flag, detach_flag
from parlor_protocol import version

log = logging.getLogger("parlor")


def create_app(settings: Settings | None = None, registry: CollectorRegistry | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = Metrics(registry) if registry is not None else get_metrics()
    registry = registry or REGISTRY

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = create_store(
            settings.store_url, log_size=settings.event_log_size, log_bytes=settings.event_log_bytes, metrics=metrics
        )
        hub = Hub(metrics, queue_size=settings.send_queue_size)
        service = RoomService(settings, store, hub, metrics)
        app.state.service = service
        await service.open()
        await attach_flag(service)
        log.info("Parlor backend ready (store %s)", settings.store_url.split("@")[-1])
        try:
            yield
        finally:
            await detach_flag(service)
            await service.close()

    app = FastAPI(
        title="Parlor",
        summary="Undercover, the party word game: rooms, moves and a real-time event stream",
        version=VERSION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.handshake_gates = []  # see backend.api.deps.HandshakeGate
    # 426 for a page that speaks another protocol version; inside CORS, so a page on another origin can read it
    app.add_middleware(ProtocolVersionMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        # the live view posts clues itself; the bridge names its protocol version on every request
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", version.HEADER],
    )
    if settings.trusted_proxies:
        # X-Forwarded-For names the client only when the peer is one of our proxies; anyone else's is ignored
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RawSendMiddleware)  # lets the hub write live frames directly (backend.realtime.direct)
    # outermost: the request id is bound before anything else logs, and added to every response
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    app.router.routes.extend(socket_routes)
    app.include_router(api_router)
    Instrumentator(
        excluded_handlers=["/metrics", "/healthz", "/readyz"],
        registry=registry,
    ).instrument(app, metric_namespace="parlor", latency_lowr_buckets=HTTP_LATENCY_BUCKETS)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        app.state.service.upkeep.refresh_gauges()
        metrics.asyncio_tasks.set(len(asyncio.all_tasks()))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if settings.test_hooks:
        from backend.api.routes import testing

        app.include_router(testing.router)
    return app


check_launch()
app = create_app()

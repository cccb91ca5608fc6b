"""Run the backend with graceful drain: `python -m backend [--host H] [--port P] [--ws auto]`.

On SIGTERM the process stops being ready (/readyz 503, parlor_draining 1, new sockets refused), asks its
WebSocket clients to reconnect (close code RESTART) in small batches spread over DRAIN_SECONDS, so they move to
the other processes behind the load balancer without a stampede, and then lets uvicorn shut down. A second
SIGTERM, or SIGINT, stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import signal
import socket
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from backend.core.cli import add_version, prog
from backend.core.config import Settings, get_settings
from backend.core.logs import configure_logging
from backend.realtime.protocol import CloseCode
from backend.service import RoomService

log = logging.getLogger("parlor.drain")

# Closed sockets get this long to flush their last frames and the close handshake before uvicorn stops.
FLUSH_SECONDS = 1.0
# In-flight requests (long-polls hold up to 30 s) get this long once the drain is over; their clients retry.
GRACEFUL_SHUTDOWN_SECONDS = 5


async def drain(service: RoomService, window: float) -> int:
    """Refuse new sockets, then close the open ones (RESTART) in batches spread over `window` seconds."""
    service.draining = True
    service.metrics.draining.set(1)
    closed = await service.hub.close_all(CloseCode.RESTART, "server restarting: reconnect", spread=window)
    await service.hub.flush(closed, FLUSH_SECONDS)
    return len(closed)


class DrainingServer(uvicorn.Server):
    """uvicorn's server with SIGTERM turned into a drain before the usual shutdown."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self._loop is None or self._draining is not None or self.should_exit:
            super().handle_exit(sig, frame)
            return
        # a signal handler runs between two bytecodes of the loop's thread: hand the work to the loop itself
        self._loop.call_soon_threadsafe(self._begin_drain)

    def _begin_drain(self) -> None:
        if self._draining is None and not self.should_exit:
            self._draining = asyncio.get_running_loop().create_task(self._drain(), name="parlor-drain")

    async def _drain(self) -> None:
        service: RoomService | None = getattr(self.app.state, "service", None)
        try:
            if service is not None:
                window = service.settings.drain_seconds
                log.info(
                    "SIGTERM: draining, sockets closed with %d over %.1f s",
                    CloseCode.RESTART,
                    window,
                    extra={"close_code": int(CloseCode.RESTART), "window_s": window},
                )
                started = time.monotonic()
                closed = await drain(service, window)
                log.info(
                    "drained %d sockets; shutting down",
                    closed,
                    extra={"sockets": closed, "duration_s": round(time.monotonic() - started, 3)},
                )
        finally:
            self.should_exit = True


def header_deadline(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with a deadline for the first request head (slowloris).

    Why: uvicorn's keep-alive timeout starts only after a response, so a client that opens a connection and
    trickles header bytes holds it (and a file descriptor) forever. A connection with no request under way
    `seconds` after it opened is closed; one handed over to a WebSocket is no longer ours to close.
    """

    class HeaderDeadline(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._head_deadline = asyncio.get_running_loop().call_later(seconds, self._head_timeout)

        def _head_timeout(self) -> None:
            transport = self.transport
            if getattr(self, "cycle", None) is None and transport.get_protocol() is self and not transport.is_closing():
                transport.close()

        def handle_websocket_upgrade(self) -> None:
            # the socket's protocol takes over: the deadline's timer would keep this HTTP protocol (its parser,
            # its scope and headers) alive for the rest of `seconds` after it is gone from the transport
            self._head_deadline.cancel()
            super().handle_websocket_upgrade()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_deadline.cancel()
            super().connection_lost(exc)

    HeaderDeadline.__name__ = f"HeaderDeadline{base.__name__}"
    return HeaderDeadline


def raise_open_file_limit() -> int:
    """One socket is one file: lift the soft open-file limit to the hard one so MAX_CONNECTIONS is reachable."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ws_ping_interval(settings: Settings) -> float | None:
    """uvicorn's protocol pings only when the app's heartbeat is off: with it on, clients ping every
    PING_INTERVAL_SECONDS and a socket silent for HEARTBEAT_TIMEOUT_SECONDS is closed, so uvicorn's pings would
    find the same dead sockets at the cost of a timer and a frame per socket every 20 s."""
    return None if settings.heartbeat_timeout_seconds > 0 else 20.0


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog=prog("python -m backend"), description=__doc__.splitlines()[0])
    add_version(parser)
    parser.add_argument("--host", default=settings.parlor_host)
    parser.add_argument("--port", type=int, default=settings.parlor_port)
    parser.add_argument("--ws", default="auto", help="uvicorn WebSocket implementation (auto: websockets sans-I/O)")
    parser.add_argument("--log-level", default=settings.parlor_log_level)
    args = parser.parse_args(argv)

    configure_logging()
    raise_open_file_limit()
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from backend.main import app

    settings = app.state.settings

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        ws=args.ws,
        ws_max_size=app.state.settings.max_frame_bytes,  # 16384 by default, the same limit the handler enforces
        # frames are small JSON: compression would cost CPU per recipient and a zlib context per socket
        ws_per_message_deflate=app.state.settings.ws_per_message_deflate,
        # the app's own heartbeat (clients ping, HEARTBEAT_TIMEOUT_SECONDS cuts the silent) already finds dead
        # sockets; uvicorn's protocol pings on top cost a timer and a frame per socket every 20 s
        ws_ping_interval=ws_ping_interval(app.state.settings),
        log_level=args.log_level,  # uvicorn's own loggers; Parlor's follow LOG_LEVEL
        log_config=None,  # uvicorn's lines go through the root handler of backend.core.logs, in LOG_FORMAT
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
        backlog=8192,  # a reconnect wave after a drain arrives all at once
        # X-Forwarded-For is trusted only from TRUSTED_PROXIES, by the app's own middleware (backend.main);
        # uvicorn's default would trust it from any local peer
        proxy_headers=False,
        http=header_deadline(AutoHTTPProtocol, settings.header_timeout_seconds),
        # sockets are connections too: the cap sits above MAX_CONNECTIONS, so it sheds HTTP load, not players
        limit_concurrency=settings.limit_concurrency or settings.max_connections + 1000,
        timeout_keep_alive=int(max(1, settings.keep_alive_timeout_seconds)),
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )
    DrainingServer(config, app).run()


if __name__ == "__main__":
    main()

"""A WebSocket's session, between the route and the service door: route -> session -> service.

As starlette's `WebSocketEndpoint` splits a socket's life into on_connect / on_receive / on_disconnect, the route
(`backend.api.routes.ws`) accepts the socket, reads and parses its frames, and hands them to a `SocketSession`:

- `admit()`: the client's rate limits and the socket cap; an admitted socket counts toward the cap while it
  waits for hello;
- `connect(hello)`: authenticate, register with the hub (replacing the player's older socket), watch the room,
  resume (welcome, then the missed events or a snapshot) and bring the player online;
- `receive(frame)`: a ping, a command, or a frame the route could not use (answered, and fatal after
  ABUSE_LIMIT of them);
- `disconnect(peer_close_code)`: release whatever the session holds (the cap's place, the watch, the hub
  registration, the player's presence), count and log why the socket ended. Safe to call in every state.

Per process: the socket, its hub registration and the hub's count of sockets still waiting for hello.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from backend.core import logs
from backend.core.errors import BadFrame, FrameTooBig, NotFound, ParlorError, RateLimited, Unauthorized, Unavailable
from backend.core.limits import Limit
from backend.realtime.direct import DirectWriter
from backend.realtime.hub import Connection
from backend.realtime.protocol import CloseCode, DisconnectReason, FrameType, Transport
from backend.service import Credentials, RoomService
from parlor_protocol import PROTOCOL_VERSION

log = logging.getLogger("parlor.ws")

Move = Callable[[RoomService, Credentials], Awaitable[int]]  # makes one move, returns its last event id


@dataclass(frozen=True)
class Hello:
    player_id: str
    token: str
    last_event_id: int | None
    epoch: str | None


@dataclass(frozen=True)
class Ping:
    t: Any


@dataclass(frozen=True)
class Command:
    """A move: its id (the Idempotency-Key) and the call that makes it, or the error its refused data gets."""

    key: str
    move: Move | None
    refused: dict[str, Any] | None = None


class SocketSession:
    def __init__(self, websocket: WebSocket, service: RoomService, code: str, address: str) -> None:
        self.websocket, self.service, self.code, self.address = websocket, service, code, address
        self.hub, self.settings, self.metrics = service.hub, service.settings, service.metrics
        self.conn: Connection | None = None  # set once the hello is accepted, with `creds`
        self.creds: Credentials | None = None
        self._waiting = False  # holds a place under MAX_CONNECTIONS until hello is answered
        self._watching = False
        self._strikes = 0
        self._attempts = service.metrics.ws_connection_attempts
        self._inbound = service.metrics.transport_messages.labels(Transport.WEBSOCKET, "in")

    async def admit(self) -> bool:
        """The address's rate limits and the socket cap; False when the socket was refused (and closed)."""
        guard = self.service.guard
        try:
            await guard.check_misses(self.address)
            await guard.hit(Limit.HANDSHAKE, self.address)
        except RateLimited as exc:
            self.metrics.ws_handshake_rejections.labels("rate_limited").inc()
            log.info("socket refused: %s", exc.message, extra={"close_code": int(exc.close_code), "code": exc.code})
            await self.websocket.close(exc.close_code, exc.message)
            return False
        # sockets still waiting for hello count toward the cap too: an idle flood of handshakes is capacity used
        if self.hub.connection_count() + self.hub.pending >= self.settings.max_connections:
            self._attempts.labels("over_capacity").inc()
            self.metrics.limit_refusals.labels("socket_cap").inc()
            await self.websocket.close(CloseCode.TRY_LATER, "server at capacity, try again later")
            return False
        self.hub.pending += 1
        self._waiting = True
        return True

    async def connect(self, hello: Hello) -> bool:
        """Authenticate the hello, then register, watch, resume and bring the player online; False when the
        socket was refused or failed (and closed)."""
        try:
            creds = await self._authenticate(hello)
        except Unavailable as exc:  # the store is down: the client retries later (or falls back to polling)
            self._attempts.labels("store_unavailable").inc()
            await self._close(exc.close_code, exc.message)
            return False
        finally:
            self._stop_waiting()
        if creds is None:
            return False
        service = self.service
        if service.transport_for(creds.player_id) != Transport.WEBSOCKET:
            self._attempts.labels("disabled" if not self.settings.websocket_enabled else "flag_refused").inc()
            await self.websocket.close(CloseCode.NOT_IN_COHORT, "use polling: WebSocket is not enabled for you")
            return False
        self._attempts.labels("accepted").inc()
        logs.bind(room=creds.room_code, player=creds.player_id)
        conn = self.hub.new_connection(
            self.websocket, creds.room_code, creds.player_id, DirectWriter.of(self.websocket.scope)
        )
        conn.pending = []  # live events are held back until the replay is queued, so order is kept
        self.conn, self.creds = conn, creds
        previous = self.hub.register(conn)
        if previous is not None:
            previous.request_close(CloseCode.REPLACED, "replaced by a newer connection", DisconnectReason.REPLACED)
        if service.draining:
            # its hello arrived after the drain took its list of sockets: it would be cut at exit, seconds later
            conn.request_close(CloseCode.RESTART, "server restarting: reconnect", DisconnectReason.SERVER_RESTART)
        try:
            await service.watch(creds.room_code)  # subscribed before the resume read: no commit falls in between
            self._watching = True
            await self._resume(conn, creds, hello.last_event_id, hello.epoch)
            await service.presence.connected(creds, conn.session)
        except Unavailable as exc:
            conn.disconnect_reason = DisconnectReason.ERROR
            await self._close(exc.close_code, exc.message)
            return False
        return True

    async def receive(self, frame: Ping | Command | BadFrame) -> bool:
        """One frame from the connected client; False once the session closed the socket (stop reading)."""
        conn, creds = self.conn, self.creds
        assert conn is not None and creds is not None, "receive before connect"
        conn.last_seen = time.monotonic()
        self._inbound.inc()
        if isinstance(frame, Ping):
            self.metrics.ws_frames_received.labels(FrameType.PING).inc()
            self.hub.send(conn, FrameType.PONG, {"t": frame.t})
        elif isinstance(frame, Command):
            await self._command(conn, creds, frame)
        elif isinstance(frame, FrameTooBig):
            conn.disconnect_reason = DisconnectReason.ABUSE
            await self._close(frame.close_code, frame.message)
            return False
        else:
            self._strikes += 1
            self.metrics.ws_frames_received.labels("invalid").inc()
            if self._strikes >= self.settings.abuse_limit:
                conn.disconnect_reason = DisconnectReason.ABUSE
                await self._close(frame.close_code, "too many invalid frames")
                return False
            self.hub.send(conn, FrameType.ERROR, frame.to_dict())
        return True

    async def disconnect(self, peer_close_code: int | None = None) -> None:
        """Release what the session holds; `peer_close_code` is the code of the client's close frame, if any."""
        self._stop_waiting()
        conn, creds = self.conn, self.creds
        if conn is None or creds is None:
            return
        if peer_close_code is not None:
            conn.peer_close_code = peer_close_code
            if peer_close_code == CloseCode.RESTART and conn.disconnect_reason == DisconnectReason.CLIENT_CLOSE:
                conn.disconnect_reason = DisconnectReason.SERVER_RESTART
        if self._watching:
            self.service.unwatch(creds.room_code)
        current = self.hub.unregister(conn)
        self.metrics.ws_disconnects.labels(conn.disconnect_reason).inc()
        log.info(
            "socket closed: %s",
            conn.disconnect_reason,
            extra={
                "close_code": conn.close_code if conn.close_code is not None else conn.peer_close_code,
                "reason": conn.disconnect_reason,
                "duration_s": round(time.monotonic() - conn.opened, 3),
            },
        )
        if current:
            with contextlib.suppress(Unavailable):  # presence is best effort while the store is away
                await self.service.presence.disconnected(creds, conn.session)

    async def _authenticate(self, hello: Hello) -> Credentials | None:
        try:
            return await self.service.authenticate(self.code, hello.player_id, hello.token)
        except NotFound as exc:
            await self.service.guard.miss(self.address)
            self.metrics.ws_handshake_rejections.labels("unknown_room").inc()
            await self.websocket.close(exc.close_code, "unknown room")
        except Unauthorized as exc:
            self.metrics.ws_handshake_rejections.labels("auth_failed").inc()
            self.metrics.ws_disconnects.labels(DisconnectReason.AUTH_FAILURE).inc()
            await self.websocket.close(exc.close_code, "bad credentials")
        return None

    async def _resume(self, conn: Connection, creds: Credentials, after: int | None, epoch: str | None) -> None:
        """Queue welcome, then the missed events (or a snapshot), then whatever arrived meanwhile."""
        service, settings = self.service, self.settings
        resume = await service.resume(creds, after, transport=Transport.WEBSOCKET, epoch=epoch)
        if after is not None:
            self.metrics.ws_resumes.labels("true" if resume.recovered else "false").inc()
        welcome: dict[str, Any] = {
            "player_id": creds.player_id,
            "room_code": creds.room_code,
            "server_time": service.clock(),
            "heartbeat_seconds": settings.heartbeat_timeout_seconds,
            "ping_interval_seconds": settings.ping_interval_seconds,
            "pong_timeout_seconds": settings.pong_timeout_seconds,
            "transport": Transport.WEBSOCKET,
            "resumed_from": after,
            "recovered": resume.recovered,
            "last_event_id": resume.last_event_id,
            "epoch": resume.epoch,
            "protocol": PROTOCOL_VERSION,
        }
        self.hub.send(conn, FrameType.WELCOME, welcome)
        if resume.snapshot is None:
            conn.last_id = after or 0
            await self.hub.replay(conn, resume.events)
        else:
            self.hub.send(conn, FrameType.SNAPSHOT, resume.snapshot)
            conn.last_id = resume.last_event_id
        self.hub.go_live(conn)

    async def _command(self, conn: Connection, creds: Credentials, command: Command) -> None:
        """One move: `ack` {command, last_event_id} after its events are queued to this socket, or `error`
        {command, code, message} as REST would answer it."""
        self.metrics.ws_frames_received.labels(FrameType.COMMAND).inc()
        if command.move is None:
            self.hub.send(conn, FrameType.ERROR, {**(command.refused or {}), "command": command.key})
            return
        try:
            last = await command.move(self.service, creds)
        except ParlorError as err:
            self.hub.send(conn, FrameType.ERROR, {**err.to_dict(), "command": command.key})
        else:
            self.hub.send(conn, FrameType.ACK, {"command": command.key, "last_event_id": last})

    def _stop_waiting(self) -> None:
        if self._waiting:
            self._waiting = False
            self.hub.pending -= 1

    async def _close(self, code: CloseCode, reason: str) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            await self.websocket.close(code, reason)

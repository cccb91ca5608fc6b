"""WS /ws/{code}: authenticate with `hello`, resume from the last event id, then stream events.

The handler only authenticates, parses, dispatches and registers with the hub; the registration is released
in `finally`. Refusals happen after `accept` with a close code, because a browser cannot read the HTTP status
of a refused handshake; only a foreign Origin is refused at the handshake itself (403).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocketState

from backend.api.deps import handshake_allowed
from backend.api.errors import validation_error
from backend.api.models import AdvanceIn, ClueIn, GuessIn, KickIn, SettingsIn, VoteIn
from backend.core import logs
from backend.core.errors import NotFound, ParlorError, RateLimited, Unauthorized, Unavailable
from backend.core.limits import Limit
from backend.metrics import FRAME_TYPES_IN
from backend.realtime.direct import DirectWriter
from backend.realtime.hub import Connection, Hub
from backend.realtime.protocol import CloseCode, DisconnectReason, ErrorCode, FrameType, Transport, dumps, frame
from backend.service import MAX_EVENT_ID, Credentials, RoomService, normalize_code
from parlor_protocol import version as protocol_version

router = APIRouter()
log = logging.getLogger("parlor.ws")

# A player on the socket makes their moves over it: one `command` frame instead of a REST request (no new
# connection on a phone, no HTTP parsing and routing per move). Same bodies, the same service door, and `id` is
# the Idempotency-Key, so a command resent after a lost `ack` (or sent again over REST) is answered once.
Move = Callable[[RoomService, Credentials, Any, str], Awaitable[int]]


async def _add_bot(service: RoomService, who: Credentials, _body: Any, key: str) -> int:
    return (await service.add_bot(who, key))["last_event_id"]


async def _settings(service: RoomService, who: Credentials, body: SettingsIn, key: str) -> int:
    return (await service.change_settings(who, body.model_dump(exclude_unset=True), key))["last_event_id"]


COMMANDS: dict[str, tuple[type[BaseModel] | None, Move]] = {
    "clue": (ClueIn, lambda service, who, body, key: service.post_clue(who, body.text, key)),
    "vote": (VoteIn, lambda service, who, body, key: service.vote(who, body.target_id, key)),
    "guess": (GuessIn, lambda service, who, body, key: service.guess(who, body.text, key)),
    "ready": (None, lambda service, who, _body, key: service.ready(who, key)),
    "advance": (AdvanceIn, lambda service, who, body, key: service.advance(who, key, body.phase, body.round)),
    "start": (None, lambda service, who, _body, key: service.start(who, key)),
    "kick": (KickIn, lambda service, who, body, key: service.remove_player(who, body.player_id, key)),
    "add_bot": (None, _add_bot),
    "settings": (SettingsIn, _settings),
}
COMMAND_ID_MAX = 64  # the Idempotency-Key header's limit


class _Abuse(Exception):
    """A frame we cannot use; counted, answered with an error frame, and fatal after `abuse_limit`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _error_frame(code: str, message: str) -> str:
    return dumps(frame(FrameType.ERROR, {"code": code, "message": message}))


def _parse(raw: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    text = raw.get("text")
    if text is None:
        data = raw.get("bytes") or b""
        if len(data) > max_bytes:
            raise OverflowError
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise _Abuse("malformed_frame", "frames must be UTF-8 JSON text") from None
    if len(text) > max_bytes:
        raise OverflowError
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack ('[' * 5000)
        raise _Abuse("malformed_json", "frames must be JSON objects") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        raise _Abuse("malformed_frame", "frames must be JSON objects with a string 'type'")
    return parsed


@router.websocket("/ws/{code}")
async def websocket_endpoint(websocket: WebSocket, code: str) -> None:
    service: RoomService = websocket.app.state.service
    hub: Hub = service.hub
    settings = service.settings
    metrics = service.metrics
    attempts = metrics.ws_connection_attempts

    origin = websocket.headers.get("origin")
    if origin is not None and origin not in settings.allowed_origins:
        metrics.ws_handshake_rejections.labels("origin_refused").inc()
        await websocket.close(code=CloseCode.POLICY)  # before accept: the server answers the handshake with 403
        return
    if service.draining and "websocket.http.response" in websocket.scope.get("extensions", {}):
        # a 503 handshake answer lets the load balancer retry the upgrade on another process
        attempts.labels("over_capacity").inc()
        body = {"error": {"code": ErrorCode.DRAINING, "message": "server restarting: connect again"}}
        await websocket.send_denial_response(JSONResponse(body, status_code=503))
        return
    if service.draining or not handshake_allowed(websocket.app):
        attempts.labels("over_capacity").inc()
        await websocket.close(code=CloseCode.TRY_LATER)
        return
    address = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    try:
        await service.guard.check_misses(address)
        await service.guard.hit(Limit.HANDSHAKE, address)
    except RateLimited as exc:
        metrics.ws_handshake_rejections.labels("rate_limited").inc()
        log.info("socket refused: %s", exc.message, extra={"close_code": int(CloseCode.TRY_LATER), "code": exc.code})
        await websocket.close(CloseCode.TRY_LATER, exc.message)
        return
    # sockets still waiting for hello count toward the cap too: an idle flood of handshakes is capacity used
    if hub.connection_count() + hub.pending >= settings.max_connections:
        attempts.labels("over_capacity").inc()
        metrics.limit_refusals.labels("socket_cap").inc()
        await websocket.close(CloseCode.TRY_LATER, "server at capacity, try again later")
        return

    hub.pending += 1
    try:
        creds, last_event_id, epoch = await _await_hello(websocket, service, normalize_code(code), address)
    except Unavailable as exc:  # the store is down: the client retries later (or falls back to polling)
        attempts.labels("store_unavailable").inc()
        await _close(websocket, CloseCode.TRY_LATER, exc.message)
        return
    finally:
        hub.pending -= 1
    if creds is None:
        return
    if service.transport_for(creds.player_id) != Transport.WEBSOCKET:
        attempts.labels("disabled" if not settings.websocket_enabled else "flag_refused").inc()
        await websocket.close(CloseCode.NOT_IN_COHORT, "use polling: WebSocket is not enabled for you")
        return

    attempts.labels("accepted").inc()
    logs.bind(room=creds.room_code, player=creds.player_id)
    conn = hub.new_connection(websocket, creds.room_code, creds.player_id, DirectWriter.of(websocket.scope))
    conn.pending = []  # live events are held back until the replay is queued, so order is kept
    previous = hub.register(conn)
    if previous is not None:
        previous.request_close(CloseCode.REPLACED, "replaced by a newer connection", DisconnectReason.REPLACED)
    if service.draining:
        # its hello arrived after the drain took its list of sockets: it would be cut at exit, seconds later
        conn.request_close(CloseCode.RESTART, "server restarting: reconnect", DisconnectReason.SERVER_RESTART)
    watching = False
    try:
        await service.watch(creds.room_code)  # subscribed before the resume read: no commit falls in between
        watching = True
        await _resume(conn, service, creds, last_event_id, epoch)
        await service.connected(creds, conn.session)
        await _read_loop(websocket, conn, service, creds)
    except Unavailable as exc:
        conn.disconnect_reason = DisconnectReason.ERROR
        await _close(websocket, CloseCode.TRY_LATER, exc.message)
    finally:
        if watching:
            service.unwatch(creds.room_code)
        current = hub.unregister(conn)
        metrics.ws_disconnects.labels(conn.disconnect_reason).inc()
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
                await service.disconnected(creds, conn.session)


async def _await_hello(
    websocket: WebSocket, service: RoomService, code: str, address: str
) -> tuple[Credentials | None, int | None, str | None]:
    settings, metrics = service.settings, service.metrics
    deadline = time.monotonic() + settings.hello_timeout_seconds
    strikes = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            raw = await asyncio.wait_for(websocket.receive(), timeout=max(remaining, 0.001))
        except TimeoutError:
            metrics.ws_handshake_rejections.labels("no_hello").inc()
            await websocket.close(CloseCode.NO_HELLO, "no hello within the time allowed")
            return None, None, None
        if raw["type"] == "websocket.disconnect":
            metrics.ws_handshake_rejections.labels("bad_hello").inc()
            return None, None, None
        try:
            parsed = _parse(raw, settings.max_frame_bytes)
            if parsed["type"] != FrameType.HELLO:
                raise _Abuse("hello_required", "the first frame must be hello")
            hello = _hello_fields(parsed)
        except OverflowError:
            metrics.ws_handshake_rejections.labels("bad_hello").inc()
            await websocket.close(CloseCode.TOO_BIG, f"frames are limited to {settings.max_frame_bytes} bytes")
            return None, None, None
        except _Abuse as abuse:
            strikes += 1
            metrics.ws_frames_received.labels("invalid").inc()
            if strikes >= settings.abuse_limit:
                metrics.ws_handshake_rejections.labels("bad_hello").inc()
                await websocket.close(CloseCode.ABUSE, "too many invalid frames")
                return None, None, None
            await websocket.send_text(_error_frame(abuse.code, abuse.message))
            continue
        metrics.ws_frames_received.labels(FrameType.HELLO).inc()
        metrics.transport_messages.labels(Transport.WEBSOCKET, "in").inc()
        player_id, token, last_event_id, epoch = hello
        spoken = protocol_version.parse(parsed.get(protocol_version.HELLO_FIELD))  # none: a page from before versions
        if spoken is None or not protocol_version.accepts(spoken):
            metrics.ws_handshake_rejections.labels("unsupported_protocol").inc()
            why = protocol_version.refusal(spoken) if spoken is not None else "protocol must be a non-negative integer"
            await websocket.close(CloseCode.UNSUPPORTED_PROTOCOL, why)
            return None, None, None
        try:
            creds = await service.authenticate(code, player_id, token)
        except NotFound:
            await service.guard.miss(address)
            metrics.ws_handshake_rejections.labels("unknown_room").inc()
            await websocket.close(CloseCode.UNKNOWN_ROOM, "unknown room")
            return None, None, None
        except Unauthorized:
            metrics.ws_handshake_rejections.labels("auth_failed").inc()
            metrics.ws_disconnects.labels(DisconnectReason.AUTH_FAILURE).inc()
            await websocket.close(CloseCode.AUTH, "bad credentials")
            return None, None, None
        return creds, last_event_id, epoch


def _hello_fields(frame: dict[str, Any]) -> tuple[str, str, int | None, str | None]:
    player_id, token, last = frame.get("player_id"), frame.get("token"), frame.get("last_event_id")
    epoch = frame.get("epoch")
    if not isinstance(player_id, str) or not isinstance(token, str):
        raise _Abuse("bad_hello", "hello needs string player_id and token")
    if last is not None and (not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= MAX_EVENT_ID):
        raise _Abuse("bad_hello", f"last_event_id must be an integer from 0 to {MAX_EVENT_ID}, or null")
    if epoch is not None and (not isinstance(epoch, str) or len(epoch) > 64):
        raise _Abuse("bad_hello", "epoch must be the string the server sent, or null")
    return player_id, token, last, epoch


async def _resume(
    conn: Connection, service: RoomService, creds: Credentials, after: int | None, epoch: str | None
) -> None:
    """Queue welcome, then the missed events (or a snapshot), then whatever arrived meanwhile."""
    hub = service.hub
    resume = await service.resume(creds, after, transport=Transport.WEBSOCKET, epoch=epoch)
    if after is not None:
        service.metrics.ws_resumes.labels("true" if resume.recovered else "false").inc()
    welcome: dict[str, Any] = {
        "player_id": creds.player_id,
        "room_code": creds.room_code,
        "server_time": service.clock(),
        "heartbeat_seconds": service.settings.heartbeat_timeout_seconds,
        "ping_interval_seconds": service.settings.ping_interval_seconds,
        "pong_timeout_seconds": service.settings.pong_timeout_seconds,
        "transport": Transport.WEBSOCKET,
        "resumed_from": after,
        "recovered": resume.recovered,
        "last_event_id": resume.last_event_id,
        "epoch": resume.epoch,
        "protocol": protocol_version.PROTOCOL_VERSION,
    }
    hub.send(conn, FrameType.WELCOME, welcome)
    if resume.snapshot is None:
        conn.last_id = after or 0
        await hub.replay(conn, resume.events)
    else:
        hub.send(conn, FrameType.SNAPSHOT, resume.snapshot)
        conn.last_id = resume.last_event_id
    hub.go_live(conn)


async def _read_loop(websocket: WebSocket, conn: Connection, service: RoomService, creds: Credentials) -> None:
    settings, metrics, hub = service.settings, service.metrics, service.hub
    strikes = 0
    inbound = metrics.transport_messages.labels(Transport.WEBSOCKET, "in")
    while True:
        raw = await websocket.receive()
        if raw["type"] == "websocket.disconnect":
            conn.peer_close_code = raw.get("code")
            if raw.get("code") == CloseCode.RESTART and conn.disconnect_reason == DisconnectReason.CLIENT_CLOSE:
                conn.disconnect_reason = DisconnectReason.SERVER_RESTART
            return
        conn.last_seen = time.monotonic()
        inbound.inc()
        try:
            parsed = _parse(raw, settings.max_frame_bytes)
            kind = parsed["type"]
            if kind == FrameType.PING:
                metrics.ws_frames_received.labels(FrameType.PING).inc()
                hub.send(conn, FrameType.PONG, {"t": parsed.get("t")})
                continue
            if kind == FrameType.COMMAND:
                await _command(conn, service, creds, parsed)
                continue
            if kind == FrameType.HELLO:
                raise _Abuse("already_authenticated", "hello is only valid as the first frame")
            raise _Abuse("unknown_type", f"unknown frame type {kind[:40]!r}; expected ping or command")
        except OverflowError:
            conn.disconnect_reason = DisconnectReason.ABUSE
            await _close(websocket, CloseCode.TOO_BIG, f"frames are limited to {settings.max_frame_bytes} bytes")
            return
        except _Abuse as abuse:
            strikes += 1
            metrics.ws_frames_received.labels("invalid").inc()
            if strikes >= settings.abuse_limit:
                conn.disconnect_reason = DisconnectReason.ABUSE
                await _close(websocket, CloseCode.ABUSE, "too many invalid frames")
                return
            hub.send(conn, FrameType.ERROR, {"code": abuse.code, "message": abuse.message})
        except ParlorError as err:
            hub.send(conn, FrameType.ERROR, err.to_dict())


async def _command(conn: Connection, service: RoomService, creds: Credentials, parsed: dict[str, Any]) -> None:
    """One move: `ack` {command, last_event_id} after its events are queued to this socket, or `error` {command,
    code, message} as REST would answer it. A frame that is not a command at all counts as abuse."""
    key, name, data = parsed.get("id"), parsed.get("name"), parsed.get("data", {})
    if not isinstance(key, str) or not 1 <= len(key) <= COMMAND_ID_MAX:
        raise _Abuse("bad_command", f"a command needs a string id of 1 to {COMMAND_ID_MAX} characters")
    spec = COMMANDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise _Abuse("unknown_command", f"unknown command {str(name)[:40]!r}; expected one of {', '.join(COMMANDS)}")
    if not isinstance(data, dict):
        raise _Abuse("bad_command", "a command's data must be a JSON object")
    service.metrics.ws_frames_received.labels(FrameType.COMMAND).inc()
    model, move = spec
    hub = service.hub
    try:
        body = model.model_validate(data) if model is not None else None
        last = await move(service, creds, body, key)
    except ValidationError as exc:
        hub.send(conn, FrameType.ERROR, {**validation_error(exc.errors(), "data"), "command": key})
    except ParlorError as err:
        hub.send(conn, FrameType.ERROR, {**err.to_dict(), "command": key})
    else:
        hub.send(conn, FrameType.ACK, {"command": key, "last_event_id": last})


async def _close(websocket: WebSocket, code: CloseCode, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        await websocket.close(code, reason)


assert FrameType.HELLO in FRAME_TYPES_IN

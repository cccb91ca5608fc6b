"""WS /ws/{code}: accept, parse frames, and hand them to the socket's session (`backend.session`).

The route answers the handshake (a foreign Origin is refused there with 403, a draining server with 503 or
1013), accepts, waits for `hello` within HELLO_TIMEOUT_SECONDS, and then reads frames until either side closes;
everything else (rate limits and the socket cap, authentication, the hub, the resume, presence, the moves) is
the session's, released in `finally` by `session.disconnect`. Refusals after `accept` carry a close code,
because a browser cannot read the HTTP status of a refused handshake.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import WebSocket
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.routing import WebSocketRoute

from backend.api.deps import handshake_allowed
from backend.api.errors import validation_error
from backend.api.models import AdvanceIn, ClueIn, GuessIn, KickIn, SettingsIn, VoteIn
from backend.core.config import Settings
from backend.core.errors import BadFrame, FrameTooBig
from backend.metrics import FRAME_TYPES_IN, Metrics
from backend.realtime.protocol import CloseCode, ErrorCode, FrameType, Transport, dumps, frame
from backend.service import MAX_EVENT_ID, Credentials, RoomService, normalize_code
from backend.session import Command, Hello, Ping, SocketSession
from parlor_protocol import version as protocol_version

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


async def websocket_endpoint(websocket: WebSocket) -> None:
    code: str = websocket.path_params["code"]
    service: RoomService = websocket.app.state.service
    if not await _handshake(websocket, service):
        return
    address = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    session = SocketSession(websocket, service, normalize_code(code), address)
    peer_close_code = None
    try:
        if not await session.admit():
            return
        hello = await _await_hello(websocket, service.settings, service.metrics)
        if hello is not None and await session.connect(hello):
            peer_close_code = await _read_frames(websocket, session)
    finally:
        await session.disconnect(peer_close_code)


# A plain Starlette route on the app itself, not FastAPI's: a socket lives as long as its game, and FastAPI's
# dependency solving (exit stacks, the solved values) and its nested routers' frames and scope copies stayed
# alive with it, a fifth of the objects each held socket gave the collector to scan (`loadtest/capacity.py`'s
# collector table). The endpoint takes no dependencies; it reads the service from the app's state.
route = WebSocketRoute("/ws/{code}", websocket_endpoint, name="websocket")


async def _handshake(websocket: WebSocket, service: RoomService) -> bool:
    """The refusals answered before accept: a foreign Origin (403), a draining or gated server (503 or 1013)."""
    metrics = service.metrics
    origin = websocket.headers.get("origin")
    if origin is not None and origin not in service.settings.allowed_origins:
        metrics.ws_handshake_rejections.labels("origin_refused").inc()
        await websocket.close(code=CloseCode.POLICY)  # before accept: the server answers the handshake with 403
        return False
    if service.draining and "websocket.http.response" in websocket.scope.get("extensions", {}):
        # a 503 handshake answer lets the load balancer retry the upgrade on another process
        metrics.ws_connection_attempts.labels("over_capacity").inc()
        body = {"error": {"code": ErrorCode.DRAINING, "message": "server restarting: connect again"}}
        await websocket.send_denial_response(JSONResponse(body, status_code=503))
        return False
    if service.draining or not handshake_allowed(websocket.app):
        metrics.ws_connection_attempts.labels("over_capacity").inc()
        await websocket.close(code=CloseCode.TRY_LATER)
        return False
    return True


def _error_frame(error: BadFrame) -> str:
    return dumps(frame(FrameType.ERROR, error.to_dict()))


def _parse(raw: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    text = raw.get("text")
    if text is None:
        data = raw.get("bytes") or b""
        if len(data) > max_bytes:
            raise FrameTooBig(f"frames are limited to {max_bytes} bytes")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise BadFrame("frames must be UTF-8 JSON text", "malformed_frame") from None
    if len(text) > max_bytes:
        raise FrameTooBig(f"frames are limited to {max_bytes} bytes")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack ('[' * 5000)
        raise BadFrame("frames must be JSON objects", "malformed_json") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        raise BadFrame("frames must be JSON objects with a string 'type'", "malformed_frame")
    return parsed


async def _await_hello(websocket: WebSocket, settings: Settings, metrics: Metrics) -> Hello | None:
    """The client's hello within HELLO_TIMEOUT_SECONDS, or None once the socket was closed (or the client left)."""
    deadline = time.monotonic() + settings.hello_timeout_seconds
    strikes = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            raw = await asyncio.wait_for(websocket.receive(), timeout=max(remaining, 0.001))
        except TimeoutError:
            metrics.ws_handshake_rejections.labels("no_hello").inc()
            await websocket.close(CloseCode.NO_HELLO, "no hello within the time allowed")
            return None
        if raw["type"] == "websocket.disconnect":
            metrics.ws_handshake_rejections.labels("bad_hello").inc()
            return None
        try:
            parsed = _parse(raw, settings.max_frame_bytes)
            if parsed["type"] != FrameType.HELLO:
                raise BadFrame("the first frame must be hello", "hello_required")
            hello = _hello(parsed)
        except FrameTooBig as too_big:
            metrics.ws_handshake_rejections.labels("bad_hello").inc()
            await websocket.close(too_big.close_code, too_big.message)
            return None
        except BadFrame as bad:
            strikes += 1
            metrics.ws_frames_received.labels("invalid").inc()
            if strikes >= settings.abuse_limit:
                metrics.ws_handshake_rejections.labels("bad_hello").inc()
                await websocket.close(bad.close_code, "too many invalid frames")
                return None
            await websocket.send_text(_error_frame(bad))
            continue
        metrics.ws_frames_received.labels(FrameType.HELLO).inc()
        metrics.transport_messages.labels(Transport.WEBSOCKET, "in").inc()
        spoken = protocol_version.parse(parsed.get(protocol_version.HELLO_FIELD))  # none: a page from before versions
        if spoken is None or not protocol_version.accepts(spoken):
            metrics.ws_handshake_rejections.labels("unsupported_protocol").inc()
            why = protocol_version.refusal(spoken) if spoken is not None else "protocol must be a non-negative integer"
            await websocket.close(CloseCode.UNSUPPORTED_PROTOCOL, why)
            return None
        return hello


def _hello(parsed: dict[str, Any]) -> Hello:
    player_id, token, last = parsed.get("player_id"), parsed.get("token"), parsed.get("last_event_id")
    epoch = parsed.get("epoch")
    if not isinstance(player_id, str) or not isinstance(token, str):
        raise BadFrame("hello needs string player_id and token", "bad_hello")
    if last is not None and (not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= MAX_EVENT_ID):
        raise BadFrame(f"last_event_id must be an integer from 0 to {MAX_EVENT_ID}, or null", "bad_hello")
    if epoch is not None and (not isinstance(epoch, str) or len(epoch) > 64):
        raise BadFrame("epoch must be the string the server sent, or null", "bad_hello")
    return Hello(player_id, token, last, epoch)


async def _read_frames(websocket: WebSocket, session: SocketSession) -> int | None:
    """Hand each frame to the session until either side closes; returns the code of the client's close frame."""
    max_bytes = session.settings.max_frame_bytes
    while True:
        raw = await websocket.receive()
        if raw["type"] == "websocket.disconnect":
            code: int | None = raw.get("code")
            return code
        try:
            parsed: Ping | Command | BadFrame = _frame(_parse(raw, max_bytes))
        except BadFrame as bad:
            parsed = bad
        if not await session.receive(parsed):
            return None


def _frame(parsed: dict[str, Any]) -> Ping | Command:
    kind = parsed["type"]
    if kind == FrameType.PING:
        return Ping(parsed.get("t"))
    if kind == FrameType.COMMAND:
        return _command(parsed)
    if kind == FrameType.HELLO:
        raise BadFrame("hello is only valid as the first frame", "already_authenticated")
    raise BadFrame(f"unknown frame type {kind[:40]!r}; expected ping or command", "unknown_type")


def _command(parsed: dict[str, Any]) -> Command:
    """A `command` frame's move, its body checked as REST checks it; a frame that is not a command at all is bad."""
    key, name, data = parsed.get("id"), parsed.get("name"), parsed.get("data", {})
    if not isinstance(key, str) or not 1 <= len(key) <= COMMAND_ID_MAX:
        raise BadFrame(f"a command needs a string id of 1 to {COMMAND_ID_MAX} characters", "bad_command")
    spec = COMMANDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise BadFrame(f"unknown command {str(name)[:40]!r}; expected one of {', '.join(COMMANDS)}", "unknown_command")
    if not isinstance(data, dict):
        raise BadFrame("a command's data must be a JSON object", "bad_command")
    model, move = spec
    try:
        body = model.model_validate(data) if model is not None else None
    except ValidationError as exc:
        return Command(key, None, validation_error(exc.errors(), "data"))
    return Command(key, lambda service, who: move(service, who, body, key))


assert FrameType.HELLO in FRAME_TYPES_IN

"""X-Request-ID: every request and socket gets an id that its log lines, its response and its error body carry.

nginx generates the id (or passes the client's) and logs it with the upstream's address and timings; this
pure ASGI middleware takes it from the header (or makes one when the backend is reached directly), binds it
and the room code in the path to the log context (`backend.core.logs`), and echoes it in the response
header. A WebSocket scope's `send` is passed through untouched: the hub's direct write path needs the
server's own (`backend.realtime.direct`).
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core import logs

HEADER = "x-request-id"
# an id from outside is kept only when it is short and plain: it ends up in log lines and headers
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ROOM_PATH = re.compile(r"^/(?:api/rooms|ws)/([A-Za-z0-9]{5})(?:/|$)")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _VALID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI: bind the request id (and the room of /api/rooms/{code}, /ws/{code}); echo it on responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        room = _ROOM_PATH.match(scope.get("path", ""))
        # uvicorn runs each request and socket in its own task, so these bindings end with it
        logs.bind(request_id=request_id, room=room.group(1).upper() if room else None)
        logs.request_started.set(time.monotonic())
        scope.setdefault("state", {})["request_id"] = request_id
        if scope["type"] == "websocket":
            logs.bind(transport="websocket")
            await self.app(scope, receive, send)
            return
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)

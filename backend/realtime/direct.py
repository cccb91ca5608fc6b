"""A synchronous write path for live events to sockets served by uvicorn's websockets sans-I/O protocol.

Why: at one event per room per second each socket's queue is almost always empty, yet every frame used to
wake that socket's writer task and go through Starlette's and uvicorn's async `send` chain, each building
the same WebSocket frame again. When the writer is idle and the socket is open and writable, the hub hands
the transport one frame built once per event instead (and the replies to a player's own frames, `ack` and
`pong`, built once for that socket); anything else (a busy or paused socket, a closing
one, another uvicorn WebSocket implementation, the test client) takes the queue as before, so order, the
slow-consumer cut and the close handshake are unchanged.

Server frames are not masked, so without extensions (permessage-deflate is off in production) the bytes of
one text frame are the same for every recipient.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.frames import Frame, Opcode
from websockets.protocol import State

RAW_SEND = "parlor.raw_send"

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn without the websockets package: the queue path only
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


class RawSendMiddleware:
    """Pure ASGI: keeps the server's own `send` of a WebSocket scope, before Starlette wraps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed text frame: what websockets' server side writes for `text`."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class DirectWriter:
    """Writes a pre-built frame to one uvicorn sans-I/O connection when that is exactly what `send` would do."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> DirectWriter | None:
        protocol = getattr(scope.get(RAW_SEND), "__self__", None)
        if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False (nothing written) when the socket is not open, writable and extension-free."""
        p = self._protocol
        conn = p.conn
        if (
            p.disconnected
            or p.close_sent
            or not p.handshake_complete
            or not p.writable.is_set()
            or conn.state is not State.OPEN
            or conn.extensions
            or conn.expect_continuation_frame
            or p.transport.is_closing()
        ):
            return False
        p.transport.write(frame)
        return True

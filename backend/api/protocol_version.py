"""The protocol version of HTTP clients: a request to /api/ that names a version (`X-Parlor-Protocol`) outside the
server's range is refused with 426 and the error code `unsupported_protocol`, the REST twin of the WebSocket's
close code 4426. A request without the header (curl, an older page) speaks `version.IMPLICIT_VERSION`.

Pure ASGI, like the request id's middleware: one scan of the headers a request, nothing on a WebSocket scope
(the hello frame carries the socket's version, checked in the route).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core import logs
from parlor_protocol import ErrorCode, version

HEADER = version.HEADER.lower().encode("latin-1")
STATUS = 426  # Upgrade Required: the page must be replaced by a newer (or older) one


def announced(scope: Scope) -> str | None:
    """The raw header value, or None when the request does not name a version."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text: str = value.decode("latin-1").strip()
            return text
    return None


class ProtocolVersionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/api/"):
            raw = announced(scope)
            spoken = version.parse(raw, header=True)
            if spoken is None or not version.accepts(spoken):
                message = version.refusal(spoken) if spoken is not None else f"{version.HEADER} must be an integer"
                body: dict[str, object] = {"code": ErrorCode.UNSUPPORTED_PROTOCOL, "message": message}
                request_id = logs.current("request_id")
                if request_id is not None:
                    body["request_id"] = request_id
                response = JSONResponse({"error": body}, status_code=STATUS)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

"""The one exception hierarchy of Parlor, each class with its answer on every path.

ParlorError                    base: a machine code, a message, the HTTP status and the WebSocket close code
├── NotFound (404, 4404)       unknown room or player
├── Unauthorized (401, 4401)   missing or wrong token
├── Forbidden (403, 1008)      valid token without the right (not host, not your seat)
├── Conflict (409, 1008)       the room's state does not allow it (wrong phase, name taken, room full)
├── Invalid (422, 1008)        the request is well-formed but breaks a game rule (own word in a clue)
├── RateLimited (429, 1013)    too many requests or clues too fast
├── Unavailable (503, 1013)    capacity reached or the store is unreachable
└── BadFrame (400, 4400)       a WebSocket frame the server cannot use (not JSON, no type, a bad hello...)
    └── FrameTooBig (413, 1009)   a frame over MAX_FRAME_BYTES

Each class carries its `code` (the default; an instance may name a narrower one, such as "room_full"), its HTTP
`status` and its `close_code`, as starlette's `WebSocketException` carries its code: REST answers
`{"error": {"code", "message"}}` (plus `lines`, one record per bad line, when a pasted pack is refused) with
`status` (`backend.api.errors`); the WebSocket sends the same body as an `error` frame and keeps serving, or,
where the error ends the socket (a hello that names no room, a bad token, a rate limit, the store away, too
many bad frames), closes it with `close_code` (`backend.session`). No other table maps an error to a status or
a close code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from parlor_protocol import CloseCode


class ParlorError(Exception):
    status: ClassVar[int] = 400
    code = "bad_request"
    close_code: ClassVar[CloseCode] = CloseCode.POLICY

    def __init__(self, message: str, code: str | None = None, *, lines: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.lines = [dict(line) for line in lines]
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.lines:  # structured per-line problems, so a client can word them in its own language
            body["lines"] = self.lines
        return body


class NotFound(ParlorError):
    status = 404
    code = "not_found"
    close_code = CloseCode.UNKNOWN_ROOM


class Unauthorized(ParlorError):
    status = 401
    code = "unauthorized"
    close_code = CloseCode.AUTH


class Forbidden(ParlorError):
    status = 403
    code = "forbidden"


class Conflict(ParlorError):
    status = 409
    code = "conflict"


class Invalid(ParlorError):
    status = 422
    code = "invalid"


class RateLimited(ParlorError):
    status = 429
    code = "rate_limited"
    close_code = CloseCode.TRY_LATER


class Unavailable(ParlorError):
    status = 503
    code = "unavailable"
    close_code = CloseCode.TRY_LATER


class BadFrame(ParlorError):
    """Answered with an `error` frame; the socket closes with `close_code` after ABUSE_LIMIT of them."""

    code = "malformed_frame"
    close_code = CloseCode.ABUSE


class FrameTooBig(BadFrame):
    """Closes the socket at once: the frame was not read."""

    status = 413
    code = "frame_too_big"
    close_code = CloseCode.TOO_BIG

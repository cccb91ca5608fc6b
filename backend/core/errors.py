"""The one exception hierarchy of Parlor.

ParlorError                    base; carries a machine code, a message and the HTTP status it maps to
├── NotFound (404)             unknown room or player
├── Unauthorized (401)         missing or wrong token
├── Forbidden (403)            valid token without the right (not host, not your seat)
├── Conflict (409)             the room's state does not allow it (wrong phase, name taken, room full)
├── Invalid (422)              the request is well-formed but breaks a game rule (own word in a clue)
├── RateLimited (429)          too many clues too fast
└── Unavailable (503)          capacity reached or the store is unreachable

Handlers turn these into a JSON body `{"error": {"code", "message"}}` (plus `lines`, one record per bad line,
when a pasted pack is refused) on REST and an `error` frame on the
WebSocket, and keep serving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ParlorError(Exception):
    status = 400
    code = "bad_request"

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


class Unauthorized(ParlorError):
    status = 401
    code = "unauthorized"


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


class Unavailable(ParlorError):
    status = 503
    code = "unavailable"

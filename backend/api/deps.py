"""Dependencies shared by the routers: the service, the caller's credentials, the handshake gates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Path, Request

from backend.core import logs
from backend.core.errors import Unauthorized
from backend.service import Credentials, RoomService, normalize_code


async def get_service(request: Request) -> RoomService:
    service: RoomService = request.app.state.service
    return service


async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <token> header", "missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", "bad_token")
    return token.strip()


async def client_address(request: Request) -> str:
    """The client's address: the peer's, or X-Forwarded-For's when the peer is a trusted proxy (rewritten by
    uvicorn's proxy headers middleware, installed in `backend.main` for TRUSTED_PROXIES only)."""
    return request.client.host if request.client else "unknown"


ServiceDep = Annotated[RoomService, Depends(get_service)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=64,
        description="Any unique string per move (a UUID): a retry with the same key gets the first answer",
    ),
]
AddressDep = Annotated[str, Depends(client_address)]
RoomCode = Annotated[str, Path(min_length=5, max_length=5, description="5-character room code")]


async def current_player(
    code: RoomCode, service: ServiceDep, token: Annotated[str, Depends(bearer_token)]
) -> Credentials:
    creds = await service.authenticate(normalize_code(code), None, token)
    logs.bind(player=creds.player_id)  # the id, never the token: it names the player in this request's lines
    return creds


PlayerDep = Annotated[Credentials, Depends(current_player)]


# A check a new WebSocket must pass before it is accepted (False: refused with TRY_LATER). Installed on
# `app.state.handshake_gates` by whatever needs one (the test router's refusal switch); none by default.
HandshakeGate = Callable[[], bool]


def handshake_gates(app: FastAPI) -> list[HandshakeGate]:
    gates: list[HandshakeGate] = app.state.handshake_gates
    return gates


def handshake_allowed(app: FastAPI) -> bool:
    return all(gate() for gate in handshake_gates(app))

"""Test-only switches (mounted only with TEST_HOOKS=true): cut sockets and refuse new ones, to exercise fallbacks;
seed the service's chance so a browser test knows the deal.

The refusal is a handshake gate this router installs on the app; the WebSocket route only consults the app's
gates (`backend.api.deps.handshake_allowed`) and knows nothing of tests.
"""

from __future__ import annotations

import random

from fastapi import APIRouter, Request
from pydantic import BaseModel

from backend.api.deps import ServiceDep, handshake_gates
from backend.realtime.protocol import CloseCode

router = APIRouter(prefix="/api/test", tags=["test hooks"])


class SocketSwitch(BaseModel):
    refuse: bool


class _Refusal:
    """A handshake gate that turns every new socket away while `refuse` is on."""

    def __init__(self) -> None:
        self.refuse = False

    def __call__(self) -> bool:
        return not self.refuse


def _refusal(request: Request) -> _Refusal:
    gates = handshake_gates(request.app)
    for gate in gates:
        if isinstance(gate, _Refusal):
            return gate
    gate = _Refusal()
    gates.append(gate)
    return gate


@router.post("/websocket")
async def websocket_switch(body: SocketSwitch, request: Request, service: ServiceDep) -> dict[str, int | bool]:
    """refuse=true closes every socket (RESTART) and refuses new handshakes until refuse=false."""
    _refusal(request).refuse = body.refuse
    closed = await service.hub.close_all(CloseCode.RESTART, "server restarting: reconnect") if body.refuse else []
    return {"refuse": body.refuse, "closed": len(closed)}


class Seed(BaseModel):
    seed: int


@router.post("/rng")
async def seed_rng(body: Seed, service: ServiceDep) -> dict[str, int]:
    """Make the next deals repeatable: the service draws from random.Random(seed) from now on."""
    service.rng = random.Random(body.seed)
    return {"seed": body.seed}

"""Test-only switches (mounted only with TEST_HOOKS=true): cut sockets to exercise the fallbacks, seed the deal."""

from __future__ import annotations

import random

from fastapi import APIRouter
from pydantic import BaseModel

from backend.api.deps import ServiceDep
from backend.realtime.lifecycle import cut_sockets

router = APIRouter(prefix="/api/test", tags=["test hooks"])


class SocketSwitch(BaseModel):
    refuse: bool


@router.post("/websocket")
async def websocket_switch(body: SocketSwitch, service: ServiceDep) -> dict[str, int | bool]:
    """refuse=true closes every socket with 1012 and refuses new handshakes until refuse=false."""
    service.ws_refused = body.refuse
    closed = cut_sockets(service) if body.refuse else 0
    return {"refuse": body.refuse, "closed": closed}


class Seed(BaseModel):
    seed: int


@router.post("/rng")
async def seed_rng(body: Seed, service: ServiceDep) -> dict[str, int]:
    """Make the next deals repeatable: the service draws from random.Random(seed) from now on."""
    service.rng = random.Random(body.seed)
    return {"seed": body.seed}

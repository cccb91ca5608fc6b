"""Timers: a phase's deadline is handed out once and fired by a tick, and by the loop `open` starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backend.service import Credentials, RoomService
from tests.backend.service.helpers import Clock, make_service


async def three_seats(service: RoomService) -> tuple[str, Credentials]:
    code, host = await service.create_room("Alice")
    for name in ("Bob", "Cleo"):
        await service.join(code, name)
    return code, host


async def test_phase_deadline_is_handed_to_the_timer_once(tmp_path: Path) -> None:
    """After start, the store hands the room to claim_due once its deadline passes, and tick moves the phase."""
    clock = Clock()
    service = make_service(tmp_path, clock)
    code, alice = await three_seats(service)
    await service.start(alice)
    assert await service.store.claim_due(clock()) == []
    clock.now += 90
    assert await service.store.claim_due(clock()) == [code]
    assert await service.store.claim_due(clock()) == []
    await service.tick(code)
    assert (await service.read(code, lambda r: r.phase)) == "voting"


async def test_the_timer_loop_fires_a_due_room_and_keeps_running(tmp_path: Path) -> None:
    """The loop started by `open` fires a room whose deadline passed without anyone calling tick."""
    clock = Clock()
    service = make_service(tmp_path, clock)
    code, alice = await three_seats(service)
    await service.open()
    try:
        await service.start(alice)
        clock.now += 91
        async with asyncio.timeout(5):
            while await service.read(code, lambda r: r.phase) != "voting":
                await asyncio.sleep(0.01)
    finally:
        await service.close()

"""Upkeep's sweep: idle rooms expire, a deserted lobby sooner than a room someone is in."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.core.errors import NotFound
from tests.backend.service.helpers import Clock, make_service


async def test_idle_rooms_expire(tmp_path: Path) -> None:
    """A room with no activity for ROOM_IDLE_SECONDS and no sockets is removed by upkeep."""
    clock = Clock()
    service = make_service(tmp_path, clock, room_idle_seconds=60)
    code, _ = await service.create_room("Alice")
    clock.now += 59
    await service.upkeep.sweep()
    assert (await service.summary(code))["player_count"] == 1
    clock.now += 2
    await service.upkeep.sweep()
    with pytest.raises(NotFound):
        await service.summary(code)
    assert service.metrics.rooms_active._value.get() == 0


async def test_a_lobby_nobody_is_in_expires_in_minutes(tmp_path: Path) -> None:
    """LOBBY_IDLE_SECONDS: a lobby with no one online goes long before ROOM_IDLE_SECONDS; one with a player stays."""
    clock = Clock()
    service = make_service(tmp_path, clock, lobby_idle_seconds=120)
    deserted, _ = await service.create_room("Alice")
    attended, bob = await service.create_room("Bob")
    await service.presence.connected(bob, "ws:test")
    clock.now += 121
    await service.upkeep.sweep()
    with pytest.raises(NotFound):
        await service.summary(deserted)
    assert (await service.summary(attended))["player_count"] == 1

"""Presence: polls keep a player online until they stop, and a closing socket hands presence to recent polls."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backend.realtime.protocol import Transport
from tests.backend.service.helpers import Clock, make_service


async def test_polling_player_goes_offline_after_presence_timeout(tmp_path: Path) -> None:
    """A player seen only through polling is shown online, then offline once they stop polling."""
    service = make_service(tmp_path, Clock(), presence_timeout_seconds=0.05)
    code, alice = await service.create_room("Alice")
    await service.presence.seen_polling(alice, Transport.POLLING)
    assert (await service.read(code, lambda r: r.players[alice.player_id].online)) is True
    service.upkeep.refresh_gauges()
    assert service.metrics.players_connected.labels("polling")._value.get() == 1
    await asyncio.sleep(0.1)
    await service.upkeep.sweep()
    assert (await service.read(code, lambda r: r.players[alice.player_id].online)) is False


async def test_a_socket_closing_soon_after_a_poll_still_ends_offline(tmp_path: Path) -> None:
    """A player who polled (say, before the socket came up), then connected and closed the tab goes offline
    once the poll expires: the closing socket hands presence to the poll instead of keeping it."""
    service = make_service(tmp_path, Clock(), presence_timeout_seconds=0.05)
    code, alice = await service.create_room("Alice")
    online = lambda r: r.players[alice.player_id].online  # noqa: E731
    await service.presence.seen_polling(alice, Transport.POLLING)
    await service.presence.connected(alice, "ws-1")
    await service.presence.disconnected(alice, "ws-1")
    assert (await service.read(code, online)) is True  # still polling, for now
    await asyncio.sleep(0.1)
    await service.upkeep.sweep()
    assert (await service.read(code, online)) is False

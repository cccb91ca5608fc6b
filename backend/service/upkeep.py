"""Upkeep, once a second: heartbeat and poll timeouts, idle-room expiry, gauges; and the two loops' tasks.

Per process: the loops run in every process (the timer loop of `backend.service.timers` beside the maintenance
loop here); the heartbeat closes this process's silent sockets, the poll timeouts its own pollers, and the
gauges count this process's players (`parlor_rooms_active` is the store's count, the same from every process).
Idle rooms are found through the store's activity index, so every process may expire them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from backend.core.config import Settings
from backend.core.errors import NotFound, Unavailable
from backend.metrics import TRANSPORTS, Metrics
from backend.realtime.hub import Hub
from backend.realtime.protocol import CloseCode, DisconnectReason, Transport
from backend.service.presence import Presence
from backend.service.timers import Timers
from backend.store import Store

log = logging.getLogger("backend.service")


@dataclass(eq=False)
class Upkeep:
    settings: Settings
    store: Store
    hub: Hub
    metrics: Metrics
    clock: Callable[[], float]
    presence: Presence
    timers: Timers
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    def start(self, tick: Callable[[str], Awaitable[None]]) -> None:
        """Start the timer loop (firing due rooms with `tick`) and the maintenance loop."""
        self._tasks = [
            asyncio.create_task(self.timers.run(tick), name="parlor-timers"),
            asyncio.create_task(self._maintenance_loop(), name="parlor-maintenance"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.sweep()
            except Unavailable as exc:  # the store is away (a restart, a timeout): the next round tries again
                log.warning("upkeep skipped: %s (%r)", exc.message, exc.__cause__)
            except Exception:
                log.exception("upkeep failed")

    async def sweep(self) -> None:
        """Heartbeat and presence timeouts, idle-room expiry, gauges."""
        mono = time.monotonic()
        silent_limit = self.settings.heartbeat_timeout_seconds
        if silent_limit > 0:
            await self.hub.close_all(
                CloseCode.GOING_AWAY,
                "heartbeat timeout: no frame received",
                where=lambda conn: mono - conn.last_seen > silent_limit,
                disconnect_reason=DisconnectReason.HEARTBEAT_TIMEOUT,
            )
        await self.presence.expire_polls()
        await self._expire_idle_rooms()
        self.refresh_gauges()
        await self.refresh_room_gauge()

    async def _expire_idle_rooms(self) -> None:
        now = self.clock()
        # The activity index names the candidates, so a room that is not idle long enough costs nothing here. A
        # lobby nobody is in (created and abandoned, or made by a flood) goes in minutes, a game in an hour.
        # Rooms that vanished under live sockets (Redis back empty) are the store's resets, not this sweep's.
        lobby_limit = min(self.settings.lobby_idle_seconds, self.settings.room_idle_seconds)
        for code in await self.store.idle_rooms(now - lobby_limit):
            if self.hub.rooms.get(code):
                continue
            try:
                idle, deserted_lobby = await self.store.read(
                    code,
                    lambda r: (now - r.last_activity, r.phase == "lobby" and not any(p.online for p in r.humans())),
                )
            except NotFound:
                continue
            if idle >= (lobby_limit if deserted_lobby else self.settings.room_idle_seconds):
                log.info(
                    "room %s expired after %.0f s idle", code, idle, extra={"room": code, "idle_s": round(idle, 1)}
                )
                await self.store.delete_room(code)

    def refresh_gauges(self) -> None:
        self.hub.flush_metrics()
        counts = dict.fromkeys(TRANSPORTS, 0)
        counts[Transport.WEBSOCKET] = self.hub.connection_count()
        for transport, n in self.presence.polling().items():
            counts[transport] = counts.get(transport, 0) + n
        for transport, n in counts.items():
            self.metrics.players_connected.labels(transport).set(n)

    async def refresh_room_gauge(self) -> None:
        self.metrics.rooms_active.set(await self.store.count_rooms())

"""The timer loop: fires rooms' deadlines and bot moves when they fall due.

Which rooms are due is the store's, shared by every process, and the store hands each due room to one process
only, so a deadline fires once. Per process: the wake-up this loop sleeps towards and its wake event (a commit
made here that sets a sooner deadline wakes it early; one made elsewhere is found within 0.5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from backend.game.engine import Room
from backend.store import Store

log = logging.getLogger("backend.service")

POLL_SECONDS = 0.5  # the longest sleep: the store's due rooms are read again at least this often


@dataclass(eq=False)
class Timers:
    store: Store
    clock: Callable[[], float]
    _next_timer: float | None = field(default=None, init=False)
    _failing: bool = field(default=False, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def schedule(self, room: Room) -> None:
        """Wake the timer loop early when this commit set a wake-up sooner than the one it sleeps towards."""
        when = room.next_wakeup()
        if when is not None and (self._next_timer is None or when < self._next_timer):
            self._wake.set()

    async def run(self, tick: Callable[[str], Awaitable[None]]) -> None:
        """Fire due rooms with `tick` until cancelled; a store outage is logged once and retried shortly."""
        while True:
            self._wake.clear()
            try:
                for code in await self.store.claim_due(self.clock()):
                    try:
                        await tick(code)
                    except Exception:
                        log.exception("tick failed for room %s", code, extra={"room": code})
                self._next_timer = await self.store.next_wakeup()
                if self._failing:
                    log.info("timer loop: store reachable again")
                self._failing = False
            except Exception as exc:  # a store outage must not kill the timer loop; it retries shortly
                if not self._failing:
                    log.warning("timer loop: store unavailable (%r); retrying every 0.5 s", exc)
                self._failing = True
                self._next_timer = None
            delay = POLL_SECONDS
            if self._next_timer is not None:
                delay = min(POLL_SECONDS, max(0.0, self._next_timer - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

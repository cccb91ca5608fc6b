"""What a returning or polling client gets: the events it missed, or a snapshot when the log cannot say; and
the polls themselves (a full snapshot per request, or the events after an id, held until one arrives).

Per process: the long-polls held right now (`(room, player) -> count`, for MAX_LONGPOLLS_PER_TOKEN: a player
whose polls land on two replicas may hold that many on each) and the waits on this process's room-changed
events; the log itself is the store's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from backend.core.config import Settings
from backend.core.errors import RateLimited
from backend.game.events import MAX_EVENT_ID, StoredEvent
from backend.game.vocabulary import Snapshot
from backend.metrics import Metrics
from backend.realtime.hub import Hub
from backend.realtime.protocol import Transport
from backend.service.commits import Commits
from backend.service.presence import Presence
from backend.service.seats import Credentials
from backend.store import LogSlice, Store


@dataclass(frozen=True)
class Resume:
    """What a returning client gets: the events after its last id, or a snapshot when the log cannot say."""

    events: list[StoredEvent]
    snapshot: Snapshot | None
    last_event_id: int
    transport: Transport  # the transport the server wants this player on
    epoch: str  # the room history `last_event_id` belongs to

    @property
    def recovered(self) -> bool:
        return self.snapshot is None


@dataclass(eq=False)
class Catchup:
    settings: Settings
    store: Store
    hub: Hub
    metrics: Metrics
    clock: Callable[[], float]
    commits: Commits
    presence: Presence
    transport_for: Callable[[str], Transport]  # the door's: the flag it holds may be swapped at any time
    _longpolls: dict[tuple[str, str], int] = field(default_factory=dict, init=False)  # (code, player) -> held now

    async def snapshot(self, creds: Credentials, transport: Transport) -> Snapshot:
        snap = await self.commits.read(creds.room_code, lambda r: r.snapshot(creds.player_id))
        snap["transport"] = transport
        snap["server_time"] = self.clock()
        return snap

    async def state(self, creds: Credentials) -> Snapshot:
        """The legacy polling transport: a full snapshot per request."""
        self.metrics.polling_requests.inc()
        self._count_poll(Transport.POLLING)
        await self.presence.seen_polling(creds, Transport.POLLING)
        return await self.snapshot(creds, self.transport_for(creds.player_id))

    async def poll_events(self, creds: Credentials, after: int, wait: float, epoch: str | None = None) -> Resume:
        """GET /events: the events after `after`, held up to `wait` seconds for one to arrive (long-polling);
        at most MAX_LONGPOLLS_PER_TOKEN held at once per player (a real client holds one)."""
        transport = Transport.LONGPOLL if wait > 0 else Transport.POLLING
        self._count_poll(transport)
        await self.presence.seen_polling(creds, transport)
        async with self._held_longpoll(creds, wait > 0):
            resume = await self.resume(
                creds, after, transport=None, wait=min(wait, self.settings.longpoll_max_wait_seconds), epoch=epoch
            )
        outcome = "snapshot" if not resume.recovered else "events" if resume.events else "timeout"
        self.metrics.longpoll_requests.labels(outcome).inc()
        return resume

    @contextlib.asynccontextmanager
    async def _held_longpoll(self, creds: Credentials, held: bool) -> AsyncIterator[None]:
        key = (creds.room_code, creds.player_id)
        if held and self._longpolls.get(key, 0) >= self.settings.max_longpolls_per_token:
            self.metrics.limit_refusals.labels("longpoll_per_token").inc()
            raise RateLimited("too many long-polls held for this player at once", "too_many_longpolls")
        if held:
            self._longpolls[key] = self._longpolls.get(key, 0) + 1
        try:
            yield
        finally:
            if held:
                left = self._longpolls[key] - 1
                if left:
                    self._longpolls[key] = left
                else:
                    del self._longpolls[key]

    async def resume(
        self,
        creds: Credentials,
        after: int | None,
        *,
        transport: Transport | None,
        wait: float | None = None,
        epoch: str | None = None,
    ) -> Resume:
        """The events after `after` when the log still reaches back that far, otherwise a snapshot.

        `after` None (a fresh client) always gets a snapshot. A poll (`wait` in seconds, 0 included) is held
        until an event arrives and resyncs a client ahead of the log; a socket (`wait` None) takes what the
        log has, live events follow. `transport` is what the snapshot says the player uses (None: the flag's
        choice for them).

        A client whose id is ahead of the log, or whose `epoch` names another history of the room (the store
        lost or rewrote it), gets a snapshot too: its ids may be handed out again, so no replay from them can
        be trusted."""
        wanted = self.transport_for(creds.player_id)
        if after is not None:
            if wait is None:
                piece = await self.events_after(creds, after, epoch)
            else:
                piece = await self.wait_events(creds, after, wait, epoch)
            if piece.complete:
                return Resume(piece.events, None, piece.last_event_id, wanted, piece.epoch)
        snap = await self.snapshot(creds, transport or wanted)
        return Resume([], snap, snap["last_event_id"], wanted, snap["epoch"])

    async def events_after(self, creds: Credentials, after: int, epoch: str | None = None) -> LogSlice:
        """Events after `after` that this player may see; incomplete (resync from a snapshot) when the log no
        longer reaches back, when `after` is ahead of the log, or when `epoch` names another history."""
        # clamped here too, so no caller can hand the store an id it cannot parse (a Redis stream id is 64-bit)
        piece = await self.store.events_after(creds.room_code, min(max(after, 0), MAX_EVENT_ID))
        if epoch is not None and epoch != piece.epoch:
            return LogSlice([], False, piece.last_event_id, piece.epoch)
        visible = [e for e in piece.events if e.visible_to(creds.player_id)]
        return LogSlice(visible, piece.complete, piece.last_event_id, piece.epoch)

    async def wait_events(self, creds: Credentials, after: int, wait: float, epoch: str | None = None) -> LogSlice:
        """Return as soon as events after `after` exist, or when `wait` seconds have passed."""
        # a client ahead of the log or from another epoch gets `complete` False here: it resyncs at once
        piece = await self.events_after(creds, after, epoch)
        if wait <= 0 or piece.events or not piece.complete:
            return piece
        # nothing yet: receive the room's commits while we wait (the loop reads again once subscribed)
        await self.store.watch(creds.room_code)
        try:
            return await self._wait_events(creds, after, time.monotonic() + wait, epoch)
        finally:
            self.store.unwatch(creds.room_code)

    async def _wait_events(self, creds: Credentials, after: int, deadline: float, epoch: str | None) -> LogSlice:
        while True:
            changed = self.hub.room_changed(creds.room_code)
            piece = await self.events_after(creds, after, epoch)
            if piece.events or not piece.complete:
                return piece
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return piece
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except TimeoutError:
                return await self.events_after(creds, after, epoch)

    def _count_poll(self, transport: Transport) -> None:
        self.metrics.transport_messages.labels(transport, "in").inc()
        self.metrics.transport_messages.labels(transport, "out").inc()

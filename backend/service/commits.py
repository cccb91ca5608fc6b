"""The service's one way to change a room: run an engine command through the store, at most once per
Idempotency-Key, count what it committed on the process that made it, and wake the timers when it set a sooner
deadline. No state of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from backend.core.errors import Invalid
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.game.vocabulary import EventType
from backend.metrics import Metrics
from backend.service.seats import Credentials, fingerprint, normalize_code
from backend.service.timers import Timers
from backend.store import Once, Store

T = TypeVar("T")


@dataclass(eq=False)
class Commits:
    store: Store
    metrics: Metrics
    clock: Callable[[], float]
    timers: Timers

    async def mutate(self, code: str, fn: Callable[[Room], list[Event]]) -> Room:
        room, stored = await self.store.mutate(normalize_code(code), fn, self.clock())
        self.timers.schedule(room)
        self.count(stored)
        return room

    async def once(
        self,
        actor: Credentials,
        key: str | None,
        fn: Callable[[Room], list[Event]],
        answer: Callable[[Room, int], dict[str, Any]],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        """Run one move at most once per Idempotency-Key: a retry with a used key gets the first answer.

        Callers prefix the key with the move's kind, so a key reused for another kind of move is a new move
        (found by the fuzzer: a bots answer handed back for a settings change). The same key with another
        `body` (the move's parsed request) is refused with 422 `idempotency_key_reused`, as Stripe does: handing
        the first answer back would tell the client a move it never made went through.

        The store keeps the first answer beside the room for the room's whole life and writes it with the move's
        own commit (`Store.mutate_once`), so a retry on any process finds it; `answer(room, last_event_id)`
        builds what the caller returns."""
        if key is None:
            room = await self.mutate(actor.room_code, fn)
            return answer(room, room.event_seq)
        once = Once(f"{actor.player_id}:{key}", answer, fingerprint(body))
        done = await self.store.mutate_once(normalize_code(actor.room_code), fn, self.clock(), once)
        if done.replayed:
            if done.fingerprint is not None and done.fingerprint != once.fingerprint:
                raise Invalid(
                    "this Idempotency-Key was already used for a different move; send a new key for a new move",
                    "idempotency_key_reused",
                )
            self.metrics.idempotent_replays.inc()
            return done.answer
        self.timers.schedule(done.room)
        self.count(done.events)
        return done.answer

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        return await self.store.read(normalize_code(code), fn)

    def count(self, events: list[StoredEvent]) -> None:
        """Count commits on the process that made them, so sums across processes are right."""
        self.metrics.events_committed.inc(len(events))
        for event in events:
            if event.type == EventType.GAME_STARTED:
                self.metrics.games_started.inc()
            elif event.type == EventType.GAME_OVER:
                self.metrics.games_finished.labels(event.data["winner"]).inc()

"""Where rooms live: one `Store` protocol, an in-memory default and a Redis implementation, chosen by URL.

A store keeps each room's state, its bounded event log and fans committed events out to listeners (the
process's connection hub). `mutate` is the only way to change a room: it runs an engine command on the
current state, assigns event ids, persists state and events together, then publishes them. `mutate_once` is
the same door for a move that carries an idempotency key: its first answer is stored beside the room (never
inside it, which every commit reads and writes whole) and committed atomically with the move, with the
fingerprint of the move's body, so a key reused for another body can be told from a retry.

Both stores number events with `number_events`, which also links each event to the previous one its recipients
may see (`StoredEvent.prev`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from backend.game.engine import Room
from backend.game.events import Event, StoredEvent

if TYPE_CHECKING:
    from backend.metrics import Metrics

T = TypeVar("T")
Mutation = Callable[[Room], list[Event]]
Listener = Callable[[str, list[StoredEvent]], None]
ResetListener = Callable[[str], None]  # a room whose history was lost, rewritten or deleted under us
Answer = dict[str, Any]  # what a move returned to its caller; JSON, since a Redis store keeps it as JSON


@dataclass(frozen=True)
class Once:
    """An idempotent move: where its first answer is kept, and how to build that answer after the move ran.

    `slot` names the move within its room ("<player id>:<kind>:<key>"); `answer(room, last_event_id)` runs on
    the changed room, with the id of the move's last event, in the same attempt as the move itself.
    `fingerprint` names the move's body; it is kept with the first answer and handed back with it."""

    slot: str
    answer: Callable[[Room, int], Answer]
    fingerprint: str = ""


@dataclass(frozen=True)
class Answered:
    """The outcome of `mutate_once`: the first answer, and whether this call applied the move or replayed it.

    A replay commits nothing: `events` is empty and `room` is the state the answer was found with, and
    `fingerprint` is the first move's (None for an answer kept before fingerprints were)."""

    room: Room
    events: list[StoredEvent]
    answer: Answer
    replayed: bool
    fingerprint: str | None = None


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # built once, not per move


def keep_answer(answer: Answer, fingerprint: str) -> str:
    """What a store keeps for an answered slot: the answer and the fingerprint of the move that got it."""
    return _compact({"fingerprint": fingerprint, "answer": answer})


def kept_answer(raw: str) -> tuple[Answer, str | None]:
    """The answer and fingerprint `keep_answer` wrote; a bare answer (kept by an older version) has none."""
    value = json.loads(raw)
    if isinstance(value, dict) and set(value) == {"fingerprint", "answer"}:
        return value["answer"], str(value["fingerprint"])
    return value, None


def number_events(room: Room, events: list[Event], now: float) -> list[StoredEvent]:
    """Give the room's next ids to `events`, each with the id of the previous event its recipients may see.

    A public event follows the last public one, except for players whose own private event came after it
    (listed in `prevs`); a private event follows whichever of the two is later for its recipient. A room
    written before the chain was kept (`last_public_id` None) gives no `prev` until its next public event."""
    stored = []
    private = room.last_private_ids
    for event in events:
        room.event_seq += 1
        public = room.last_public_id
        prev: int | None = None
        prevs: dict[str, int] | None = None
        if event.to is None:
            if public is not None:
                prev, prevs = public, dict(private) or None
            room.last_public_id = room.event_seq
            private.clear()  # every player's chain passes through this event
        else:
            if public is not None:
                prev = max(public, private.get(event.to, 0))
            private[event.to] = room.event_seq
        stored.append(StoredEvent(room.event_seq, now, event.type, event.data, event.to, prev, prevs))
    return stored


@dataclass(frozen=True)
class LogSlice:
    """Events after an id; `complete` is False when the log no longer reaches back that far."""

    events: list[StoredEvent]
    complete: bool
    last_event_id: int
    epoch: str = ""


class Store(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True while the store can serve (readiness)."""
        ...

    async def eviction_hazard(self) -> str | None:
        """Why the store may drop rooms on its own, without an error (None when it cannot): readiness says so."""
        ...

    async def create_room(self, room: Room, events: list[Event], now: float) -> list[StoredEvent]:
        """Persist a new room; raises Conflict if the code is taken."""
        ...

    async def mutate(self, code: str, fn: Mutation, now: float) -> tuple[Room, list[StoredEvent]]:
        """Apply `fn` atomically to the room and record its next wake-up; raises NotFound for an unknown room.

        `fn` may run more than once (optimistic concurrency retries), so it must only touch the room."""
        ...

    async def mutate_once(self, code: str, fn: Mutation, now: float, once: Once) -> Answered:
        """`mutate`, at most once per `once.slot` for the room's whole life, on any process sharing the store.

        Whether the slot was answered is read with the state, and the first answer is written in the move's own
        commit, so two callers racing on one slot apply it once; a later call gets the stored answer back and
        changes nothing. The answers live beside the room and go when the room is deleted."""
        ...

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        """Run a read-only function on a consistent view of the room (state and last event id together)."""
        ...

    async def events_after(self, code: str, after: int) -> LogSlice: ...

    async def delete_room(self, code: str) -> None: ...

    async def room_codes(self) -> list[str]: ...

    async def count_rooms(self) -> int: ...

    async def idle_rooms(self, before: float) -> list[str]:
        """Rooms whose last activity is older than `before`, found from an index rather than by reading rooms."""
        ...

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(code, events)` for every commit made here, and for the watched rooms' commits of others."""
        ...

    async def watch(self, code: str) -> None:
        """Start receiving the room's commits made by other processes (counted: one call, one `unwatch`).

        Returns once every later commit is sure to reach the listeners, so a read made after it misses nothing."""
        ...

    def unwatch(self, code: str) -> None:
        """Undo one `watch`; the room's remote commits stop once nobody here watches it."""
        ...

    def subscribe_resets(self, listener: ResetListener) -> None:
        """Call `listener(code)` when a watched room's history changed under this process (deleted elsewhere, or
        found rewritten after the store lost writes): its sockets must resync."""
        ...

    async def claim_due(self, now: float) -> list[str]:
        """Rooms whose next wake-up (deadline or bot move) has come; each is handed to exactly one caller."""
        ...

    async def next_wakeup(self) -> float | None:
        """The earliest pending wake-up of any room, so the timer loop can sleep until then."""
        ...


def create_store(url: str, *, log_size: int = 1000, log_bytes: int = 131072, metrics: Metrics | None = None) -> Store:
    """Pick the implementation from the URL scheme; Redis is imported only when asked for.

    A room's log keeps at most `log_size` events and `log_bytes` bytes of event JSON, oldest dropped first:
    the count bounds resume, the bytes bound memory (1000 large events came to about 517 KiB a room).
    `metrics`: the app's (an isolated registry in tests); the process-wide ones when None."""
    if url.startswith("memory://"):
        from backend.store.memory import MemoryStore

        return MemoryStore(log_size=log_size, log_bytes=log_bytes)
    if url.startswith(("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")):
        from backend.store.redis import RedisStore

        return RedisStore(url, log_size=log_size, log_bytes=log_bytes, metrics=metrics)
    raise ValueError(f"unsupported STORE_URL scheme: {url!r} (use memory://, redis:// or redis+cluster://)")

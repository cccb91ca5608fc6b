"""The embedded default store: rooms and logs in this process's memory.

Commands run synchronously between two awaits, so the event loop itself makes every mutation atomic: no
locks. Listeners run inline right after the commit, which keeps the fan-out path free of extra hops.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from backend.core.errors import Conflict, NotFound
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.store import (
    Answered,
    Listener,
    LogSlice,
    Mutation,
    Once,
    ResetListener,
    keep_answer,
    kept_answer,
    number_events,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
# built once: json.dumps with arguments builds an encoder per call, which costs as much as encoding the event
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class _Record:
    __slots__ = ("answers", "log", "log_bytes", "room", "sizes")

    def __init__(self, room: Room) -> None:
        self.room = room
        self.answers: dict[str, str] = {}  # idempotency slot -> first answer (JSON), for the room's life
        self.log: deque[StoredEvent] = deque()
        self.sizes: deque[int] = deque()  # JSON size of each logged event, for the byte budget
        self.log_bytes = 0


class MemoryStore:
    def __init__(self, *, log_size: int = 1000, log_bytes: int = 131072) -> None:
        self._log_size = log_size
        self._log_bytes = log_bytes
        self._rooms: dict[str, _Record] = {}
        self._listeners: list[Listener] = []
        self._wakeups: dict[str, float] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._rooms.clear()

    async def ping(self) -> bool:
        return True

    async def eviction_hazard(self) -> str | None:
        return None  # rooms leave this process's memory only through delete_room

    async def create_room(self, room: Room, events: list[Event], now: float) -> list[StoredEvent]:
        if room.code in self._rooms:
            raise Conflict("room code already in use", "room_exists")
        record = _Record(room)
        self._rooms[room.code] = record
        return self._commit(record, events, now)

    async def mutate(self, code: str, fn: Mutation, now: float) -> tuple[Room, list[StoredEvent]]:
        record = self._record(code)
        events = fn(record.room)
        return record.room, self._commit(record, events, now)

    async def mutate_once(self, code: str, fn: Mutation, now: float, once: Once) -> Answered:
        record = self._record(code)
        first = record.answers.get(once.slot)
        if first is not None:
            answer, fingerprint = kept_answer(first)
            return Answered(record.room, [], answer, replayed=True, fingerprint=fingerprint)
        events = fn(record.room)
        # kept as JSON like the Redis store does: the same answers round-trip, and nobody can change them later
        kept = keep_answer(once.answer(record.room, record.room.event_seq + len(events)), once.fingerprint)
        stored = self._commit(record, events, now)
        record.answers[once.slot] = kept
        return Answered(record.room, stored, kept_answer(kept)[0], replayed=False, fingerprint=once.fingerprint)

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        return fn(self._record(code).room)

    async def events_after(self, code: str, after: int) -> LogSlice:
        record = self._record(code)
        last = record.room.event_seq
        epoch = record.room.epoch
        if after >= last:
            return LogSlice([], after == last, last, epoch)
        log_ = record.log
        oldest = log_[0].id if log_ else last + 1
        complete = after >= oldest - 1
        # ids are dense, so the slice start is arithmetic rather than a scan
        start = max(0, after - oldest + 1)
        return LogSlice([log_[i] for i in range(start, len(log_))], complete, last, epoch)

    async def delete_room(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._wakeups.pop(code, None)

    async def room_codes(self) -> list[str]:
        return list(self._rooms)

    async def count_rooms(self) -> int:
        return len(self._rooms)

    async def idle_rooms(self, before: float) -> list[str]:
        return [code for code, record in self._rooms.items() if record.room.last_activity < before]

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def watch(self, code: str) -> None:
        """Every commit happens in this process and reaches the listeners already."""

    def unwatch(self, code: str) -> None:
        return None

    def subscribe_resets(self, listener: ResetListener) -> None:
        """The memory store never loses a room's history while the process lives."""

    async def claim_due(self, now: float) -> list[str]:
        due = [code for code, when in self._wakeups.items() if when <= now]
        for code in due:
            del self._wakeups[code]
        return due

    async def next_wakeup(self) -> float | None:
        return min(self._wakeups.values(), default=None)

    def _record(self, code: str) -> _Record:
        record = self._rooms.get(code)
        if record is None:
            raise NotFound(f"no room with code {code!r}", "unknown_room")
        return record

    def _commit(self, record: _Record, events: list[Event], now: float) -> list[StoredEvent]:
        when = record.room.next_wakeup()
        if when is None:
            self._wakeups.pop(record.room.code, None)
        else:
            self._wakeups[record.room.code] = when
        if not events:
            return []
        stored = number_events(record.room, events, now)
        for item in stored:
            size = len(_compact(item.to_dict()).encode())
            record.log.append(item)
            record.sizes.append(size)
            record.log_bytes += size
        while len(record.log) > 1 and (len(record.log) > self._log_size or record.log_bytes > self._log_bytes):
            record.log.popleft()
            record.log_bytes -= record.sizes.popleft()
        for listener in self._listeners:
            try:
                listener(record.room.code, stored)
            except Exception:  # one broken listener must not lose the commit for the others
                log.exception("store listener failed")
        return stored

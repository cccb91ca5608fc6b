"""What the engine emits: an event type, its data, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.game.vocabulary import EventType
from parlor_protocol.vocabulary import PRIVATE_TYPES as PRIVATE_TYPES
from parlor_protocol.vocabulary import PUBLIC_TYPES as PUBLIC_TYPES

# The largest event id a client may name: JavaScript holds integers exactly up to here, and anything above it
# is no id this server handed out. Client-supplied ids are checked against it before any store call.
MAX_EVENT_ID = 2**53 - 1


@dataclass(frozen=True)
class Event:
    """An engine event; `to` names the only player allowed to see it (None: everyone in the room)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    to: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event once the store has committed it: a room-wide increasing id, the commit time, and its chain link.

    `prev` is the id of the previous event its recipients may see (0: none), so a client can tell a hole from
    the gaps other players' private events leave. Right after a private block (the `your_word` events at game
    start) a public event's recipients differ: `prevs` names those whose own private event came after `prev`.
    None: unknown (logged by a version that did not record it), and the frame carries no check."""

    id: int
    ts: float
    type: EventType
    data: dict[str, Any]
    to: str | None = None
    prev: int | None = None
    prevs: dict[str, int] | None = None

    def visible_to(self, player_id: str) -> bool:
        return self.to is None or self.to == player_id

    def prev_for(self, player_id: str) -> int | None:
        """The id of the event `player_id` saw before this one."""
        if self.prevs:
            return self.prevs.get(player_id, self.prev)
        return self.prev

    def to_dict(self) -> dict[str, Any]:
        raw = {"id": self.id, "ts": self.ts, "type": self.type, "data": self.data, "to": self.to}
        if self.prev is not None:
            raw["prev"] = self.prev
        if self.prevs:
            raw["prevs"] = self.prevs
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StoredEvent:
        prev = raw.get("prev")
        return cls(
            id=int(raw["id"]),
            ts=float(raw["ts"]),
            type=EventType(raw["type"]),
            data=raw["data"],
            to=raw.get("to"),
            prev=None if prev is None else int(prev),
            prevs=raw.get("prevs") or None,
        )

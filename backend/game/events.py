"""What the engine emits: an event type, its data, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PUBLIC_TYPES = (
    "player_joined",
    "player_left",
    "presence_changed",
    "host_changed",
    "settings_changed",
    "game_started",
    "phase_changed",
    "clue_posted",
    "player_ready",
    "vote_cast",
    "player_eliminated",
    "vote_tied",
    "game_over",
)
PRIVATE_TYPES = ("your_word",)
# The largest event id a client may name: JavaScript holds integers exactly up to here, and anything above it
# is no id this server handed out. Client-supplied ids are checked against it before any store call.
MAX_EVENT_ID = 2**53 - 1


@dataclass(frozen=True)
class Event:
    """An engine event; `to` names the only player allowed to see it (None: everyone in the room)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    to: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event once the store has committed it: a room-wide increasing id and the commit time."""

    id: int
    ts: float
    type: str
    data: dict[str, Any]
    to: str | None = None

    def visible_to(self, player_id: str) -> bool:
        return self.to is None or self.to == player_id

    def frame(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "ts": self.ts, "data": self.data}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ts": self.ts, "type": self.type, "data": self.data, "to": self.to}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StoredEvent:
        return cls(id=int(raw["id"]), ts=float(raw["ts"]), type=raw["type"], data=raw["data"], to=raw.get("to"))

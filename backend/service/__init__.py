"""The only door to the game (`RoomService`) and its collaborators, one job each.

Routes (REST, long-poll, and the WebSocket through `backend.session`) call `RoomService` and nothing below it;
the rest of this package is the door's: `commits` (running a command through the store), `catchup` (resumes and
polls), `presence`, `sockets` (closing sockets on commits and resets), `timers` and `upkeep`. `seats` holds the
values they share. Each module's docstring says which of its state is per process.
"""

from __future__ import annotations

from backend.game.events import MAX_EVENT_ID
from backend.game.vocabulary import (
    CUSTOM_PACK_MAX_CHARS,
    Language,
    Phase,
    RoomSummary,
    Snapshot,
    TieRule,
    VoteReveal,
)
from backend.service.catchup import Resume
from backend.service.rooms import BotAdded, RoomService, SettingsChanged
from backend.service.seats import (
    CODE_ALPHABET,
    GAME_LIMITS,
    Credentials,
    new_room_code,
    normalize_code,
    valid_clue,
    valid_guess,
    valid_name,
)

__all__ = [
    "CODE_ALPHABET",
    "CUSTOM_PACK_MAX_CHARS",
    "GAME_LIMITS",
    "MAX_EVENT_ID",
    "BotAdded",
    "Credentials",
    "Language",
    "Phase",
    "Resume",
    "RoomService",
    "RoomSummary",
    "SettingsChanged",
    "Snapshot",
    "TieRule",
    "VoteReveal",
    "new_room_code",
    "normalize_code",
    "valid_clue",
    "valid_guess",
    "valid_name",
]

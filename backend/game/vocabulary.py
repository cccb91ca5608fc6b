"""The game's vocabulary, defined in `parlor_protocol.vocabulary` (it crosses to the frontend) and re-exported here
for the engine and the server."""

from __future__ import annotations

from parlor_protocol.vocabulary import (
    CLUE_MAX,
    CUSTOM_PACK_MAX_CHARS,
    GUESS_MAX,
    MAX_PLAYERS,
    MIN_PLAYERS,
    NAME_MAX,
    Clue,
    EventType,
    GameLimits,
    Language,
    PackProblem,
    Phase,
    PlayerView,
    Range,
    Role,
    RoomSummary,
    SettingsView,
    Snapshot,
    TieRule,
    VoteReveal,
    Winner,
    YouView,
)

__all__ = [
    "CLUE_MAX",
    "CUSTOM_PACK_MAX_CHARS",
    "GUESS_MAX",
    "MAX_PLAYERS",
    "MIN_PLAYERS",
    "NAME_MAX",
    "Clue",
    "EventType",
    "GameLimits",
    "Language",
    "PackProblem",
    "Phase",
    "PlayerView",
    "Range",
    "Role",
    "RoomSummary",
    "SettingsView",
    "Snapshot",
    "TieRule",
    "VoteReveal",
    "Winner",
    "YouView",
]

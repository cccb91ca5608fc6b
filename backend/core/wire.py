"""The words on the wire that every layer may name: transports, event types (and which are private), winners.

A leaf, like starlette's `status.py`: it imports nothing from Parlor, so the metrics and the flag (core and
flags, at the bottom of the layer table in docs/architecture.md) can pre-create their label values and name
their variants without importing the realtime or game layers above them. `backend.realtime.protocol` and
`backend.game.vocabulary` re-export these names; StrEnum members compare and serialise as their plain values.
"""

from __future__ import annotations

from enum import StrEnum


class Transport(StrEnum):
    WEBSOCKET = "websocket"
    LONGPOLL = "longpoll"
    POLLING = "polling"


class Winner(StrEnum):
    CIVILIANS = "civilians"
    UNDERCOVER = "undercover"  # the undercovers, with Mr. White if still in
    MR_WHITE = "mr_white"  # a right guess, or Mr. White alone at parity


class EventType(StrEnum):
    PLAYER_JOINED = "player_joined"
    PLAYER_LEFT = "player_left"
    PRESENCE_CHANGED = "presence_changed"
    HOST_CHANGED = "host_changed"
    SETTINGS_CHANGED = "settings_changed"
    GAME_STARTED = "game_started"
    PHASE_CHANGED = "phase_changed"
    CLUE_POSTED = "clue_posted"
    PLAYER_READY = "player_ready"
    VOTE_CAST = "vote_cast"
    PLAYER_ELIMINATED = "player_eliminated"
    VOTE_TIED = "vote_tied"
    GUESS_STARTED = "guess_started"
    GUESS_MADE = "guess_made"
    STAND_IN_STARTED = "stand_in_started"
    STAND_IN_ENDED = "stand_in_ended"
    GAME_OVER = "game_over"
    YOUR_WORD = "your_word"  # private: only the player it names sees it


PRIVATE_TYPES: tuple[EventType, ...] = (EventType.YOUR_WORD,)
PUBLIC_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if t not in PRIVATE_TYPES)

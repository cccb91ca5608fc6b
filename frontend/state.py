"""The room as one player sees it, kept current by applying events to the last snapshot.

Pure functions over the backend's snapshot (`Snapshot` in parlor_protocol/vocabulary.py): no Streamlit, no I/O,
so every transport (WebSocket, long-poll, legacy polling) ends in the same state and the reducer is tested
alone. Events only write what they carry; when a game or a phase begins, the engine resets more than its
event says, and the page takes a fresh snapshot (`needs_snapshot`) instead of repeating the engine's rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

from parlor_protocol.vocabulary import (
    CLUE_MAX,
    GUESS_MAX,
    MAX_PLAYERS,
    MIN_PLAYERS,
    NAME_MAX,
    Clue,
    EventType,
    Phase,
    PlayerView,
    Snapshot,
    YouView,
)


class State(Snapshot, total=False):
    """A snapshot plus what only this client keeps: the last vote's outcome, and why it left the room."""

    last_result: dict[str, Any] | None
    last_guess: dict[str, Any] | None  # Mr. White's last guess, shown in the round after it
    removed: str


Frame = dict[str, Any]
RESYNC = frozenset({EventType.GAME_STARTED, EventType.PHASE_CHANGED})


def needs_snapshot(frames: Iterable[Frame]) -> bool:
    """True when a batch holds an event after which only a snapshot tells the whole room."""
    return any(frame.get("type") in RESYNC for frame in frames)


def _player(state: State, player_id: str) -> PlayerView | None:
    return next((p for p in state.get("players", []) if p.get("id") == player_id), None)


def _you(state: State) -> YouView:
    return state.setdefault("you", {})


def _is_you(state: State, player_id: str) -> bool:
    return _you(state).get("player_id") == player_id


def apply_event(state: State, frame: Frame) -> State:
    """Return the state after one event frame (`{"id", "type", "ts", "data"}`); unknown types only move the id."""
    kind, data = frame.get("type"), frame.get("data") or {}
    if kind == "snapshot":
        new = cast(State, copy.deepcopy(data))
        new["last_result"] = state.get("last_result")
        new["last_guess"] = state.get("last_guess")
        return new
    s = copy.deepcopy(state)
    handler = _HANDLERS.get(str(kind))
    if handler is not None:
        handler(s, data)
    frame_id = frame.get("id")
    if isinstance(frame_id, int):
        s["last_event_id"] = max(int(s.get("last_event_id") or 0), frame_id)
    return s


def apply_events(state: State, frames: list[Frame]) -> State:
    for frame in frames:
        state = apply_event(state, frame)
    return state


def _joined(s: State, d: dict[str, Any]) -> None:
    player = d.get("player") or {}
    if player.get("id") and _player(s, player["id"]) is None:
        s.setdefault("players", []).append(cast(PlayerView, dict(player)))


def _left(s: State, d: dict[str, Any]) -> None:
    pid = d.get("player_id")
    s["players"] = [p for p in s.get("players", []) if p.get("id") != pid]
    s["votes_cast"] = [v for v in s.get("votes_cast", []) if v != pid]
    if _is_you(s, str(pid)):
        s["removed"] = d.get("reason", "left")


def _presence(s: State, d: dict[str, Any]) -> None:
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p["online"] = bool(d.get("online"))


def _host(s: State, d: dict[str, Any]) -> None:
    s["host_id"] = d.get("player_id")
    for p in s.get("players", []):
        p["is_host"] = p.get("id") == s["host_id"]
    _you(s)["is_host"] = _you(s).get("player_id") == s["host_id"]


def _settings(s: State, d: dict[str, Any]) -> None:
    if d.get("settings"):
        s["settings"] = d["settings"]


def _game_started(s: State, d: dict[str, Any]) -> None:
    s["game"] = d.get("game", s.get("game", 0) + 1)
    s["last_result"] = None
    s["last_guess"] = None


def _your_word(s: State, d: dict[str, Any]) -> None:
    _you(s)["word"] = d.get("word")
    _you(s)["mr_white"] = bool(d.get("mr_white"))


def _phase(s: State, d: dict[str, Any]) -> None:
    if d.get("phase"):
        s["phase"] = Phase(d["phase"])
    s["round"] = d.get("round", s.get("round", 0))
    s["deadline"] = d.get("deadline")


def _clue(s: State, d: dict[str, Any]) -> None:
    s.setdefault("clues", []).append(cast(Clue, dict(d)))
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p["clues_this_round"] = int(p.get("clues_this_round", 0)) + 1


def _ready(s: State, d: dict[str, Any]) -> None:
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p["ready"] = True
    if _is_you(s, d.get("player_id", "")):
        _you(s)["ready"] = True


def _vote(s: State, d: dict[str, Any]) -> None:
    pid = d.get("player_id", "")
    if pid not in s.get("votes_cast", []):
        s["votes_cast"] = sorted([*s.get("votes_cast", []), pid])
    p = _player(s, pid)
    if p is not None:
        p["has_voted"] = True


def _eliminated(s: State, d: dict[str, Any]) -> None:
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p["alive"] = False
        p["role"] = d.get("role")
    if _is_you(s, d.get("player_id", "")):
        _you(s)["alive"] = False
    s["last_result"] = {"kind": "eliminated", **d}


def _tied(s: State, d: dict[str, Any]) -> None:
    s["last_result"] = {"kind": "tied", **d}
    s["revote_candidates"] = list(d.get("candidates") or []) if d.get("revote") else []


def _guess_started(s: State, d: dict[str, Any]) -> None:
    s["guesser_id"] = d.get("player_id")


def _guess_made(s: State, d: dict[str, Any]) -> None:
    s["last_guess"] = dict(d)
    s["guesser_id"] = None


def _stand_in(on: bool) -> Callable[[State, dict[str, Any]], None]:
    def handler(s: State, d: dict[str, Any]) -> None:
        p = _player(s, d.get("player_id", ""))
        if p is not None:
            p["stand_in"] = on

    return handler


def _game_over(s: State, d: dict[str, Any]) -> None:
    s["game_over"] = dict(d)
    s["phase"] = Phase.FINISHED
    s["deadline"] = None
    roles = d.get("roles") or {}
    for p in s.get("players", []):
        if p.get("id") in roles:
            p["role"] = roles[p["id"]]


_HANDLERS: dict[str, Callable[[State, dict[str, Any]], None]] = {
    EventType.PLAYER_JOINED: _joined,
    EventType.PLAYER_LEFT: _left,
    EventType.PRESENCE_CHANGED: _presence,
    EventType.HOST_CHANGED: _host,
    EventType.SETTINGS_CHANGED: _settings,
    EventType.GAME_STARTED: _game_started,
    EventType.YOUR_WORD: _your_word,
    EventType.PHASE_CHANGED: _phase,
    EventType.CLUE_POSTED: _clue,
    EventType.PLAYER_READY: _ready,
    EventType.VOTE_CAST: _vote,
    EventType.PLAYER_ELIMINATED: _eliminated,
    EventType.VOTE_TIED: _tied,
    EventType.GUESS_STARTED: _guess_started,
    EventType.GUESS_MADE: _guess_made,
    EventType.STAND_IN_STARTED: _stand_in(True),
    EventType.STAND_IN_ENDED: _stand_in(False),
    EventType.GAME_OVER: _game_over,
}


# ---- the game's limits ----------------------------------------------------------------------------------------

# Before a snapshot (the landing page), or from a backend that does not send `limits` yet: the vocabulary's own.
BASE_LIMITS = {
    "min_players": MIN_PLAYERS,
    "max_players": MAX_PLAYERS,
    "name_max": NAME_MAX,
    "clue_max": CLUE_MAX,
    "guess_max": GUESS_MAX,
}
Bound = Literal["min_players", "max_players", "name_max", "clue_max", "guess_max"]
Span = Literal["discussion_seconds", "voting_seconds", "undercover_count", "guess_seconds", "grace_seconds"]


def limit(state: State | None, key: Bound) -> int:
    """One of the game's bounds, from the snapshot's `limits` (else the vocabulary's value: a backend of an older
    release sends no `guess_max`)."""
    limits = (state or {}).get("limits")
    return int(limits.get(key, BASE_LIMITS[key])) if limits else BASE_LIMITS[key]


def span(state: State, key: Span) -> tuple[int | None, int | None]:
    """A setting's allowed (min, max) from the snapshot's `limits`; (None, None) when the backend sends none."""
    limits = state.get("limits")
    if not limits:
        return None, None
    return limits[key]["min"], limits[key]["max"]

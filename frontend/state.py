"""The room as one player sees it, kept current by applying events to the last snapshot.

Pure functions over plain dicts shaped like the backend's `Room.snapshot()`: no Streamlit, no I/O, so every
transport (WebSocket, long-poll, legacy polling) ends in the same state and the reducer is tested alone.
"""

from __future__ import annotations

import copy
from typing import Any

State = dict[str, Any]


def _player(state: State, player_id: str) -> dict[str, Any] | None:
    return next((p for p in state["players"] if p["id"] == player_id), None)


def _you(state: State) -> dict[str, Any]:
    you: dict[str, Any] = state.setdefault("you", {})
    return you


def _is_you(state: State, player_id: str) -> bool:
    return bool(_you(state).get("player_id") == player_id)


def apply_event(state: State, frame: dict[str, Any]) -> State:
    """Return the state after one event frame (`{"id", "type", "ts", "data"}`); unknown types only move the id."""
    kind, data = frame.get("type"), frame.get("data") or {}
    if kind == "snapshot":
        new = copy.deepcopy(data)
        new["last_result"] = state.get("last_result")
        new["last_guess"] = state.get("last_guess")
        return new
    s = copy.deepcopy(state)
    handler = _HANDLERS.get(str(kind))
    if handler is not None:
        handler(s, data)
    if isinstance(frame.get("id"), int):
        s["last_event_id"] = max(int(s.get("last_event_id") or 0), frame["id"])
    return s


def apply_events(state: State, frames: list[dict[str, Any]]) -> State:
    for frame in frames:
        state = apply_event(state, frame)
    return state


def _joined(s: State, d: dict[str, Any]) -> None:
    player = d.get("player") or {}
    if player.get("id") and _player(s, player["id"]) is None:
        s["players"].append(dict(player))


def _left(s: State, d: dict[str, Any]) -> None:
    pid = d.get("player_id")
    s["players"] = [p for p in s["players"] if p["id"] != pid]
    s["votes_cast"] = [v for v in s.get("votes_cast", []) if v != pid]
    if _is_you(s, str(pid)):
        _you(s)["removed"] = d.get("reason", "left")


def _presence(s: State, d: dict[str, Any]) -> None:
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p["online"] = bool(d.get("online"))


def _host(s: State, d: dict[str, Any]) -> None:
    s["host_id"] = d.get("player_id")
    for p in s["players"]:
        p["is_host"] = p["id"] == s["host_id"]
    _you(s)["is_host"] = _you(s).get("player_id") == s["host_id"]


def _settings(s: State, d: dict[str, Any]) -> None:
    s["settings"] = dict(d.get("settings") or s.get("settings") or {})


def _game_started(s: State, d: dict[str, Any]) -> None:
    seated = set(d.get("players") or [])
    s.update(game=d.get("game", s.get("game", 0) + 1), round=0, clues=[], votes_cast=[], game_over=None)
    s.update(last_result=None, last_guess=None, revote_candidates=[], guesser_id=None)
    for p in s["players"]:
        p.update(alive=p["id"] in seated, spectator=p["id"] not in seated, ready=False, has_voted=False)
        p.update(clues_this_round=0, stand_in=False)
        p.pop("role", None)
    you = _you(s)
    mine = you.get("player_id") in seated
    you.update(alive=mine, spectator=not mine, ready=False, voted_for=None, word=None, mr_white=False)


def _your_word(s: State, d: dict[str, Any]) -> None:
    _you(s).update(word=d.get("word"), mr_white=bool(d.get("mr_white")))


def _phase(s: State, d: dict[str, Any]) -> None:
    s.update(phase=d.get("phase"), round=d.get("round", s.get("round")), deadline=d.get("deadline"))
    if d.get("phase") in ("discussion", "voting"):
        s["votes_cast"] = []
        for p in s["players"]:
            p["has_voted"] = False
            if d.get("phase") == "discussion":
                p["ready"] = False
                p["clues_this_round"] = 0
        _you(s)["voted_for"] = None
        if d.get("phase") == "discussion":
            _you(s)["ready"] = False
            s["revote_candidates"] = []
            s["guesser_id"] = None


def _clue(s: State, d: dict[str, Any]) -> None:
    s["clues"].append(dict(d))
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
    if pid not in s["votes_cast"]:
        s["votes_cast"] = sorted([*s["votes_cast"], pid])
    p = _player(s, pid)
    if p is not None:
        p["has_voted"] = True


def _eliminated(s: State, d: dict[str, Any]) -> None:
    p = _player(s, d.get("player_id", ""))
    if p is not None:
        p.update(alive=False, role=d.get("role"))
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


def _stand_in(on: bool) -> Any:
    def handler(s: State, d: dict[str, Any]) -> None:
        p = _player(s, d.get("player_id", ""))
        if p is not None:
            p["stand_in"] = on

    return handler


def _game_over(s: State, d: dict[str, Any]) -> None:
    s["game_over"] = dict(d)
    s["phase"] = "finished"
    s["deadline"] = None
    roles = d.get("roles") or {}
    for p in s["players"]:
        if p["id"] in roles:
            p["role"] = roles[p["id"]]


_HANDLERS = {
    "player_joined": _joined,
    "player_left": _left,
    "presence_changed": _presence,
    "host_changed": _host,
    "settings_changed": _settings,
    "game_started": _game_started,
    "your_word": _your_word,
    "phase_changed": _phase,
    "clue_posted": _clue,
    "player_ready": _ready,
    "vote_cast": _vote,
    "player_eliminated": _eliminated,
    "vote_tied": _tied,
    "guess_started": _guess_started,
    "guess_made": _guess_made,
    "stand_in_started": _stand_in(True),
    "stand_in_ended": _stand_in(False),
    "game_over": _game_over,
}

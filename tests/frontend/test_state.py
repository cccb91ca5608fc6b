"""The reducer: events write what they carry, a snapshot replaces the state, limits come from the snapshot."""

from __future__ import annotations

from typing import Any

from frontend.state import State, apply_events, limit, needs_snapshot, span
from parlor_protocol.vocabulary import CLUE_MAX, GUESS_MAX, MAX_PLAYERS

LIMITS = {
    "min_players": 4,
    "max_players": 9,
    "name_max": 20,
    "clue_max": 80,
    "discussion_seconds": {"min": 30, "max": 300},
    "voting_seconds": {"min": 5, "max": 60},
    "undercover_count": {"min": 1, "max": 3},
}


def _state(**over: Any) -> State:
    state: dict[str, Any] = {
        "phase": "discussion",
        "round": 1,
        "players": [{"id": "p1", "name": "Ann", "ready": True}, {"id": "p2", "name": "Bob", "ready": False}],
        "clues": [],
        "votes_cast": [],
        "you": {"player_id": "p1", "ready": True},
        "last_event_id": 4,
    }
    state.update(over)
    return state  # type: ignore[return-value]


def test_events_write_what_they_carry_and_move_the_id() -> None:
    """A clue is appended and counted; a ready marks its player; the last id follows the frames."""
    frames = [
        {
            "id": 5,
            "type": "clue_posted",
            "data": {"round": 1, "player_id": "p2", "name": "Bob", "text": "hot", "ts": 1},
        },
        {"id": 6, "type": "player_ready", "data": {"player_id": "p2"}},
    ]
    state = apply_events(_state(), frames)
    assert [c["text"] for c in state["clues"]] == ["hot"]
    assert state["players"][1]["clues_this_round"] == 1 and state["players"][1]["ready"] is True
    assert state["last_event_id"] == 6 and not needs_snapshot(frames)


def test_a_phase_change_is_not_replayed_but_asks_for_a_snapshot() -> None:
    """phase_changed sets phase, round and deadline only; resetting players is the engine's, via a snapshot."""
    frames = [{"id": 5, "type": "phase_changed", "data": {"phase": "voting", "round": 1, "deadline": 99.0}}]
    state = apply_events(_state(), frames)
    assert (state["phase"], state["round"], state["deadline"]) == ("voting", 1, 99.0)
    assert state["players"][0]["ready"] is True  # unchanged until the snapshot says otherwise
    assert needs_snapshot(frames)
    assert needs_snapshot([{"id": 7, "type": "game_started", "data": {"game": 2, "players": ["p1"]}}])


def test_a_snapshot_replaces_the_state_but_keeps_the_last_result() -> None:
    """The snapshot wins; only the client's own notice of the last vote survives it."""
    state = apply_events(_state(), [{"id": 5, "type": "vote_tied", "data": {"round": 1}}])
    state = apply_events(state, [{"id": None, "type": "snapshot", "data": {"phase": "lobby", "last_event_id": 9}}])
    assert state["phase"] == "lobby" and state["last_event_id"] == 9
    assert state["last_result"] == {"kind": "tied", "round": 1}


def test_removal_is_remembered_for_the_player_it_concerns() -> None:
    state = apply_events(_state(), [{"id": 5, "type": "player_left", "data": {"player_id": "p1", "reason": "kicked"}}])
    assert state["removed"] == "kicked" and [p["id"] for p in state["players"]] == ["p2"]


def test_limits_come_from_the_snapshot_else_from_the_vocabulary() -> None:
    """With `limits` in the snapshot the frontend uses them; without, the vocabulary's bounds and open ranges."""
    with_limits = _state(limits=LIMITS)
    assert limit(with_limits, "max_players") == 9 and limit(with_limits, "clue_max") == 80
    assert span(with_limits, "discussion_seconds") == (30, 300)
    assert limit(None, "max_players") == MAX_PLAYERS and limit(_state(), "clue_max") == CLUE_MAX
    assert span(_state(), "voting_seconds") == (None, None)


def test_the_guess_box_takes_its_length_from_the_snapshot_even_from_an_older_backend() -> None:
    """`guess_max` from the snapshot's `limits`; a backend of the release before (limits without it) gives
    the vocabulary's GUESS_MAX rather than an error."""
    assert limit(_state(limits={**LIMITS, "guess_max": 40}), "guess_max") == 40
    assert limit(_state(limits=LIMITS), "guess_max") == GUESS_MAX == 60

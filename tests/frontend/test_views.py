"""The room's HTML pieces: player text is always escaped, and each phase draws what it promises.

These build HTML only (no Streamlit run), so they are plain unit tests; the browser tests cover the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontend.views import room

EVIL = '<img src=x onerror="alert(1)">'


def _state(**over: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "room_code": "ABCDE",
        "phase": "discussion",
        "game": 1,
        "round": 2,
        "deadline": None,
        "settings": {"discussion_seconds": 90, "voting_seconds": 30},
        "players": [
            {"id": "p1", "name": EVIL, "online": True, "alive": True, "is_host": True},
            {"id": "p2", "name": "Bob", "online": False, "alive": False, "role": "undercover"},
        ],
        "clues": [
            {"round": 1, "name": EVIL, "text": EVIL},
            {"round": 2, "name": "Bob", "text": "sunny"},
        ],
        "you": {"player_id": "p1", "word": EVIL, "alive": True},
        "last_result": {"kind": "eliminated", "round": 1, "name": EVIL, "role": "undercover"},
    }
    state.update(over)
    return state


def test_live_html_escapes_names_and_clues_and_groups_rounds() -> None:
    html = room.live_html(_state())
    assert EVIL not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert html.count("<h6>Round ") == 2
    assert html.index("Round 1") < html.index("Round 2")
    assert html.count("<p><b>") == 2
    assert "<p><b>Bob</b>sunny</p>" in html
    assert '<p data-player="p2" class="off"><s>Bob</s><span class="parlor-tag out">out · undercover</span></p>' in html


def test_game_header_escapes_word_and_result_and_shows_notices() -> None:
    html = room._phase_header_html(_state()) + room._word_card_html(_state()["you"]) + room._notices_html(_state())
    assert EVIL not in html
    assert 'data-testid="word"' in html
    assert "was voted out in round 1" in html
    assert "You were voted out" not in html  # you are still in


def test_notices_for_a_tie_and_for_a_player_who_is_out() -> None:
    tie = {"kind": "tie", "round": 1}
    html = room._notices_html(_state(last_result=tie, you={"player_id": "p1", "word": "x", "alive": False}))
    assert "ended in a tie" in html
    assert "You were voted out" in html


def test_an_old_result_is_not_repeated_in_later_rounds() -> None:
    assert room._notices_html(_state(round=3)) == ""


def test_layout_key_ignores_clues_but_not_phase() -> None:
    base = room.layout_key(_state())
    assert room.layout_key(_state(clues=[])) == base
    assert room.layout_key(_state(phase="voting")) != base


def test_the_stylesheet_has_no_angle_brackets() -> None:
    """DOMPurify drops a whole <style> whose text looks like markup, even inside a CSS comment."""
    css = (Path(__file__).resolve().parents[2] / "frontend" / "static" / "style.css").read_text(encoding="utf-8")
    assert "<" not in css


def test_live_placeholders_are_empty_and_follow_the_layout() -> None:
    """Bridge mode draws only empty slots (no player text); the clue slot only for a player still in, discussing."""
    html = room.live_placeholders(_state())
    assert html.count("data-parlor-live=") == 3 and 'data-parlor-live="clue"' in html
    assert "Bob" not in html and "&lt;img" not in html
    assert 'data-parlor-live="clue"' not in room.live_placeholders(_state(phase="voting"))
    out = _state(you={"player_id": "p1", "word": "x", "alive": False})
    assert 'data-parlor-live="clue"' not in room.live_placeholders(out)
    assert room.live_placeholders(_state(phase="finished")) == '<div data-parlor-live="feed"></div>'
    assert room.live_placeholders(_state(phase="lobby")) == ""
    assert room.live_placeholders(_state(removed="kicked")) == ""

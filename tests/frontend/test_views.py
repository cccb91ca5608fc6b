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


MARKDOWN_NAME = "![](http://x.invalid/t)"


def _voting_room_app() -> None:
    import streamlit as st  # noqa: F401  (AppTest runs this function's body as the script)

    from frontend.api import Api, Seat
    from frontend.views import room

    players = [
        {"id": "p1", "name": "Alice", "online": True, "alive": True, "is_host": True},
        {"id": "p2", "name": "![](http://x.invalid/t)", "online": True, "alive": True},
        {"id": "p3", "name": "**Bold** _x_ [link](http://x.invalid)", "online": True, "alive": True},
    ]
    state = {
        "room_code": "ABCDE",
        "phase": "voting",
        "game": 1,
        "round": 1,
        "deadline": None,
        "settings": {"discussion_seconds": 90, "voting_seconds": 30},
        "players": players,
        "clues": [],
        "you": {"player_id": "p1", "word": "sun", "alive": True, "is_host": True},
    }
    lobby = dict(state, phase="lobby")
    seat = Seat("ABCDE", "p1", "t")
    api = Api("http://127.0.0.1:9")  # never called: nothing is clicked
    room.render(state, api, seat, "http://x")
    room.render(lobby, api, seat, "http://x")


def test_player_names_are_markdown_escaped_in_widget_labels_and_tooltips() -> None:
    """Vote buttons and the kick tooltip show a Markdown name literally: no image, link or emphasis markup."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_voting_room_app).run(timeout=30)
    assert not at.exception
    labels = {b.label for b in at.button}
    helps = {b.help for b in at.button if b.help}
    assert "Vote \\!\\[\\]\\(http\\:\\/\\/x\\.invalid\\/t\\)" in labels or any(
        "\\!\\[\\]\\(" in label for label in labels
    ), labels
    for text in labels | helps:
        assert "![](" not in text and "**Bold**" not in text and "[link](" not in text, text
    assert any("Remove" in h and "\\!\\[" in h for h in helps), helps

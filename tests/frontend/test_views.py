"""The room's HTML pieces: player text is always escaped, and each phase draws what it promises.

These build HTML only (no Streamlit run), so they are plain unit tests; the browser tests cover the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontend.views import room
from tests.frontend.player import STATUS_CONNECTED

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
    assert room.live_placeholders(_state(phase="finished")) == ""
    assert room.live_placeholders(_state(phase="lobby")) == ""
    assert room.live_placeholders(_state(removed="kicked")) == ""


def test_live_words_follow_the_room_language() -> None:
    """The live view draws in the room's language and words refusals as the Python views do."""
    fr = room.live_words("fr")
    assert fr["words"]["send"] == "Envoyer" and fr["words"]["round_n"] == "Manche {n}"
    assert fr["errors"]["clue_contains_word"] == "Votre indice ne doit pas contenir votre mot."
    assert room.live_words("en")["errors"]["clue_contains_word"] == "Your clue must not contain your own word."


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


def test_every_text_is_translated() -> None:
    """French has every key English has (and no stray ones), with the same {fields}."""
    import string

    from frontend.i18n import MESSAGES

    assert set(MESSAGES["fr"]) == set(MESSAGES["en"])
    for key, text in MESSAGES["en"].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(MESSAGES["fr"][key]) if f}, key


def test_french_room_speaks_french_and_marks_dropped_players() -> None:
    """A French room's feed and tags are French; a dropped player reads "reconnexion…", a stand-in is marked."""
    players = [
        {"id": "p1", "name": "Zoé", "online": True, "alive": True},
        {"id": "p2", "name": "Hugo", "online": False, "alive": True},
        {"id": "p3", "name": "Léa", "online": False, "alive": True, "stand_in": True},
    ]
    html = room.live_html(_state(settings={"language": "fr"}, players=players))
    assert "Indices" in html and "Manche 1" in html
    assert 'data-player="p2" class="off">Hugo<span class="parlor-tag away">reconnexion…</span>' in html
    assert "(un bot le remplace)" in html
    english = room.live_html(_state(players=players))
    assert "(bot standing in)" in english and "reconnecting…" in english


def test_mr_white_card_says_there_is_no_word() -> None:
    """Mr. White sees a "no word" card, never the spectator one."""
    html = room._word_card_html({"mr_white": True, "word": None, "alive": True})
    assert 'data-testid="mr-white"' in html and "You have no word" in html


def test_story_shows_ballots_only_when_given_and_eliminations_in_order() -> None:
    """Names-rule ballots read voter -> target; counts-only shows counts; eliminations keep their order."""
    over = {
        "winner": "mr_white",
        "winners": ["p2"],
        "players": [
            {"id": "p1", "name": "Ann", "role": "civilian", "word": "tea"},
            {"id": "p2", "name": "Ben", "role": "mr_white", "word": None},
        ],
        "story": {
            "rounds": [
                {
                    "round": 1,
                    "clues": [{"name": "Ann", "text": "warm"}],
                    "votes": [{"revote": False, "votes": {"p2": 1}, "ballots": {"p1": "p2"}}],
                    "guesses": [{"name": "Ben", "guess": "tea", "correct": True}],
                },
                {
                    "round": 2,
                    "clues": [],
                    "votes": [{"revote": True, "votes": {"p1": 2}, "ballots": None}],
                    "guesses": [],
                },
            ],
            "eliminations": [
                {"round": 1, "name": "Ben", "role": "mr_white", "word": None, "how": "voted"},
                {"round": 2, "name": "Ann", "role": "civilian", "word": "tea", "how": "left"},
            ],
        },
    }
    html = room._story_html({"game_over": over, "settings": {"language": "en"}})
    assert "Votes: Ann → Ben" in html and "(revote) Votes received: Ann 2" in html
    assert "guessed “tea”: right" in html
    assert html.index("<b>Ben</b>, Mr. White (no word), voted out") < html.index("<b>Ann</b>, civilian (tea), left")


def test_reducer_follows_mr_white_revotes_and_stand_ins() -> None:
    """Events move the client state the way a fresh snapshot would show it."""
    from frontend.state import apply_events

    state = _state(phase="voting", players=[{"id": "p1", "name": "A"}, {"id": "p2", "name": "B"}])
    frames = [
        {"id": 1, "type": "vote_tied", "data": {"round": 1, "candidates": ["p1", "p2"], "revote": True}},
        {"id": 2, "type": "stand_in_started", "data": {"player_id": "p2", "name": "B"}},
        {"id": 3, "type": "guess_started", "data": {"player_id": "p2", "name": "B"}},
    ]
    state = apply_events(state, frames)
    assert state["revote_candidates"] == ["p1", "p2"] and state["guesser_id"] == "p2"
    assert state["players"][1]["stand_in"] is True
    state = apply_events(
        state,
        [
            {"id": 4, "type": "guess_made", "data": {"player_id": "p2", "guess": "x", "correct": False, "round": 1}},
            {"id": 5, "type": "stand_in_ended", "data": {"player_id": "p2", "name": "B"}},
            {"id": 6, "type": "phase_changed", "data": {"phase": "discussion", "round": 2}},
            {"id": 7, "type": "your_word", "data": {"word": None, "game": 1, "mr_white": True}},
        ],
    )
    assert state["guesser_id"] is None and state["last_guess"]["guess"] == "x"
    # the phase change brings a fresh snapshot (which clears the revote); the client's own last guess survives it
    snap = apply_events(state, [{"id": None, "type": "snapshot", "data": {**state, "revote_candidates": []}}])
    assert snap["revote_candidates"] == [] and snap["last_guess"]["guess"] == "x"
    assert state["players"][1]["stand_in"] is False and state["you"]["mr_white"] is True


def test_refusals_follow_the_room_language() -> None:
    """A French room reads refusals in French; a refused pack's lines are worded from their reason codes in the
    room's language (the server's English sentence is only the fallback for an unknown reason)."""
    from frontend.i18n import error_text

    detail = "the pack has bad lines: line 2: 'x' needs exactly two words separated by a comma"
    lines = [
        {"line": 2, "reason": "two_words", "word": "solitaire", "message": "..."},
        {"line": 4, "reason": "repeated", "word": "chat", "other": 1, "message": "..."},
        {"line": 5, "reason": "bad_word", "word": "sk_8", "limit": 30, "message": "..."},
        {"line": 6, "reason": "from_the_future", "word": "", "message": "'z' is odd"},
    ]
    french = error_text("fr", "invalid_pack", detail, "English", lines).splitlines()
    assert french == [
        "Ces mots ne conviennent pas :",
        "- ligne 2 : « solitaire » doit contenir exactement deux mots séparés par une virgule",
        "- ligne 4 : « chat » figure déjà à la ligne 1",
        "- ligne 5 : « sk\\_8 » doit tenir en 30 lettres, espaces, apostrophes ou tirets au plus",
        "- line 6: 'z' is odd",
    ]
    assert error_text("en", "invalid_pack", detail, "English", lines[:1]).splitlines()[1] == (
        "- line 2: “solitaire” needs exactly two words separated by a comma"
    )
    assert error_text("en", "invalid_pack", detail, "English") == "English"
    assert error_text("fr", "unknown_room", "", "English").startswith("Aucun salon")
    assert error_text("fr", "unknown_code", detail, "English") == "English"


def test_connection_light_and_landing_follow_the_language() -> None:
    """The light's labels come from the catalogue for every bridge status; the landing page picks the first
    language of the browser's Accept-Language that the game speaks."""
    from frontend.i18n import browser_language, status_labels

    english, french = status_labels("en"), status_labels("fr")
    assert set(english) == set(french) == {"connected", "connecting", "idle", "fallback", "polling", "stopped"}
    assert french["connected"] == "🟢 Connecté (temps réel)" and english["connected"] == STATUS_CONNECTED
    assert all(french[k] != english[k] for k in english)
    assert browser_language("fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert browser_language("de-DE,de;q=0.9,en-GB;q=0.5") == "en"
    assert browser_language("") == browser_language(None) == "en"


def test_the_rules_exist_in_french_with_the_same_sections() -> None:
    """docs/rules.fr.md mirrors docs/rules.md section for section, and each links to the other."""
    english = room.RULES_PATH.read_text(encoding="utf-8")
    french = room.RULES_PATH.with_suffix(".fr.md").read_text(encoding="utf-8")

    def shape(text: str) -> list[str]:
        return [line.split(" ")[0] for line in text.splitlines() if line.startswith("#") or line.startswith("|")]

    assert shape(english) == shape(french)
    assert "(rules.fr.md)" in english and "(rules.md)" in french
    assert room._rules_text("fr") == french and room._rules_text("en") == english

"""The live view (static/live_view.js) keeps the room as frontend/state.py does and asks for reruns as room.py needs.

bridge.js and live_view.js in a blank page of real Chromium, no servers: one event sequence goes through both
reducers, and every event that changes `room.layout_key` must be one the view calls loud (never quiet).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from frontend.live import BRIDGE_FILES
from frontend.state import State, apply_event
from frontend.views import room
from launchers.process import ROOT

pytestmark = pytest.mark.browser

STATIC = ROOT / "frontend" / "static"
EVIL = '<img src=x onerror="window.pwned=1">'


def _player(pid: str, name: str, **over: Any) -> dict[str, Any]:
    return {"id": pid, "name": name, "online": True, "alive": True, "is_host": pid == "p1", **over}


SNAPSHOT: dict[str, Any] = {
    "room_code": "ABCDE",
    "phase": "lobby",
    "round": 0,
    "game": 0,
    "deadline": None,
    "host_id": "p1",
    "settings": {"discussion_seconds": 90, "voting_seconds": 30, "undercover_count": None},
    "players": [_player("p1", "Ann"), _player("p2", "Bob")],
    "clues": [],
    "votes_cast": [],
    "you": {"player_id": "p1", "name": "Ann", "word": None, "alive": True, "is_host": True},
    "game_over": None,
    "last_event_id": 3,
}


def _frames() -> list[dict[str, Any]]:
    """A room's life: joins and presence in the lobby, a game with clues, marks, a tie, an elimination, the end."""
    events: list[tuple[str, dict[str, Any]]] = [
        ("player_joined", {"player": _player("p3", "Bot Ada", is_bot=True)}),
        ("presence_changed", {"player_id": "p2", "online": False}),
        ("settings_changed", {"settings": {"discussion_seconds": 60, "voting_seconds": 20, "undercover_count": 1}}),
        ("game_started", {"game": 1, "players": ["p1", "p2", "p3"]}),
        ("your_word", {"word": "bread", "mr_white": False}),
        ("phase_changed", {"phase": "discussion", "round": 1, "deadline": 1000.5}),
        ("presence_changed", {"player_id": "p2", "online": True}),
        ("clue_posted", {"round": 1, "player_id": "p2", "name": "Bob", "text": EVIL, "ts": 1.0}),
        ("clue_posted", {"round": 1, "player_id": "p1", "name": "Ann", "text": "crust", "ts": 2.0}),
        ("player_ready", {"player_id": "p2"}),
        ("player_ready", {"player_id": "p1"}),
        ("player_joined", {"player": _player("p4", "Cy", spectator=True, alive=False)}),
        ("phase_changed", {"phase": "voting", "round": 1, "deadline": 1030.0}),
        ("vote_cast", {"player_id": "p2"}),
        ("vote_cast", {"player_id": "p1"}),
        ("vote_tied", {"round": 1, "revote": True, "candidates": ["p2", "p3"]}),
        ("stand_in_started", {"player_id": "p2"}),
        ("stand_in_ended", {"player_id": "p2"}),
        ("phase_changed", {"phase": "discussion", "round": 2, "deadline": 1100.0}),
        ("clue_posted", {"round": 2, "player_id": "p3", "name": "Bot Ada", "text": "toast", "ts": 3.0}),
        ("phase_changed", {"phase": "voting", "round": 2, "deadline": 1130.0}),
        ("vote_cast", {"player_id": "p3"}),
        ("player_eliminated", {"player_id": "p3", "name": "Bot Ada", "role": "undercover", "round": 2}),
        ("guess_started", {"player_id": "p3"}),
        ("guess_made", {"player_id": "p3", "guess": "toast", "correct": False}),
        ("host_changed", {"player_id": "p2"}),
        ("game_over", {"winner": "civilians", "roles": {"p1": "civilian", "p2": "civilian", "p3": "undercover"}}),
        ("presence_changed", {"player_id": "p1", "online": False}),
        ("player_left", {"player_id": "p2", "reason": "left"}),
        ("player_left", {"player_id": "p1", "reason": "kicked"}),
    ]
    return [{"id": n, "type": kind, "ts": 1.0, "data": data} for n, (kind, data) in enumerate(events, start=4)]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    for name in BRIDGE_FILES:
        page.add_script_tag(path=str(STATIC / name))
    page.add_script_tag(path=str(STATIC / "live_view.js"))
    yield page
    page.close()


def _plain(state: State) -> Any:
    """The state as JSON sees it (StrEnums are their values), so Python's and the view's compare equal."""
    return json.loads(json.dumps(state))


def test_the_view_reduces_events_as_state_py_does(page: Page) -> None:
    """After every event of a whole room's life, the view's state equals state.py's."""
    frames = [{"id": None, "type": "snapshot", "data": SNAPSHOT}, *_frames()]
    theirs = page.evaluate(
        """frames => {
            const view = window.parlorLive;
            let state = {};
            return frames.map(f => (state = view.applyEvent(state, f)));
        }""",
        frames,
    )
    state: State = {}
    for n, frame in enumerate(frames):
        state = apply_event(state, frame)
        assert theirs[n] == _plain(state), (n, frame["type"])


def test_every_event_that_changes_the_layout_is_loud(page: Page) -> None:
    """An event the view calls quiet (no Python rerun) never changes room.layout_key; clues are always quiet."""
    frames = [{"id": None, "type": "snapshot", "data": SNAPSHOT}, *_frames()]
    verdicts = page.evaluate(
        """frames => {
            const view = window.parlorLive;
            let state = view.applyEvent({}, frames[0]);
            return frames.slice(1).map(f => {
                const quiet = view.quietIn(state, f);
                state = view.applyEvent(state, f);
                return quiet;
            });
        }""",
        frames,
    )
    state = apply_event({}, frames[0])
    quiet_kinds = set()
    for frame, quiet in zip(frames[1:], verdicts, strict=True):
        after = apply_event(state, frame)
        if quiet:
            quiet_kinds.add(frame["type"])
            assert room.layout_key(after) == room.layout_key(state), frame
        state = after
    assert {"clue_posted", "presence_changed", "player_ready", "vote_cast"} <= quiet_kinds
    # before the view has a state, nothing is quiet
    assert page.evaluate("f => window.parlorLive.quietIn(null, f)", frames[8]) is False


def test_the_view_draws_placeholders_with_text_escaped_and_refills_a_remounted_one(page: Page) -> None:
    """Names and clues go in as text; a placeholder that comes back empty (a React re-mount) is painted again."""
    state = apply_event({}, {"id": None, "type": "snapshot", "data": SNAPSHOT})
    for frame in _frames()[:10]:  # up to both ready marks, in the discussion
        state = apply_event(state, frame)
    page.evaluate(
        """([state, html]) => {
            const view = window.parlorLive;
            view.state = state;
            document.body.innerHTML = html;
        }""",
        [_plain(state), room.live_placeholders(state)],
    )
    feed = page.locator(".parlor-feed > p")
    assert feed.evaluate_all("els => els.map(e => e.lastChild.textContent)") == [EVIL, "crust"]
    assert page.locator("img").count() == 0 and page.evaluate("window.pwned") is None
    assert page.locator("[data-player='p2'] .parlor-tag.ready").count() == 1
    assert page.get_by_label("Your clue").count() == 1
    page.get_by_label("Your clue").fill("half typed")
    # React replaces the element: the new placeholders are filled at once, the typed text kept
    page.evaluate("html => { document.body.innerHTML = html; }", room.live_placeholders(state))
    page.wait_for_function("document.querySelectorAll('.parlor-feed > p').length === 2")
    assert page.get_by_label("Your clue").input_value() == "half typed"


def seated_view(*names: str) -> str:
    """The start of a page function `([state, *names]) => {...}`: the live view attached to the bridge, seated,
    holding `state`, with no events buffered."""
    return (
        f"([state, {', '.join(names)}]) => {{"
        + """
            const view = window.parlorLive, bridge = window.parlorBridge;
            view.attach(bridge);
            bridge.config = { room: "ABCDE", player: "p1", token: "t", baseUrl: "http://127.0.0.1:9" };
            view.seat = "ABCDE/p1";
            view.state = state;
            bridge.events = [];
"""
    )


def test_a_reset_snapshot_replaces_the_view_even_though_its_id_is_lower(page: Page) -> None:
    """A room whose history was lost (new epoch) comes back with lower ids: the view takes the snapshot anyway,
    once, instead of keeping the stale room it drew."""
    state = apply_event({}, {"id": None, "type": "snapshot", "data": SNAPSHOT})
    for frame in _frames()[:10]:
        state = apply_event(state, frame)
    reset = {**SNAPSHOT, "phase": "discussion", "round": 1, "clues": [], "last_event_id": 2}
    result = page.evaluate(
        seated_view("reset")
        + """
            bridge.snapshot = { last_event_id: 2, data: reset, reset: true };
            view.sync();
            const after = view.state.last_event_id, clues = view.state.clues.length;
            view.state.clues.push({ round: 1, player_id: "p2", name: "Bob", text: "later", ts: 9 });
            view.sync();  // the same snapshot again does not wipe what came after it
            return [after, clues, view.state.clues.length];
        }""",
        [_plain(state), reset],
    )
    assert result == [2, 0, 1]


def test_a_clue_appends_its_row_and_touches_nothing_else(page: Page) -> None:
    """A clue on a watching page builds its row alone (a p and its b) and appends it to the feed already drawn:
    the rows before it stay the same nodes, and neither the players list nor the clue box is rebuilt or touched."""
    state = apply_event({}, {"id": None, "type": "snapshot", "data": SNAPSHOT})
    for frame in _frames()[:10]:  # the discussion, two clues, both ready marks
        state = apply_event(state, frame)
    clue = {"id": 99, "type": "clue_posted", "ts": 1.0}
    clue["data"] = {"round": 1, "player_id": "p3", "name": "Bot Ada", "text": "oven", "ts": 3.0}
    result = page.evaluate(
        seated_view("html", "clue")
        + """
            document.body.innerHTML = html;
            view.paint();
            const rows = Array.from(document.querySelectorAll(".parlor-feed > *"));
            const players = document.querySelector("[data-parlor-live=players]").firstChild;
            const form = document.querySelector("[data-parlor-live=clue]").firstChild;
            const records = [];
            const watch = new MutationObserver((found) => records.push(...found));
            watch.observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
            const made = [];
            const create = document.createElement;
            document.createElement = function (tag) { made.push(tag); return create.call(this, tag); };
            try {
                bridge.events = [clue];
                view.sync();
            } finally {
                document.createElement = create;
            }
            records.push(...watch.takeRecords());
            watch.disconnect();
            const now = Array.from(document.querySelectorAll(".parlor-feed > *"));
            return {
                made,
                records: records.map(r => [r.type, r.target.className, Array.from(r.addedNodes, n => n.nodeName),
                                           r.removedNodes.length]),
                kept: rows.every((row, i) => now[i] === row),
                texts: now.filter(n => n.tagName === "P").map(n => n.textContent),
                players: document.querySelector("[data-parlor-live=players]").firstChild === players,
                form: document.querySelector("[data-parlor-live=clue]").firstChild === form,
            };
        }""",
        [_plain(state), room.live_placeholders(state), clue],
    )
    assert result["made"] == ["p", "b"]
    assert result["records"] == [["childList", "parlor-card parlor-feed", ["P"], 0]]
    assert result["kept"] and result["players"] and result["form"]
    assert result["texts"] == ["Bob" + EVIL, "Anncrust", "Bot Adaoven"]

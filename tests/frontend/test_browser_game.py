"""Parlor in real Chromium: two players, the socket cut and restored, legacy polling, and the rollout flag."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from backend.flags.file import write_flag_file
from launchers.backend import Backend, run_backend
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from tests.conftest import scaled, screenshot_dir
from tests.frontend.player import (
    STATUS_CONNECTED,
    STATUS_FALLBACK,
    STATUS_POLLING,
    Player,
    rest_clue,
    seat_two_and_a_bot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = screenshot_dir()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Frontend]]:
    """Backend (test hooks on) and Streamlit in bridge mode, the backend allowing the Streamlit origin."""
    tmp = tmp_path_factory.mktemp("stack")
    port = free_port()
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp) as frontend,
    ):
        yield backend, frontend


def _play_round_to_game_over(alice: Player, bob: Player) -> None:
    """Both humans give a clue, get ready and vote for the bot, so the game ends after one round."""
    alice.post_clue("grows in fields")
    bob.expect_text("grows in fields")
    # Parlor's stylesheet is still applied after live updates (the word card's gradient comes from it), and the
    # bridge's doorway iframes stay hidden.
    for player in (alice, bob):
        expect(player.page.locator(".parlor-word-card")).to_have_css("background-image", re.compile("gradient"))
        expect(player.page.locator("iframe[title*='streamlit_js_eval']").first).to_be_hidden()
    bob.post_clue("golden color")
    alice.expect_text("golden color")
    alice.click("I'm ready to vote")
    bob.click("I'm ready to vote")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("phase")).to_have_text("Voting", timeout=scaled(30) * 1000)
    alice.click("Vote Bot Ada")
    expect(bob.page.locator("[data-player] .parlor-tag.voted").first).to_be_visible(timeout=scaled(30) * 1000)
    bob.click("Vote Bot Ada")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("winner")).to_be_visible(timeout=scaled(30) * 1000)


def test_two_players_play_a_whole_game_live(browser: Browser, stack: tuple[Backend, Frontend]) -> None:
    """Two browsers create/join via a share link, add a bot, play to game over, each seeing the other live."""
    _backend, frontend = stack
    alice = Player.open(browser, frontend.url, "Alice")
    code = alice.create_room()
    alice.expect_status(STATUS_CONNECTED)
    bob = Player.open(browser, f"{frontend.url}/?room={code}", "Bob")
    bob.join_room(code)
    alice.expect_text("Bob")
    alice.click("Add a bot")
    bob.expect_text("Bot Ada")
    bob.expect_status(STATUS_CONNECTED)
    alice.page.screenshot(path=str(IMG / "lobby.png"))
    alice.click("Start game")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
    alice.post_clue("you can bake with it")
    bob.expect_text("you can bake with it")
    # The bridge mirrors its buffer to sessionStorage (within 5 s, one write for a burst of clues).
    bob.page.wait_for_function(
        "t => Object.keys(sessionStorage).some(k => k.startsWith('parlor:') && sessionStorage.getItem(k).includes(t))",
        arg="you can bake with it",
        timeout=scaled(10) * 1000,
    )
    # Same machine, same clock: the bridge's estimate of the server's clock offset is near zero.
    assert abs(bob.bridge("clockOffsetMs")) < 250
    bob.post_clue("farmers harvest it")
    alice.expect_text("farmers harvest it")
    alice.page.wait_for_timeout(300)  # let the countdown tick once more before the picture
    alice.page.screenshot(path=str(IMG / "game.png"))
    alice.click("I'm ready to vote")
    expect(bob.page.locator("[data-player] .parlor-tag.ready").first).to_be_visible(timeout=scaled(30) * 1000)
    bob.click("I'm ready to vote")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("phase")).to_have_text("Voting", timeout=scaled(30) * 1000)
    alice.click("Vote Bot Ada")
    expect(bob.page.locator("[data-player] .parlor-tag.voted").first).to_be_visible(timeout=scaled(30) * 1000)
    bob.click("Vote Bot Ada")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("winner")).to_be_visible(timeout=scaled(30) * 1000)
        player.expect_text("Civilian word")
        player.expect_text("Undercover word")
    alice.click("Play again")
    for player in (alice, bob):
        player.expect_text("Game 2 · Round 1")
    alice.page.context.close()
    bob.page.context.close()


def test_host_ends_the_discussion_then_counts_the_votes(browser: Browser, stack: tuple[Backend, Frontend]) -> None:
    """The host's buttons name the phase they end: "End discussion now" starts the vote, "Count votes now"
    counts it, and the same end-of-discussion sent once more (a late tap) is refused while the vote goes on."""
    backend, frontend = stack
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    alice.click("Start game")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("phase")).to_have_text("Discussion", timeout=scaled(30) * 1000)
    alice.click("End discussion now")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("phase")).to_have_text("Voting", timeout=scaled(30) * 1000)
    late = httpx.post(
        f"{backend.url}/api/rooms/{alice.code}/advance",
        json={"phase": "discussion", "round": 1},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "wrong_phase"
    expect(bob.page.get_by_test_id("phase")).to_have_text("Voting")
    alice.click("Count the votes now")
    for player in (alice, bob):  # the vote is over: round 2 (a tie, or one out) or game over (the bot's vote)
        after = player.page.locator("[data-testid='winner'], [data-testid='phase']:has-text('Discussion')")
        expect(after.first).to_be_visible(timeout=scaled(30) * 1000)
    for player in (alice, bob):
        player.page.context.close()


def test_socket_cut_falls_back_to_long_poll_and_recovers(browser: Browser, stack: tuple[Backend, Frontend]) -> None:
    """Cut sockets: Fallback, clues still arrive by long-poll; restored: Connected, no clue lost or doubled."""
    backend, frontend = stack
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    code = alice.code
    alice.click("Start game")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
        player.expect_status(STATUS_CONNECTED)
    alice.post_clue("before the cut")
    bob.expect_text("before the cut")

    assert httpx.post(f"{backend.url}/api/test/websocket", json={"refuse": True}).status_code == 200
    for player in (alice, bob):
        player.expect_status(STATUS_FALLBACK, timeout_s=10)
    rest_clue(backend.url, code, bob.token, "sent during the cut")
    alice.expect_text("sent during the cut", timeout_s=10)
    alice.post_clue("alice during the cut")
    bob.expect_text("alice during the cut", timeout_s=10)
    assert alice.bridge("transport") == "longpoll"

    assert httpx.post(f"{backend.url}/api/test/websocket", json={"refuse": False}).status_code == 200
    for player in (alice, bob):
        player.expect_status(STATUS_CONNECTED, timeout_s=45)
    rest_clue(backend.url, code, bob.token, "after the cut")
    alice.expect_text("after the cut")
    expected = ["before the cut", "sent during the cut", "alice during the cut", "after the cut"]
    for player in (alice, bob):
        player.expect_text("after the cut")
        human = [text for name, text in player.clues() if not name.startswith("Bot ")]
        assert human == expected
        ids = player.bridge("events.map(e => e.id)")
        assert ids == sorted(set(ids))
    assert alice.bridge("report.fallback_activations") is not None
    alice.page.context.close()
    bob.page.context.close()


def test_legacy_polling_plays_a_whole_game(browser: Browser, tmp_path: Path) -> None:
    """With WEBSOCKET_ENABLED=false the page polls the state endpoint, opens no socket, and a game still ends."""
    port = free_port()
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp_path) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp_path, env={"WEBSOCKET_ENABLED": "false"}) as frontend,
    ):
        alice, bob = seat_two_and_a_bot(browser, frontend.url)
        alice.expect_status(STATUS_POLLING)
        alice.expect_text("Bob")
        alice.click("Start game")
        _play_round_to_game_over(alice, bob)
        # the bridge may be loaded to look for a stored seat, but it is never configured and opens no socket
        assert alice.page.evaluate(
            "!window.parlorBridge || (window.parlorBridge.config === null && !window.parlorBridge.ws)"
        )
        alice.page.context.close()
        bob.page.context.close()


def test_player_outside_the_rollout_uses_long_poll(browser: Browser, tmp_path: Path) -> None:
    """At 0% rollout the page shows Polling and gets events by long-poll; at 100% it goes back to the socket."""
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=0)
    port = free_port()
    env = {"ALLOWED_ORIGINS": frontend_origins(port), "FLAGS_FILE": str(flags)}
    with run_backend(env=env, tmp=tmp_path) as backend, run_streamlit(backend.url, port=port, tmp=tmp_path) as frontend:
        alice = Player.open(browser, frontend.url, "Alice")
        code = alice.create_room()
        alice.expect_status(STATUS_POLLING)
        assert alice.bridge("transport") == "longpoll"
        bob = httpx.post(f"{backend.url}/api/rooms/{code}/players", json={"name": "Bob"}).json()
        alice.expect_text("Bob")
        alice.click("Add a bot")
        alice.expect_text("Bot Ada")
        alice.click("Start game")
        expect(alice.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
        rest_clue(backend.url, code, bob["token"], "over long-poll")
        alice.expect_text("over long-poll", timeout_s=10)

        write_flag_file(flags, enabled=True, percent=100)
        rest_clue(backend.url, code, bob["token"], "flag flipped")  # wakes the long-poll, which reports the change
        alice.expect_text("flag flipped")
        deadline_clue = 0
        while alice.page.locator(".parlor-status-text").inner_text() != STATUS_CONNECTED and deadline_clue < 10:
            # the flag file is re-read within ~2 s; each clue ends a held long-poll so its answer carries the news
            alice.page.wait_for_timeout(1000)
            deadline_clue += 1
            rest_clue(backend.url, code, bob["token"], f"nudge {deadline_clue}")
        alice.expect_status(STATUS_CONNECTED, timeout_s=20)
        alice.page.context.close()

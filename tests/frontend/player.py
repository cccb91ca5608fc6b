"""Drive Parlor's Streamlit page like a player would: through visible labels and buttons, waiting on conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import scaled

UI_TIMEOUT_MS = scaled(30) * 1000

STATUS_CONNECTED = "🟢 Connected (Real-time)"
STATUS_FALLBACK = "🔴 Disconnected (Fallback to polling)"
STATUS_POLLING = "⚪ Polling (WebSocket off)"


@dataclass
class Player:
    page: Page
    name: str
    code: str = ""

    @classmethod
    def open(cls, browser: Browser, url: str, name: str) -> Player:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(url)
        return cls(page, name)

    # ---- landing -----------------------------------------------------------------------------------------

    def create_room(self) -> str:
        form = self.page.get_by_test_id("stForm").filter(has_text="Create a room")
        form.get_by_label("Your name").fill(self.name)
        form.get_by_role("button", name="Create room").click()
        return self._seated()

    def join_room(self, code: str) -> str:
        form = self.page.get_by_test_id("stForm").filter(has_text="Join a room")
        code_box = form.get_by_label("Room code")
        if code_box.input_value() != code:
            code_box.fill(code)
        form.get_by_label("Your name").fill(self.name)
        form.get_by_role("button", name="Join room").click()
        return self._seated()

    def _seated(self) -> str:
        self.page.get_by_test_id("connection-status").wait_for()
        expect(self.page).to_have_url(re.compile(r"room=\w{5}"))
        self.code = self.page.url.split("room=")[-1][:5]
        return self.code

    # ---- reading the page ----------------------------------------------------------------------------------

    def expect_status(self, text: str, timeout_s: float = 30) -> None:
        expect(self.page.locator(".parlor-status-text")).to_have_text(text, timeout=scaled(timeout_s) * 1000)

    def expect_text(self, text: str, timeout_s: float = 30) -> None:
        expect(self.page.get_by_text(text, exact=False).first).to_be_visible(timeout=scaled(timeout_s) * 1000)

    def clues(self) -> list[tuple[str, str]]:
        """(name, text) of every clue in the feed, top to bottom."""
        rows = self.page.locator(".parlor-feed > p").evaluate_all(
            "els => els.map(e => [e.querySelector('b').textContent, e.lastChild.textContent])"
        )
        return [(str(name), str(text)) for name, text in rows]

    def bridge(self, expression: str) -> Any:
        return self.page.evaluate(f"window.parlorBridge && window.parlorBridge.{expression}")

    @property
    def token(self) -> str:
        token = self.page.evaluate("window.parlorBridge.config.token")
        assert isinstance(token, str)
        return token

    # ---- acting ------------------------------------------------------------------------------------------

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def post_clue(self, text: str) -> None:
        self.page.get_by_label("Your clue").fill(text)
        self.click("Send")
        self.expect_text(text)


def rest_clue(backend_url: str, code: str, token: str, text: str) -> None:
    resp = httpx.post(
        f"{backend_url}/api/rooms/{code}/clues", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 200, resp.text


def seat_two_and_a_bot(browser: Browser, url: str) -> tuple[Player, Player]:
    """Alice creates a room, Bob joins it through the share link, and Alice adds a bot (Bot Ada)."""
    alice = Player.open(browser, url, "Alice")
    code = alice.create_room()
    bob = Player.open(browser, f"{url}/?room={code}", "Bob")
    bob.join_room(code)
    alice.click("Add a bot")
    alice.expect_text("Bot Ada")
    return alice, bob


def play_a_game_to_its_end(browser: Browser, url: str) -> None:
    """Two players and a bot, seated through the page at `url`, play one round to the winner's screen: clues
    exchanged, both ready, both vote the bot out (the deploy tests play this against each way of running it)."""
    alice, bob = seat_two_and_a_bot(browser, url)
    alice.expect_status(STATUS_CONNECTED)
    alice.click("Start game")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("word")).to_be_visible(timeout=UI_TIMEOUT_MS)
    alice.post_clue("grows in fields")
    bob.expect_text("grows in fields")
    bob.post_clue("golden color")
    alice.expect_text("golden color")
    alice.click("I'm ready to vote")
    expect(bob.page.locator("[data-player] .parlor-tag.ready").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    bob.click("I'm ready to vote")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("phase")).to_have_text("Voting", timeout=UI_TIMEOUT_MS)
    alice.click("Vote Bot Ada")
    expect(bob.page.locator("[data-player] .parlor-tag.voted").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    bob.click("Vote Bot Ada")
    for player in (alice, bob):
        expect(player.page.get_by_test_id("winner")).to_be_visible(timeout=UI_TIMEOUT_MS)
        player.expect_text("Undercover word")

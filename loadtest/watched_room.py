"""The room the browser benchmarks watch: player A hosts from Python over REST, player B is a real page."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from launchers.streamlit import Frontend

UI_TIMEOUT_MS = 60_000


class WatchedRoom:
    """A started game: A (REST) hosts, B joins through the UI in Chromium with a bot beside them; clues posted
    by A. Long phases (10 min discussion), so a measurement never races the countdown."""

    def __init__(self, http: httpx.Client, page: Page, frontend: Frontend) -> None:
        self.http, self.page = http, page
        seat = http.post("/api/rooms", json={"name": "Alice"}).json()
        self.code, self.auth = seat["room_code"], {"Authorization": f"Bearer {seat['token']}"}
        page.goto(f"{frontend.url}/?room={self.code}")
        form = page.get_by_test_id("stForm").filter(has_text="Join a room")
        form.get_by_label("Your name").fill("Bob")
        form.get_by_role("button", name="Join room").click()
        page.get_by_test_id("connection-status").wait_for()
        http.post(f"/api/rooms/{self.code}/bots", headers=self.auth).raise_for_status()
        settings = {"discussion_seconds": 600, "voting_seconds": 300}
        http.patch(f"/api/rooms/{self.code}/settings", json=settings, headers=self.auth).raise_for_status()
        http.post(f"/api/rooms/{self.code}/start", headers=self.auth).raise_for_status()
        expect(page.get_by_test_id("word")).to_be_visible(timeout=UI_TIMEOUT_MS)
        self.clues: list[str] = []

    def clue(self, text: str) -> None:
        self.http.post(f"/api/rooms/{self.code}/clues", json={"text": text}, headers=self.auth).raise_for_status()
        self.clues.append(text)

    def shown(self) -> list[str] | None:
        """A's clues on B's page, in order; None while the page is navigating."""
        try:
            rows = self.page.locator(".parlor-feed > p").evaluate_all(
                "els => els.map(e => [e.querySelector('b').textContent, e.lastChild.textContent])"
            )
        except Exception:
            return None
        return [str(text) for name, text in rows if name == "Alice"]

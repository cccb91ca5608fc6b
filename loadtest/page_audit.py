"""A phone's view of Parlor, for tests/frontend/test_browser_phone.py and loadtest/web_audit.py alike.

Walks one host's page through every view (landing, lobby, discussion, voting, Mr. White's guess, game over), the
other four players moving over REST, and measures each view with what the browser itself reports: axe-core's
violations, the layout shifts (CLS: the largest session window, as Chrome's web-vitals count it) and Chromium's
own counters (Performance.getMetrics: LayoutCount, TaskDuration).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, ViewportSize, expect

from backend.game.engine import MR_WHITE, Room
from backend.game.words import PackLibrary

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1350, "height": 940}  # Lighthouse's desktop preset
VIEWS = ("landing", "lobby", "discussion", "voting", "guess", "over")

# Every layout shift of the document, from its first paint (buffered) on.
SHIFTS_JS = """
window.__parlorShifts = [];
const parlorNode = (n) => !n ? "?" : n.nodeType !== 1 ? n.nodeName : n.tagName.toLowerCase()
  + (n.dataset.testid ? "[" + n.dataset.testid + "]" : "")
  + (n.className ? "." + String(n.className).split(" ")[0] : "");
const parlorSource = (s) => parlorNode(s.node) + "@" + Math.round(s.previousRect.y) + ">"
  + Math.round(s.currentRect.y) + "h" + Math.round(s.currentRect.height);
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    window.__parlorShifts.push([e.startTime, e.value, e.hadRecentInput, e.sources.map(parlorSource).join(" ")]);
  }
}).observe({ type: "layout-shift", buffered: true });
"""


def axe_available() -> bool:
    return AXE_JS.exists()


def open_phone(
    browser: Browser, url: str, locale: str, timeout_ms: float, *, desktop: bool = False
) -> tuple[BrowserContext, Page]:
    """A fresh context at phone size (or, with `desktop`, 1350x940) recording its layout shifts, on `url`."""
    if desktop:
        context = browser.new_context(viewport=DESKTOP, locale=locale)
    else:
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale=locale
        )
    context.add_init_script(SHIFTS_JS)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(url)
    return context, page


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (WCAG 2.x A and AA, and best practices), id and targets."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary) }))"""
    )
    return list(found)


def shift_mark(page: Page) -> int:
    """How many layout shifts the page has had so far (the next view's shifts come after)."""
    return int(page.evaluate("window.__parlorShifts.length"))


def cls_since(page: Page, mark: int = 0) -> float:
    """The largest session window of shifts without recent input after `mark` (gap < 1 s, window < 5 s)."""
    shifts = page.evaluate("m => window.__parlorShifts.slice(m)", mark)
    best = current = 0.0
    first = last = -1e9
    for start, value, recent_input, _nodes in shifts:
        if recent_input:
            continue
        if start - last > 1000 or start - first > 5000:
            first, current = start, 0.0
        current += value
        last = start
        best = max(best, current)
    return best


def chromium_metrics(cdp: CDPSession) -> dict[str, float]:
    return {m["name"]: float(m["value"]) for m in cdp.send("Performance.getMetrics")["metrics"]}


def seed_for_host_as_mr_white(language: str) -> int:
    """A seed whose deal (5 players, Mr. White on) makes the host Mr. White, so the host's page shows the guess."""
    library = PackLibrary.default()
    for seed in range(1000):
        room, _ = Room.create("ABCDE", host_id="a", host_name="A", token_hash="", now=0)
        for n in range(4):
            room.join(f"p{n}", f"P{n}", "", 0)
        room.update_settings("a", {"language": language, "mr_white": True}, 0, library.languages())
        room.start("a", 0, random.Random(seed), library)
        if room.players["a"].role == MR_WHITE:
            return seed
    raise AssertionError("no seed")


class Table:
    """The host's page and four players over REST, moved from view to view."""

    def __init__(
        self, backend_url: str, page: Page, language: str, wait_ms: float, settings: dict[str, Any] | None = None
    ) -> None:
        self.settings = settings or {}
        self.http = httpx.Client(base_url=backend_url, timeout=10)
        self.page = page
        self.language = language
        self.wait_ms = wait_ms
        self.host: dict[str, str] = {}
        self.others: list[dict[str, str]] = []

    def call(self, method: str, path: str, seat: dict[str, str], body: Any = None) -> Any:
        resp = self.http.request(
            method, f"/api/rooms/{seat['room_code']}/{path}", json=body,
            headers={"Authorization": f"Bearer {seat['token']}"},
        )  # fmt: skip
        assert resp.status_code < 300, resp.text
        return resp.json()

    def phase(self, testid_text: str) -> None:
        expect(self.page.get_by_test_id("phase")).to_have_attribute("data-phase", testid_text, timeout=self.wait_ms)

    def views(self) -> Iterator[str]:
        """Yield each view's name once it is on the host's screen and settled."""
        page = self.page
        expect(page.get_by_test_id("stForm").first).to_be_visible(timeout=self.wait_ms)
        yield "landing"
        if self.language != "en":
            page.get_by_text("EN", exact=True).click()
        form = page.get_by_test_id("stForm").filter(has_text="Create a room")
        form.get_by_label("Your name").fill("Alice")
        form.get_by_role("button", name="Create room").click()
        page.get_by_test_id("connection-status").wait_for(timeout=self.wait_ms)
        code = page.url.split("room=")[-1][:5]
        seated = "window.parlorBridge && (window.parlorBridge.config || {}).token"
        token = str(page.wait_for_function(seated).json_value())
        self.host = {"room_code": code, "token": token}
        self.call("PATCH", "settings", self.host, {"language": self.language, "mr_white": True, **self.settings})
        for name in ("Ben", "Chloé", "Dora", "Émile"):
            seat = self.http.post(f"/api/rooms/{code}/players", json={"name": name}).json()
            self.others.append({"room_code": code, "token": seat["token"], "id": seat["player_id"]})
        expect(page.locator("[data-player]").filter(has_text="Émile")).to_be_visible(timeout=self.wait_ms)
        yield "lobby"
        self.http.post("/api/test/rng", json={"seed": seed_for_host_as_mr_white(self.language)})
        self.call("POST", "start", self.host)
        self.phase("discussion")
        expect(page.get_by_test_id("mr-white")).to_be_visible(timeout=self.wait_ms)
        yield "discussion"
        for n, seat in enumerate([self.host, *self.others]):
            self.call("POST", "clues", seat, {"text": f"clue number {n}"})
            self.call("POST", "ready", seat)
        self.phase("voting")
        expect(page.locator(".parlor-feed > p")).to_have_count(5, timeout=self.wait_ms)
        yield "voting"
        host_id = next(p["id"] for p in self.call("GET", "state", self.host)["players"] if p["name"] == "Alice")
        for seat in self.others:
            self.call("POST", "votes", seat, {"target_id": host_id})
        self.call("POST", "votes", self.host, {"target_id": self.others[0]["id"]})
        self.phase("guess")
        yield "guess"
        words = Counter(self.call("GET", "state", seat)["you"]["word"] for seat in self.others)
        self.call("POST", "guess", self.host, {"text": words.most_common(1)[0][0]})  # the civilians' word
        expect(page.get_by_test_id("winner")).to_be_visible(timeout=self.wait_ms)
        yield "over"


def shifts_since(page: Page, mark: int = 0) -> list[tuple[float, float, str]]:
    """Each shift after `mark` without recent input: (ms since the page opened, score, the nodes that moved)."""
    shifts = page.evaluate("m => window.__parlorShifts.slice(m)", mark)
    return [(round(start), round(value, 4), nodes) for start, value, recent, nodes in shifts if not recent]

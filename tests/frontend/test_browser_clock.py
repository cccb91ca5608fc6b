"""The countdown counts to the server's deadline even when the browser's clock is off.

bridge.js and countdown.js loaded into a blank page of real Chromium, no servers: the bridge is fed frames
stamped by a server whose clock runs 60 s ahead of the browser's, as ws.onmessage would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend.live import BRIDGE_FILES
from launchers.process import ROOT

pytestmark = pytest.mark.browser

STATIC = ROOT / "frontend" / "static"
SKEW_MS = 60_000


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    for name in BRIDGE_FILES:
        page.add_script_tag(path=str(STATIC / name))
    yield page
    page.close()


def test_offset_is_the_fastest_frames_bound(page: Page) -> None:
    """Each frame bounds the offset from below by its transit time; the estimate is the tightest bound."""
    offset = page.evaluate(
        """([skew, transits]) => {
            const b = window.parlorBridge;
            for (const transit of transits) {
                const arrived = performance.timeOrigin + performance.now();
                b.observeServerTime((arrived + skew - transit) / 1000, arrived);
            }
            b.observeServerTime((performance.timeOrigin - 3600000) / 1000, performance.timeOrigin);  // a replay
            b.observeServerTime("not a time", 0);
            return b.clockOffsetMs;
        }""",
        [SKEW_MS, [30, 5, 80]],
    )
    assert offset == pytest.approx(SKEW_MS - 5, abs=1)


def test_countdown_uses_the_server_clock(page: Page) -> None:
    """Deadline 89.5 s away on the server's clock: 1:30 on screen, not the 2:30 the browser's clock gives."""
    page.evaluate(
        """skew => {
            const b = window.parlorBridge;
            const arrived = performance.timeOrigin + performance.now();
            b.observeServerTime((arrived + skew) / 1000, arrived);
            const deadline = (performance.timeOrigin + performance.now() + skew + 89500) / 1000;
            document.body.innerHTML = `<div class="parlor-countdown" data-deadline="${deadline}" data-total="90">`
                + '<div class="parlor-countdown-text"></div></div>';
        }""",
        SKEW_MS,
    )
    page.add_script_tag(path=str(STATIC / "countdown.js"))
    # 1:30 when painted at once; a loaded machine may paint a few seconds later, never near the browser's 2:30
    expect(page.locator(".parlor-countdown-text [role=timer]")).to_have_attribute(
        "aria-label", re.compile(r"^1:[0-3]\d$")
    )


def test_without_a_bridge_the_countdown_uses_the_browser_clock(browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.evaluate(
            """() => {
                const deadline = (performance.timeOrigin + performance.now() + 29500) / 1000;
                document.body.innerHTML = `<div class="parlor-countdown" data-deadline="${deadline}" data-total="30">`
                    + '<div class="parlor-countdown-text"></div></div>';
            }"""
        )
        page.add_script_tag(path=str(STATIC / "countdown.js"))
        expect(page.locator(".parlor-countdown-text [role=timer]")).to_have_attribute(
            "aria-label", re.compile(r"^0:[0-3]\d$")
        )
    finally:
        page.close()

"""The bridge follows the server down when a room's history is reset (a new epoch or a snapshot behind it).

bridge.js loaded into a blank page of real Chromium, no servers: it is fed what ws.onmessage and the
long-poll would hand it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from frontend.live import BRIDGE_FILES
from launchers.process import ROOT

pytestmark = pytest.mark.browser

STATIC = ROOT / "frontend" / "static"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    for name in BRIDGE_FILES:
        page.add_script_tag(path=str(STATIC / name))
    yield page
    page.close()


def test_a_new_epoch_resets_the_last_id_downward_and_later_ids_are_accepted(page: Page) -> None:
    """Ids 6-10 of epoch A, then a snapshot of epoch B at id 7: the id goes down to 7, Python gets the snapshot
    although it asks after 10, and B's events 8 and 9 are accepted rather than dropped as duplicates."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const b = window.parlorBridge;
            const ev = (id) => ({ id, type: "clue_posted", ts: Date.now() / 1000, data: {} });
            b.acceptSnapshot({ last_event_id: 5, epoch: "aaaa" });
            b.acceptBatch([6, 7, 8, 9, 10].map(ev), "websocket");
            const before = b.lastId;
            const quiet = b.batch(10, b.status);
            b.acceptSnapshot({ last_event_id: 7, epoch: "bbbb" }, 10);
            const after = b.lastId;
            b.acceptBatch([8, 9].map(ev), "websocket");
            const handed = b.batch(10, b.status);
            const again = b.batch(9, b.status);
            return {
                before, quiet, after, last: b.lastId, epoch: b.epoch,
                snapshot: handed && handed.snapshot && handed.snapshot.epoch,
                ids: handed ? handed.events.map((e) => e.id) : null,
                again: again,
            };
        }"""
    )
    assert result["before"] == 10 and result["quiet"] is None
    assert result["after"] == 7 and result["last"] == 9 and result["epoch"] == "bbbb"
    assert result["snapshot"] == "bbbb" and result["ids"] == [8, 9]
    assert result["again"] is None  # handed over once


def test_a_snapshot_behind_the_id_we_resumed_from_resets_but_a_racing_one_does_not(page: Page) -> None:
    """Same epoch: a snapshot answering "you are ahead" (behind the id we asked after) moves the id down; a
    long-poll snapshot that merely raced newer live events keeps them."""
    result = page.evaluate(
        """() => {
            const b = window.parlorBridge;
            const ev = (id) => ({ id, type: "clue_posted", ts: Date.now() / 1000, data: {} });
            b.acceptSnapshot({ last_event_id: 5, epoch: "aaaa" });
            b.acceptBatch([6, 7, 8].map(ev), "websocket");
            b.acceptSnapshot({ last_event_id: 6, epoch: "aaaa" }, 6);  // raced: asked after 6, got 6
            const raced = b.lastId;
            b.acceptSnapshot({ last_event_id: 4, epoch: "aaaa" }, 8);  // the log is behind us: resync
            return [raced, b.lastId, b.events.length];
        }"""
    )
    assert result == [8, 4, 0]

"""The clue box never vanishes: hundreds of clues sent through the real UI (over the socket, as command frames)
while the page reruns around them.

Issue 12 saw the clue form disappear 3 times in ~650 submits (a Streamlit form whose submit reran the app while
the live fragment reran too). The box is now the live view's own form, re-inserted into its placeholder whenever
Streamlit re-mounts it, and a submit runs no Streamlit script at all. This loop sends SUBMITS clues from Alice's
page (type, Enter) while spectators join, each join a full rerun of every page in the middle of the loop; at a
1-in-200 failure rate SUBMITS=400 misses it with probability e^-2.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from prometheus_client.parser import text_string_to_metric_families

from launchers.backend import run_backend
from launchers.process import free_port
from launchers.streamlit import frontend_origins, run_streamlit
from tests.conftest import scaled
from tests.frontend.player import seat_two_and_a_bot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SUBMITS = 400
JOIN_EVERY = 50  # a spectator joins (a layout change: every page reruns) this often


def test_hundreds_of_clues_through_the_ui_and_the_box_stays(browser: Browser, tmp_path: Path) -> None:
    """Each clue is sent by the box, shown once to both players, the box is there for the next one; refusals show."""
    port = free_port()
    env = {"ALLOWED_ORIGINS": frontend_origins(port), "MAX_CLUES_PER_ROUND": str(SUBMITS + 10)}
    with (
        run_backend(env=env, tmp=tmp_path) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp_path) as frontend,
        httpx.Client(base_url=backend.url, timeout=30) as http,
    ):
        alice, bob = seat_two_and_a_bot(browser, frontend.url)
        token = alice.token
        resp = http.patch(
            f"/api/rooms/{alice.code}/settings",
            json={"discussion_seconds": 600},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200, resp.text
        alice.click("Start game")
        for player in (alice, bob):
            expect(player.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
        box = alice.page.get_by_label("Your clue")
        sent = []
        for n in range(SUBMITS):
            if n and n % JOIN_EVERY == 0:
                http.post(f"/api/rooms/{alice.code}/players", json={"name": f"Watcher {n // JOIN_EVERY}"})
            sent.append(f"clue number {n}")
            box.fill(sent[-1])
            box.press("Enter")
            # accepted: the box empties only on success (and a box that vanished fails the next fill)
            expect(box).to_have_value("", timeout=scaled(10) * 1000)
        players = alice.page.locator("[data-parlor-live='players']")
        expect(players).to_contain_text("Watcher 7", timeout=scaled(10) * 1000)
        for player in (alice, bob):
            player.expect_text(sent[-1], timeout_s=10)
            mine = [text for name, text in player.clues() if name == "Alice"]
            assert mine == sent, player.name
        expect(alice.page.get_by_role("button", name="I'm ready to vote")).to_be_visible()
        # a refusal (422: the clue holds your word) is shown under the box, and the text stays to be edited
        word = alice.page.get_by_test_id("word").inner_text()
        box.fill(f"it is {word}")
        box.press("Enter")
        expect(alice.page.get_by_test_id("clue-error")).to_have_text("Your clue must not contain your own word.")
        expect(box).to_have_value(f"it is {word}")
        box.fill("bell\u0007")  # a pasted control character: the game's reason, not "not valid"
        box.press("Enter")
        expect(alice.page.get_by_test_id("clue-error")).to_have_text("Clue must not contain control characters.")
        # the page was on the socket all along, so every clue went as a command frame, none as a REST request
        metrics = http.get("/metrics").text
        assert sample(metrics, "parlor_ws_frames_received_total", type="command") >= SUBMITS + 2
        assert sample(metrics, "parlor_http_requests_total", handler="/api/rooms/{code}/clues") == 0
        alice.page.context.close()
        bob.page.context.close()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (prometheus_client's own parser)."""
    return sum(
        s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )

"""The rollout flag switched off and on under two live browsers: the 4403 close, long-poll, and the way back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, WebSocket, expect

from backend.flags import write_flag_file
from launchers.backend import run_backend
from launchers.process import free_port
from launchers.streamlit import frontend_origins, run_streamlit
from tests.conftest import scaled
from tests.frontend.player import STATUS_CONNECTED, STATUS_POLLING, Player, rest_clue, seat_two_and_a_bot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _count_bridge_sockets(player: Player) -> list[str]:
    """Record every WebSocket the page opens to the backend's /ws/ route (Streamlit's own socket is ignored)."""
    opened: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        if "/ws/" in ws.url:
            opened.append(ws.url)

    player.page.on("websocket", on_socket)
    return opened


def _human_clues(player: Player) -> list[str]:
    return [text for name, text in player.clues() if not name.startswith("Bot ")]


def test_flag_switched_off_moves_players_to_long_poll_and_back(browser: Browser, tmp_path: Path) -> None:
    """Flag off: 4403, Polling, no socket retries, clues by long-poll; flag on: Connected; every clue exactly once."""
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=100)
    port = free_port()
    env = {"ALLOWED_ORIGINS": frontend_origins(port), "FLAGS_FILE": str(flags), "MAX_CLUES_PER_ROUND": "100"}
    with run_backend(env=env, tmp=tmp_path) as backend, run_streamlit(backend.url, port=port, tmp=tmp_path) as frontend:
        alice, bob = seat_two_and_a_bot(browser, frontend.url)
        code = alice.code
        settings = {"discussion_seconds": 600, "voting_seconds": 300}
        auth = {"Authorization": f"Bearer {alice.token}"}
        assert httpx.patch(f"{backend.url}/api/rooms/{code}/settings", json=settings, headers=auth).status_code == 200
        alice.click("Start game")
        for player in (alice, bob):
            expect(player.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
            player.expect_status(STATUS_CONNECTED)
        sockets = {p.name: _count_bridge_sockets(p) for p in (alice, bob)}
        sent = ["before the flip"]
        alice.post_clue(sent[-1])
        bob.expect_text(sent[-1])

        write_flag_file(flags, enabled=False, percent=100)
        for player in (alice, bob):
            player.expect_status(STATUS_POLLING, timeout_s=15)
            assert player.bridge("transport") == "longpoll"
            # the detail the 4403 close sets (the config_changed frame before it says "moved you")
            expect(player.page.locator(".parlor-status-detail")).to_have_text("WebSocket is not enabled for you.")
        sent.append("bob while polling")
        bob.post_clue(sent[-1])
        alice.expect_text(sent[-1], timeout_s=10)
        sent.append("alice while polling")
        alice.post_clue(sent[-1])
        bob.expect_text(sent[-1], timeout_s=10)
        alice.page.wait_for_timeout(scaled(3) * 1000)  # long enough for a retry loop to show itself
        assert sockets == {"Alice": [], "Bob": []}, "the bridge retried the socket while the flag was off"
        for player in (alice, bob):
            player.expect_status(STATUS_POLLING, timeout_s=1)

        write_flag_file(flags, enabled=True, percent=100)
        nudges = 0
        while nudges < 15 and not all(
            p.page.locator(".parlor-status-text").inner_text() == STATUS_CONNECTED for p in (alice, bob)
        ):
            # a held long-poll answers on the next event, and its answer carries `transport: websocket`
            nudges += 1
            sent.append(f"nudge {nudges}")
            rest_clue(backend.url, code, bob.token, sent[-1])
            alice.page.wait_for_timeout(1000)
        for player in (alice, bob):
            player.expect_status(STATUS_CONNECTED, timeout_s=20)
        sent.append("after the way back")
        bob.post_clue(sent[-1])
        alice.expect_text(sent[-1])
        for player in (alice, bob):
            expect(player.page.get_by_text(sent[-1]).first).to_be_visible()
            assert _human_clues(player) == sent
            ids = player.bridge("events.map(e => e.id)")
            assert ids == sorted(set(ids))
            assert len(sockets[player.name]) <= 2, sockets
        alice.page.context.close()
        bob.page.context.close()

"""The rollout flag on a running backend: cohort refusal, live flips without lost or doubled events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from backend.flags import write_flag_file
from backend.realtime.protocol import CloseCode
from launchers.backend import run_backend
from tests.conftest import scaled
from tests.support.client import Seat, WsPlayer, act, create_room, join_room


async def wait_transport(http: httpx.AsyncClient, seat: Seat, want: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if (await act(http, seat, "state", method="GET")).json()["transport"] == want:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise TimeoutError(f"transport did not become {want} within {timeout} s")


async def test_out_of_cohort_socket_gets_4403_and_flag_changes_apply_within_2s(tmp_path: Path) -> None:
    """At 0 % the seat says polling and the socket closes 4403; at 100 % the running backend says websocket in < 2 s."""
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=0)
    with run_backend({"FLAGS_FILE": str(flags)}, tmp=tmp_path) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            alice = await create_room(http, "Alice")
            assert alice.transport == "polling"
            player = WsPlayer(backend.ws_url, alice)
            await player.connect(None, wait_welcome=False)
            assert await player.wait_closed(scaled(5)) == CloseCode.NOT_IN_COHORT
            write_flag_file(flags, enabled=True, percent=100)
            assert await wait_transport(http, alice, "websocket", scaled(2.0)) < scaled(2.0)
            welcome = await player.connect(None)
            assert welcome["data"]["transport"] == "websocket"
            await player.close()


async def test_live_flip_moves_a_connected_client_to_polling_and_back_losing_nothing(tmp_path: Path) -> None:
    """Disable: config_changed + 4403, long-poll from the last id; enable: socket again; the feed equals the log."""
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=100)
    with run_backend({"FLAGS_FILE": str(flags)}, tmp=tmp_path) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=40) as http:
            alice = await create_room(http, "Alice")
            bob = await join_room(http, alice.room_code, "Bob")
            await act(http, alice, "bots")
            await act(http, alice, "settings", {"discussion_seconds": 600}, method="PATCH")
            await act(http, alice, "start")
            ws_bob = WsPlayer(backend.ws_url, bob)
            await ws_bob.connect(0)
            received: list[dict] = []
            clue = 0

            async def alice_posts(n: int) -> None:
                nonlocal clue
                for _ in range(n):
                    clue += 1
                    assert (await act(http, alice, "clues", {"text": f"clue {clue}"})).status_code == 200

            await alice_posts(2)
            await ws_bob.wait_for(lambda f: f["type"] == "clue_posted" and f["data"]["text"] == "clue 2")
            write_flag_file(flags, enabled=False, percent=100)
            changed = await ws_bob.wait_for(lambda f: f["type"] == "config_changed", timeout=scaled(3))
            assert changed["data"]["transport"] == "polling"
            assert await ws_bob.wait_closed(scaled(5)) == CloseCode.NOT_IN_COHORT
            received += ws_bob.events()
            last = received[-1]["id"]

            # on polling now: long-poll from the last id while Alice keeps playing
            poster = asyncio.create_task(alice_posts(3))
            flipped_back = False
            transport = "polling"
            while transport == "polling":
                body = (await act(http, bob, f"events?after={last}&wait=1", method="GET")).json()
                assert body["recovered"] is True
                received += body["events"]
                last = body["last_event_id"] if body["events"] else last
                if poster.done() and not flipped_back:
                    await poster
                    write_flag_file(flags, enabled=True, percent=100)
                    flipped_back = True
                transport = body["transport"]

            # moved back in: the socket again, resuming from the last id
            ws_back = WsPlayer(backend.ws_url, bob)
            welcome = await ws_back.connect(last)
            assert welcome["data"]["recovered"] is True
            await alice_posts(2)
            await ws_back.wait_for(lambda f: f["type"] == "clue_posted" and f["data"]["text"] == "clue 7")
            received += ws_back.events()
            log = (await act(http, bob, "events?after=0", method="GET")).json()["events"]
            assert [f["id"] for f in received] == [e["id"] for e in log], "no event lost or doubled"
            mine = alice.player_id
            texts = [
                f["data"]["text"] for f in received if f["type"] == "clue_posted" and f["data"]["player_id"] == mine
            ]
            assert texts == [f"clue {i}" for i in range(1, 8)]
            await ws_back.close()

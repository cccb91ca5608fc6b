"""A whole game against a real uvicorn with real WebSocket clients."""

from __future__ import annotations

import asyncio

import httpx

from backend.game.events import PUBLIC_TYPES
from launchers.backend import Backend
from tests.support.client import WsPlayer, act, create_room, join_room

PUBLIC = set(PUBLIC_TYPES)


async def play_to_game_over(http: httpx.AsyncClient, players: list[WsPlayer], timeout: float = 60) -> dict:
    """Drive the humans through rounds (clue, ready, vote) until a game_over frame arrives."""
    host = players[0]
    deadline = asyncio.get_running_loop().time() + timeout
    seen_phase = 0
    while asyncio.get_running_loop().time() < deadline:
        frame = await host.wait_for(lambda f: f["type"] in ("phase_changed", "game_over"), since=seen_phase)
        seen_phase = host.frames.index(frame) + 1
        if frame["type"] == "game_over":
            return frame
        phase = frame["data"]["phase"]
        snap = (await act(http, host.seat, "state", method="GET")).json()
        alive = [p["id"] for p in snap["players"] if p["alive"]]
        for n, p in enumerate(players):
            if p.seat.player_id not in alive:
                continue
            if phase == "discussion":
                r = await act(http, p.seat, "clues", {"text": f"my clue number {n} {frame['data']['round']}"})
                assert r.status_code in (200, 409), r.text
                await act(http, p.seat, "ready")
            elif phase == "voting":
                target = next(a for a in alive if a != p.seat.player_id)
                r = await act(http, p.seat, "votes", {"target_id": target})
                assert r.status_code in (200, 409), r.text
    raise TimeoutError("game did not finish")


async def test_full_game_two_humans_two_bots_same_order(backend: Backend) -> None:
    """Create, join, add 2 bots, start, play to game over; both clients see the same public events in order."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        alice = await create_room(http, "Alice")
        bob = await join_room(http, alice.room_code, "Bob")
        pa, pb = WsPlayer(backend.ws_url, alice), WsPlayer(backend.ws_url, bob)
        welcome = await pa.connect(last_event_id=0)
        assert welcome["data"]["recovered"] is True
        await pb.connect(last_event_id=0)
        for _ in range(2):
            assert (await act(http, alice, "bots")).status_code == 201
        r = await act(http, alice, "settings", {"discussion_seconds": 10, "voting_seconds": 5}, method="PATCH")
        assert r.status_code == 200, r.text
        assert (await act(http, alice, "start")).status_code == 200
        over = await play_to_game_over(http, [pa, pb])
        assert over["data"]["winner"] in ("civilians", "undercover")
        assert set(over["data"]["words"]) == {"civilian", "undercover"}
        assert len(over["data"]["roles"]) == 4
        await pb.wait_for(lambda f: f["type"] == "game_over")
        await asyncio.sleep(0.2)
        seq_a = [(f["id"], f["type"]) for f in pa.events() if f["type"] in PUBLIC]
        seq_b = [(f["id"], f["type"]) for f in pb.events() if f["type"] in PUBLIC]
        assert seq_a == seq_b
        ids = [f["id"] for f in pa.events()]
        assert ids == sorted(set(ids)), "event ids strictly increase, no duplicates"
        words_a = [f for f in pa.frames if f["type"] == "your_word"]
        assert len(words_a) == 1 and not [f for f in pb.frames if f["type"] == "your_word" and f in words_a]
        await pa.close()
        await pb.close()

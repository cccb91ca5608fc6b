"""Never lose an event: resume, snapshot fallback, long-polling, origin check and restart, on real uvicorn."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.frames import Frame, Opcode

from backend.core.config import Settings
from backend.realtime.protocol import CloseCode
from launchers.backend import Backend, run_backend
from tests.conftest import scaled
from tests.support.client import Seat, WsPlayer, act, create_room, join_room


async def seated(http: httpx.AsyncClient, backend: Backend, bots: int = 1) -> tuple[WsPlayer, WsPlayer]:
    alice = await create_room(http, "Alice")
    bob = await join_room(http, alice.room_code, "Bob")
    for _ in range(bots):
        await act(http, alice, "bots")
    pa, pb = WsPlayer(backend.ws_url, alice), WsPlayer(backend.ws_url, bob)
    await pa.connect(0)
    await pb.connect(0)
    return pa, pb


async def test_reconnect_with_last_id_gets_exactly_the_missed_events(backend: Backend) -> None:
    """A client that drops mid-game and resumes with its last id ends with the same log as the room: no gap, no dup."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        pa, pb = await seated(http, backend)
        await act(http, pa.seat, "settings", {"discussion_seconds": 600}, method="PATCH")
        await act(http, pa.seat, "start")
        await pb.wait_for(lambda f: f["type"] == "phase_changed")
        await pb.close()
        last = pb.last_event_id
        assert last is not None
        for i in range(5):  # moves made while Bob is away
            assert (await act(http, pa.seat, "clues", {"text": f"missed clue {i}"})).status_code == 200
        welcome = await pb.connect(last)
        assert welcome["data"]["recovered"] is True
        await act(http, pa.seat, "clues", {"text": "after the return"})
        await pb.wait_for(lambda f: f["type"] == "clue_posted" and f["data"]["text"] == "after the return")
        room_log = (await act(http, pb.seat, "events?after=0", method="GET")).json()["events"]
        got = [f["id"] for f in pb.events()]
        assert got == [e["id"] for e in room_log], "same ids, same order, nothing missing or doubled"
        texts = [f["data"]["text"] for f in pb.frames if f["type"] == "clue_posted"]
        assert texts == [f"missed clue {i}" for i in range(5)] + ["after the return"]
        await pa.close()
        await pb.close()


async def test_client_beyond_the_log_gets_recovered_false_and_a_snapshot(tmp_path: Path) -> None:
    """When the log no longer reaches back to the client's id: recovered false plus a correct snapshot."""
    with run_backend({"EVENT_LOG_SIZE": "10"}, tmp=tmp_path) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            pa, pb = await seated(http, backend, bots=0)
            await act(http, pa.seat, "settings", {"discussion_seconds": 600}, method="PATCH")
            await pb.close()
            await act(http, pa.seat, "bots")
            await act(http, pa.seat, "start")
            for i in range(8):
                assert (await act(http, pa.seat, "clues", {"text": f"clue {i}"})).status_code == 200
            welcome = await pb.connect(1)
            assert welcome["data"]["recovered"] is False
            snap = await pb.wait_for(lambda f: f["type"] == "snapshot")
            await pb.wait_for(lambda f: f["type"] == "presence_changed" and f["data"]["player_id"] == pb.seat.player_id)
            state = (await act(http, pb.seat, "state", method="GET")).json()
            start = snap["data"]["last_event_id"]
            after_snap = pb.frames[pb.frames.index(snap) + 1 :]
            live = [f["id"] for f in after_snap if f.get("id") is not None]
            assert live == list(range(start + 1, state["last_event_id"] + 1)), "snapshot, then every later event"
            mine = [c["text"] for c in snap["data"]["clues"] if c["player_id"] == pa.seat.player_id]
            assert mine == [f"clue {i}" for i in range(8)]
            assert snap["data"]["you"]["word"] == state["you"]["word"] is not None
            body = (await act(http, pb.seat, "events?after=1", method="GET")).json()
            assert body["recovered"] is False and body["snapshot"]["last_event_id"] == state["last_event_id"]
            await pa.close()
            await pb.close()


async def test_long_poll_returns_within_100ms_of_an_event(backend: Backend) -> None:
    """A held GET /events?wait= returns as soon as an event is committed (well under 100 ms)."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=40) as http:
        alice = await create_room(http, "Alice")
        bob = await join_room(http, alice.room_code, "Bob")
        last = (await act(http, bob, "events?after=0", method="GET")).json()["last_event_id"]
        samples = []
        for _i in range(5):
            poll = asyncio.create_task(act(http, bob, f"events?after={last}&wait=25", method="GET"))
            await asyncio.sleep(0.3)
            assert not poll.done(), "the request is held while nothing happens"
            sent = time.time()
            await act(http, alice, "bots")
            body = (await poll).json()
            samples.append(time.time() - sent)
            assert body["events"] and body["events"][0]["type"] == "player_joined"
            last = body["last_event_id"]
            await act(http, alice, f"players/{body['events'][0]['data']['player']['id']}", method="DELETE")
            last = (await act(http, bob, f"events?after={last}", method="GET")).json()["last_event_id"]
        assert sorted(samples)[len(samples) // 2] < scaled(0.1), samples


async def test_long_poll_times_out_empty(backend: Backend) -> None:
    """With nothing happening, a long-poll returns an empty list after its wait."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        alice = await create_room(http, "Alice")
        last = (await act(http, alice, "events?after=0", method="GET")).json()["last_event_id"]
        body = (await act(http, alice, f"events?after={last}&wait=0.5", method="GET")).json()
        assert body == {**body, "events": [], "recovered": True, "last_event_id": last}


async def test_foreign_origin_gets_403_at_the_handshake(backend: Backend) -> None:
    """Only a foreign Origin is refused at the HTTP handshake (403); no Origin is allowed."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        alice = await create_room(http, "Alice")
    with pytest.raises(websockets.InvalidStatus) as exc:
        await websockets.connect(f"{backend.ws_url}/ws/{alice.room_code}", origin="https://evil.example")
    assert exc.value.response.status_code == 403
    ok = await websockets.connect(f"{backend.ws_url}/ws/{alice.room_code}", origin="http://localhost:8501")
    await ok.send(
        json.dumps({"type": "hello", "player_id": alice.player_id, "token": alice.token, "last_event_id": None})
    )
    assert json.loads(await ok.recv())["type"] == "welcome"
    await ok.close()


async def test_sigterm_closes_sockets_with_1012(tmp_path: Path) -> None:
    """On SIGTERM the server closes every socket with 1012 (reconnect) and exits."""
    with run_backend(tmp=tmp_path) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            alice = await create_room(http, "Alice")
        player = WsPlayer(backend.ws_url, alice)
        await player.connect(None)
        backend.process.send_signal(signal.SIGTERM)
        assert await player.wait_closed(timeout=scaled(15)) == CloseCode.RESTART
        backend.process.wait(scaled(15))


async def test_silent_socket_is_closed_after_heartbeat_timeout(tmp_path: Path) -> None:
    """A socket that sends nothing for HEARTBEAT_TIMEOUT_SECONDS is closed with 1001; a pinging one stays."""
    with run_backend({"HEARTBEAT_TIMEOUT_SECONDS": "1.5"}, tmp=tmp_path) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            alice = await create_room(http, "Alice")
            bob = await join_room(http, alice.room_code, "Bob")
        silent, chatty = WsPlayer(backend.ws_url, alice), WsPlayer(backend.ws_url, bob)
        await silent.connect(None)
        await chatty.connect(None)
        for _ in range(8):
            await chatty.conn.send(json.dumps({"type": "ping", "t": time.time()}))
            await asyncio.sleep(0.5)
        assert await silent.wait_closed(timeout=scaled(5)) == CloseCode.GOING_AWAY
        assert chatty.close_code is None
        await chatty.close()


def _half_open_socket(backend: Backend, seat: Seat) -> socket.socket:
    """A raw TCP WebSocket client that says hello and then goes silent: it neither reads nor writes again and
    never closes (no FIN, no RST), as a phone does when its network vanishes."""
    sock = socket.create_connection(("127.0.0.1", backend.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/{seat.room_code} HTTP/1.1\r\nHost: 127.0.0.1:{backend.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    hello = {"type": "hello", "player_id": seat.player_id, "token": seat.token, "last_event_id": None}
    sock.sendall(Frame(Opcode.TEXT, json.dumps(hello).encode()).serialize(mask=True))
    return sock


async def test_a_half_open_client_is_cut_within_the_heartbeat_timeout(tmp_path: Path) -> None:
    """A client gone silent without FIN or RST is cut by the server after HEARTBEAT_TIMEOUT_SECONDS (checked each
    second): its seat goes offline for the others, although the peer never answers the close. The default cuts
    one within about 31 s yet outlasts the 20 s pings of pages from an older frontend and the 25 s of load clients
    (the page itself notices a dead link within 8 s: PING_INTERVAL_SECONDS + PONG_TIMEOUT_SECONDS)."""
    defaults = Settings()
    assert defaults.heartbeat_timeout_seconds > 25.0 and defaults.heartbeat_timeout_seconds + 1.0 <= 31.0
    assert defaults.ping_interval_seconds + defaults.pong_timeout_seconds <= 10.0
    timeout = 2.0
    with run_backend(
        {"HEARTBEAT_TIMEOUT_SECONDS": str(timeout), "PRESENCE_TIMEOUT_SECONDS": "1"}, tmp=tmp_path
    ) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            alice = await create_room(http, "Alice")
            bob = await join_room(http, alice.room_code, "Bob")
        watcher = WsPlayer(backend.ws_url, alice)
        await watcher.connect(None)
        silent = _half_open_socket(backend, bob)
        try:
            online = await watcher.wait_for(
                lambda f: f["type"] == "presence_changed" and f["data"] == {"player_id": bob.player_id, "online": True}
            )
            pinger = asyncio.create_task(_ping_forever(watcher))
            offline = await watcher.wait_for(
                lambda f: (
                    f["type"] == "presence_changed" and f["data"] == {"player_id": bob.player_id, "online": False}
                ),
                timeout=scaled(timeout + 8),
            )
            pinger.cancel()
            cut_after = offline["_rx"] - online["_rx"]
            print(f"half-open client cut after {cut_after:.2f} s (HEARTBEAT_TIMEOUT_SECONDS={timeout})")
            assert timeout <= cut_after <= scaled(timeout + 3)
            assert watcher.close_code is None  # the pinging socket stays
        finally:
            silent.close()
            await watcher.close()


async def _ping_forever(player: WsPlayer) -> None:
    while True:
        await player.conn.send(json.dumps({"type": "ping", "t": time.time() * 1000}))
        await asyncio.sleep(0.5)

"""The direct write path: live frames, acks and pongs reach sockets served by uvicorn's sans-I/O protocol without
the writer task, byte for byte what websockets would send; other implementations keep the queue path."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from prometheus_client import CollectorRegistry
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

from backend.main import create_app
from backend.realtime.direct import text_frame
from launchers.process import free_port
from tests.backend.api.conftest import make_settings


def test_text_frame_is_what_the_websockets_server_side_writes() -> None:
    """One pre-built frame equals the bytes websockets' own server protocol serialises for the same text."""
    text = json.dumps({"type": "event", "data": {"text": "é" * 200}})
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=ServerProtocol().extensions)
    assert text_frame(text) == expected


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, ws: str) -> AsyncIterator[tuple[str, object]]:
    app = create_app(make_settings(tmp_path), registry=CollectorRegistry())
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=ws, ws_per_message_deflate=False, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task


async def next_of(sock: websockets.ClientConnection, frame_type: str) -> dict[str, object]:
    while True:
        msg = json.loads(await asyncio.wait_for(sock.recv(), 5))
        if msg["type"] == frame_type or msg.get("data", {}).get("type") == frame_type:
            return dict(msg)


@pytest.mark.parametrize(("ws", "direct"), [("websockets-sansio", True), ("wsproto", False)])
async def test_live_events_reach_every_socket_by_the_path_the_server_allows(
    tmp_path: Path, ws: str, direct: bool
) -> None:
    """Under uvicorn's sans-I/O protocol connections get the direct writer, elsewhere the queue; both deliver."""
    async with serving(tmp_path, ws) as (host, app), httpx.AsyncClient(base_url=f"http://{host}") as http:
        seats = [(await http.post("/api/rooms", json={"name": "Host"})).json()]
        code = seats[0]["room_code"]
        for n in range(2):
            seats.append((await http.post(f"/api/rooms/{code}/players", json={"name": f"P{n}"})).json())
        socks = []
        for s in seats:
            sock = await websockets.connect(f"ws://{host}/ws/{code}", compression=None)
            hello = {"type": "hello", "player_id": s["player_id"], "token": s["token"], "last_event_id": None}
            await sock.send(json.dumps(hello))
            await next_of(sock, "welcome")
            socks.append(sock)
        hub = app.state.service.hub  # type: ignore[attr-defined]
        assert [c.direct is not None for c in hub.connections(code)] == [direct] * 3
        await asyncio.sleep(0.2)  # writers settle on their empty queues
        for n in range(3):
            await http.post(f"/api/rooms/{code}/players", json={"name": f"Late{n}"})
        for sock in socks:
            joined = [await next_of(sock, "player_joined") for _ in range(3)]
            assert [json.dumps(f["data"]).count(f"Late{n}") for n, f in enumerate(joined)] == [1, 1, 1]
        # the game's start deals each player a private word: the next public frame is written per player, each
        # naming that player's own word as the event before it
        await http.post(f"/api/rooms/{code}/start", headers={"Authorization": f"Bearer {seats[0]['token']}"})
        for sock in socks:
            word = await next_of(sock, "your_word")
            after = await next_of(sock, "phase_changed")
            assert after["prev"] == word["id"] and word["prev"] < word["id"] < after["id"]
        # the replies to a player's own frames (pong, the move's ack) follow what the socket was already sent
        host = socks[0]
        await host.send(json.dumps({"type": "ping", "t": 5}))
        assert (await next_of(host, "pong"))["data"] == {"t": 5}
        await host.send(json.dumps({"type": "command", "id": "c1", "name": "clue", "data": {"text": "zqxv"}}))
        clue = await next_of(host, "clue_posted")
        ack = json.loads(await asyncio.wait_for(host.recv(), 5))
        assert ack["type"] == "ack" and ack["data"] == {"command": "c1", "last_event_id": clue["id"]}
        for sock in socks:
            if sock is not host:
                assert (await next_of(sock, "clue_posted"))["id"] == clue["id"]
            await sock.close()

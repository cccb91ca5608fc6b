"""Protocol-level players for loadtest/browser_load.py: the load of a page, without a browser to render it.

When the machine cannot hold every player as a Chromium page, the rest are light clients (a mixed load, as k6's
browser module recommends: a few real browsers measure, many light clients load). Each one holds what a seated
page holds on the servers:
- a real Streamlit session: Streamlit's own WebSocket (`/_stcore/stream`, through nginx with an affinity cookie,
  protobuf `BackMsg`s as the page sends them) that asks for a run of the page script with the room link's query
  and then stays connected, as an open tab does (its script run waits on the seat probe no browser answers);
- a real seat in the room: joined over REST, and the bridge's backend socket (`/ws/{code}`: hello, pings every
  20 s), on which it timestamps every clue when it arrives (push-to-client, no rendering).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg

PING_SECONDS = 20.0


@dataclass
class LightPlayer:
    room: str
    name: str
    seen: dict[str, float] = field(default_factory=dict)  # clue text -> epoch ms when its frame arrived
    most: dict[str, int] = field(default_factory=dict)  # clue text -> how many frames carried it
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    sockets: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                await ws.close()


async def _drain(ws: Any) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for _ in ws:
            pass


async def _listen(ws: Any, player: LightPlayer) -> None:
    async def ping() -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await ws.send(json.dumps({"type": "ping", "t": time.time()}))

    pinger = asyncio.create_task(ping())
    try:
        async for raw in ws:
            now = time.time() * 1000
            frame = json.loads(raw)
            if frame.get("type") == "clue_posted":
                text = str(frame["data"]["text"])
                player.seen.setdefault(text, now)
                player.most[text] = player.most.get(text, 0) + 1
    except websockets.ConnectionClosed:
        pass
    finally:
        pinger.cancel()


async def join(
    http: httpx.AsyncClient, frontend_url: str, backend_url: str, room: str, name: str, cookie: str | None
) -> LightPlayer:
    """Seat one light player in `room` and open both of its sockets (Streamlit's and the backend's)."""
    player = LightPlayer(room, name)
    resp = await http.post(f"/api/rooms/{room}/players", json={"name": name})
    resp.raise_for_status()
    seat = resp.json()

    headers = {"Cookie": f"parlor_frontend={cookie}"} if cookie else None
    stream = await websockets.connect(
        frontend_url.replace("http", "ws", 1) + "/_stcore/stream",
        subprotocols=[websockets.Subprotocol("streamlit")],
        additional_headers=headers,
        max_size=None,
    )
    hello = BackMsg()
    hello.rerun_script.query_string = f"room={room}"
    hello.rerun_script.page_script_hash = ""
    await stream.send(hello.SerializeToString())
    player.sockets.append(stream)
    player.tasks.append(asyncio.create_task(_drain(stream)))

    ws = await websockets.connect(backend_url.replace("http", "ws", 1) + f"/ws/{room}", max_size=None)
    hello_frame = {"type": "hello", "player_id": seat["player_id"], "token": seat["token"], "last_event_id": None}
    await ws.send(json.dumps({**hello_frame, "epoch": None}))
    player.sockets.append(ws)
    player.tasks.append(asyncio.create_task(_listen(ws, player)))
    return player

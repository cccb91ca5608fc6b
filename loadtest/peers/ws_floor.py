"""The floor: the same room fan-out on the `websockets` library alone, nothing else in the path.

Subscribers connect to /room/{code}, send any first frame (the hello) and get a `welcome`. A subscriber that sends
`{"room","id","player_id","name","text"}` publishes: the room's sockets (the sender's too) get one `clue_posted`
frame, shaped and sized like Parlor's (`{"id","type","ts","data"}`), and the sender an `ack` naming `id`, as
Parlor answers a `command` frame. Frames sent on /publish are broadcast the same way, without an ack.

    python -m loadtest.peers.ws_floor --port 8100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

from loadtest.serve import raise_nofile

ROOMS: dict[str, set[ServerConnection]] = {}
SEQ = itertools.count(1)


def frame(msg: dict[str, Any]) -> str:
    now = time.time()
    data = {"round": 1, "player_id": msg["player_id"], "name": msg["name"], "text": msg["text"], "ts": now}
    return json.dumps({"id": next(SEQ), "type": "clue_posted", "ts": now, "data": data}, separators=(",", ":"))


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/"
    if path == "/publish":
        async for raw in ws:
            msg = json.loads(raw)
            broadcast(ROOMS.get(msg["room"], set()), frame(msg))
        return
    code = path.rsplit("/", 1)[-1]
    await ws.recv()  # the hello
    room = ROOMS.setdefault(code, set())
    room.add(ws)
    try:
        await ws.send(json.dumps({"id": None, "type": "welcome", "ts": time.time(), "data": {}}))
        async for raw in ws:
            msg = json.loads(raw)
            broadcast(ROOMS.get(msg["room"], set()), frame(msg))
            ack = {"id": None, "type": "ack", "ts": time.time(), "data": {"command": msg["id"]}}
            await ws.send(json.dumps(ack, separators=(",", ":")))
    except websockets.ConnectionClosed:
        pass
    finally:
        room.discard(ws)


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/healthz":
        return connection.respond(200, "ok\n")
    return None


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, process_request=health, max_size=16384, backlog=8192, compression=None
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    raise_nofile()
    asyncio.run(main(parser.parse_args().port))

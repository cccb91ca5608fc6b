"""A peer: the same room fan-out on python-socketio (ASGI) under uvicorn, run like Parlor.

Subscribers join a room with a `join` event and get a `welcome`. A `publish` event
(`{"room","id","player_id","name","text"}`, sent by a member as Parlor's players send a `command` frame) emits one
`clue_posted` event, shaped and sized like Parlor's frame, to the room, the sender included, and acks with
`{"command": id}`. `POST /publish/{code}` (JSON `{"player_id","name","text"}`, a REST ingest like Parlor's clue
route) emits the same event.

    python -m loadtest.serve --app loadtest.peers.socketio_peer:app --port 8200
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[])
SEQ = itertools.count(1)


@sio.event
async def join(sid: str, data: dict[str, Any]) -> None:
    await sio.enter_room(sid, data["room"])
    await sio.emit("event", {"id": None, "type": "welcome", "ts": time.time(), "data": {}}, to=sid)


async def _emit_clue(room: str, msg: dict[str, Any]) -> None:
    now = time.time()
    data = {"round": 1, "player_id": msg["player_id"], "name": msg["name"], "text": msg["text"], "ts": now}
    await sio.emit("event", {"id": next(SEQ), "type": "clue_posted", "ts": now, "data": data}, room=room)


@sio.event
async def publish(sid: str, msg: dict[str, Any]) -> dict[str, Any]:
    await _emit_clue(msg["room"], msg)
    return {"command": msg["id"]}


async def _reply(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/healthz":
        await _reply(send, 200, b"ok\n")
        return
    if scope["method"] != "POST" or not path.startswith("/publish/"):
        await _reply(send, 404, b"not found\n")
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await _emit_clue(path[9:], json.loads(body))
    await _reply(send, 200, b'{"ok":true}')


app = socketio.ASGIApp(sio, other_asgi_app=http_app)

"""A peer: the same room fan-out on python-socketio (ASGI) under uvicorn, run like Parlor.

Subscribers join a room with a `join` event and get a `welcome`; `POST /publish/{code}` (JSON
`{"player_id","name","text"}`, the same REST ingest as Parlor's clues) emits one `clue_posted` event, shaped and
sized like Parlor's frame, to the room.

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
    msg = json.loads(body)
    now = time.time()
    data = {"round": 1, "player_id": msg["player_id"], "name": msg["name"], "text": msg["text"], "ts": now}
    await sio.emit("event", {"id": next(SEQ), "type": "clue_posted", "ts": now, "data": data}, room=path[9:])
    await _reply(send, 200, b'{"ok":true}')


app = socketio.ASGIApp(sio, other_asgi_app=http_app)

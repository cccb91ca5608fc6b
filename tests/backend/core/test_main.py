"""`python -m backend`: uvicorn's own WebSocket pings only when the app's heartbeat does not find dead sockets,
and the HTTP protocol's head deadline lets go of a connection upgraded to a WebSocket."""

from __future__ import annotations

import asyncio
import gc

import uvicorn
import websockets
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.__main__ import header_deadline, ws_ping_interval
from backend.core.config import Settings
from launchers.process import free_port


def test_uvicorn_pings_are_off_while_the_app_heartbeat_is_on_and_back_when_it_is_off() -> None:
    """With HEARTBEAT_TIMEOUT_SECONDS > 0 the app closes silent sockets itself; at 0 uvicorn pings every 20 s."""
    assert ws_ping_interval(Settings(heartbeat_timeout_seconds=75)) is None
    assert ws_ping_interval(Settings(heartbeat_timeout_seconds=0)) == 20.0


async def test_a_socket_upgraded_from_http_leaves_its_http_protocol_to_the_collector() -> None:
    """The head deadline's timer is cancelled when the connection becomes a WebSocket: it no longer holds the
    HTTP protocol (parser, scope, headers) for the rest of HEADER_TIMEOUT_SECONDS, about a fifth of what every
    held socket cost the collector (see `loadtest/capacity.py`'s collector table)."""
    protocol_class = header_deadline(HttpToolsProtocol, 300.0)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            while (await receive())["type"] != "websocket.disconnect":
                pass

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, http=protocol_class, ws="websockets-sansio", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as sock:
            await sock.ping()
            gc.collect()
            assert not [o for o in gc.get_objects() if isinstance(o, protocol_class)]
    finally:
        server.should_exit = True
        await task

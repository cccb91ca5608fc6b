"""The socket session: whichever way a socket ends, it gives back its place under the cap, its hub registration
and its player's presence."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from backend.service import RoomService
from tests.backend.api.conftest import make_settings, seat


def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """The handler finishes on the app's thread after the client's close: wait for it, within a deadline."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the session did not release in time"
        time.sleep(0.01)


def test_a_session_releases_what_it_holds_whichever_way_it_ends(tmp_path: Path) -> None:
    """Closed before hello, refused at hello, and closed after connecting: no place under MAX_CONNECTIONS is
    kept, no socket stays registered, and the connected player ends offline."""
    with TestClient(create_app(make_settings(tmp_path), registry=CollectorRegistry())) as client:
        service: RoomService = client.app.state.service  # type: ignore[attr-defined]
        hub = service.hub
        host = seat(client, "Alice")
        code = host["room_code"]
        with client.websocket_connect(f"/ws/{code}"):
            until(lambda: hub.pending == 1)
        until(lambda: hub.pending == 0)
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({"type": "hello", "player_id": host["player_id"], "token": "wrong"})
            with pytest.raises(WebSocketDisconnect):
                ws.receive_json()
        until(lambda: hub.pending == 0)
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({"type": "hello", "player_id": host["player_id"], "token": host["token"]})
            assert ws.receive_json()["type"] == "welcome"
            assert hub.is_connected(code, host["player_id"]) and hub.pending == 0
        until(lambda: hub.connection_count() == 0)

        def online() -> bool:
            assert client.portal is not None
            return bool(client.portal.call(service.read, code, lambda r: r.players[host["player_id"]].online))

        until(lambda: not online())

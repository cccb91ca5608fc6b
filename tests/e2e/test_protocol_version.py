"""Today's backend and a raw client of another protocol version, over a real server: a hello naming the next
version (or version 0) is closed with 4426 and the server's range in the reason; a hello without `protocol` (a page
from before versions) is welcomed as version 1. (Today's bridge against the next version's backend, in Chromium:
tests/frontend/test_browser_protocol_version.py.)"""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from launchers.backend import Backend
from parlor_protocol import PROTOCOL_VERSION, CloseCode
from tests.conftest import scaled
from tests.e2e.next_protocol_backend import NEXT


def test_todays_backend_refuses_a_raw_client_of_another_version_and_welcomes_one_without(backend: Backend) -> None:
    """A hello naming version NEXT or 0 gets 4426 with the server's range in the reason; a hello without
    `protocol` (a page from before versions) gets a welcome naming version 1."""
    seat = httpx.post(f"{backend.url}/api/rooms", json={"name": "Alice"}, timeout=10).json()
    url = f"{backend.ws_url}/ws/{seat['room_code']}"
    hello = {"type": "hello", "player_id": seat["player_id"], "token": seat["token"], "last_event_id": None}
    for spoken, hint in ((NEXT, "this server is older than your page; retry soon"), (0, "reload the page")):
        with connect(url, open_timeout=scaled(5)) as ws:
            ws.send(json.dumps({**hello, "protocol": spoken}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=scaled(5))
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CloseCode.UNSUPPORTED_PROTOCOL
        reason = closed.value.rcvd.reason
        assert reason.startswith(f"protocol {spoken} unsupported (server speaks 1-1): {hint}"), reason
    with connect(url, open_timeout=scaled(5)) as ws:
        ws.send(json.dumps(hello))
        welcome = json.loads(ws.recv(timeout=scaled(5)))
    assert welcome["type"] == "welcome" and welcome["data"]["protocol"] == PROTOCOL_VERSION == 1

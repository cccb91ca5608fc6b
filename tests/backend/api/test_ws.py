"""WebSocket protocol: hello, resume, close codes and error frames, through Starlette's TestClient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from backend.realtime.protocol import CloseCode
from tests.backend.api.conftest import auth, make_settings, seat


def hello(s: dict[str, str], last: int | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "hello", "player_id": s["player_id"], "token": s["token"], "last_event_id": last, **extra}


def test_fresh_client_gets_welcome_then_snapshot(client: TestClient) -> None:
    """last_event_id null: welcome (recovered false), then a snapshot carrying last_event_id."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host))
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome" and welcome["data"]["recovered"] is False
        snap = ws.receive_json()
        assert snap["type"] == "snapshot" and snap["data"]["last_event_id"] == welcome["data"]["last_event_id"]
        assert snap["data"]["you"]["player_id"] == host["player_id"]


def test_welcome_tells_the_client_its_heartbeat(tmp_path: Path) -> None:
    """welcome carries PING_INTERVAL_SECONDS and PONG_TIMEOUT_SECONDS (the client's ping and its wait for an
    answer) beside HEARTBEAT_TIMEOUT_SECONDS (how long the server waits for any frame)."""
    settings = make_settings(tmp_path, ping_interval_seconds=3, pong_timeout_seconds=2.5, heartbeat_timeout_seconds=12)
    with TestClient(create_app(settings, registry=CollectorRegistry())) as c:
        host = seat(c, "Alice")
        with c.websocket_connect(f"/ws/{host['room_code']}") as ws:
            ws.send_json(hello(host))
            data = ws.receive_json()["data"]
    assert (data["ping_interval_seconds"], data["pong_timeout_seconds"], data["heartbeat_seconds"]) == (3, 2.5, 12)


def test_resume_replays_exactly_the_missed_events(client: TestClient) -> None:
    """hello with last_event_id N: welcome (recovered true) then every event after N, in order."""
    host = seat(client, "Alice")
    code = host["room_code"]
    bob = seat(client, "Bob", code)
    client.post(f"/api/rooms/{code}/bots", headers=auth(host))
    with client.websocket_connect(f"/ws/{code}") as ws:
        ws.send_json(hello(bob, 1))
        welcome = ws.receive_json()
        assert welcome["data"]["recovered"] is True
        last = welcome["data"]["last_event_id"]
        frames = [ws.receive_json() for _ in range(last - 1)]
        assert [f["id"] for f in frames] == list(range(2, last + 1))
        assert all({"id", "type", "ts", "data"} <= set(f) for f in frames)
        online = ws.receive_json()  # Bob's own connection makes him show online
        assert online["id"] == last + 1 and online["type"] == "presence_changed"
        client.post(f"/api/rooms/{code}/bots", headers=auth(host))
        live = ws.receive_json()
        assert live["id"] == last + 2 and live["type"] == "player_joined"


def test_ping_gets_pong_with_same_t(client: TestClient) -> None:
    """A ping frame is answered by a pong whose data.t echoes the client's t."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host))
        assert ws.receive_json()["type"] == "welcome"
        assert ws.receive_json()["type"] == "snapshot"
        assert ws.receive_json()["type"] == "presence_changed"  # our own socket brings us online
        ws.send_json({"type": "ping", "t": 12345.5})
        pong = ws.receive_json()
        assert pong == {"id": None, "type": "pong", "ts": pong["ts"], "data": {"t": 12345.5}, "prev": None}


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda s: hello({**s, "token": "wrong"}), 4401),
        (lambda s: hello({**s, "player_id": "p_someoneelse"}), 4401),
    ],
)
def test_bad_credentials_close_4401(client: TestClient, make: Any, code: int) -> None:
    """A wrong token, or a token presented for another player id, closes with 4401."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(make(host))
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == code


def test_another_players_token_cannot_pose_as_them(client: TestClient) -> None:
    """Bob's token with Alice's player id is refused (4401)."""
    alice = seat(client, "Alice")
    bob = seat(client, "Bob", alice["room_code"])
    with client.websocket_connect(f"/ws/{alice['room_code']}") as ws:
        ws.send_json(hello({"player_id": alice["player_id"], "token": bob["token"]}))
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4401


def test_unknown_room_closes_4404(client: TestClient) -> None:
    """hello for a room that does not exist closes with 4404."""
    host = seat(client, "Alice")
    with client.websocket_connect("/ws/ZZZZZ") as ws:
        ws.send_json(hello(host))
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4404


def test_no_hello_in_time_closes_4408(client: TestClient) -> None:
    """A socket that never says hello is closed with 4408 after the hello timeout."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4408


def test_malformed_json_and_unknown_type_get_error_frames_and_keep_the_socket(client: TestClient) -> None:
    """Malformed JSON and unknown types get error frames; the connection stays usable."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host))
        assert ws.receive_json()["type"] == "welcome"
        assert ws.receive_json()["type"] == "snapshot"
        assert ws.receive_json()["type"] == "presence_changed"  # our own socket brings us online
        ws.send_text("{nope")
        err = ws.receive_json()
        assert err["type"] == "error" and err["data"]["code"] == "malformed_json"
        ws.send_json({"type": "dance"})
        assert ws.receive_json()["data"]["code"] == "unknown_type"
        ws.send_json({"type": "ping", "t": 1})
        assert ws.receive_json()["type"] == "pong"


def test_repeated_abuse_closes_4400(client: TestClient) -> None:
    """After abuse_limit bad frames the server closes with 4400."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host))
        ws.receive_json(), ws.receive_json(), ws.receive_json()  # welcome, snapshot, presence_changed
        with pytest.raises(WebSocketDisconnect) as exc:
            for _ in range(10):
                ws.send_text("garbage")
                ws.receive_json()
        assert exc.value.code == 4400


def test_oversized_frame_closes_1009(client: TestClient) -> None:
    """A frame over 16 KiB closes the socket with 1009."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host))
        ws.receive_json(), ws.receive_json(), ws.receive_json()  # welcome, snapshot, presence_changed
        ws.send_text(json.dumps({"type": "ping", "t": "x" * 17000}))
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 1009


def test_newer_connection_replaces_older_with_4409(client: TestClient) -> None:
    """A second socket of the same player closes the first with 4409."""
    host = seat(client, "Alice")
    code = host["room_code"]
    with client.websocket_connect(f"/ws/{code}") as first:
        first.send_json(hello(host))
        first.receive_json(), first.receive_json(), first.receive_json()  # welcome, snapshot, presence_changed
        with client.websocket_connect(f"/ws/{code}") as second:
            second.send_json(hello(host))
            assert second.receive_json()["type"] == "welcome"
            with pytest.raises(WebSocketDisconnect) as exc:
                first.receive_json()
            assert exc.value.code == 4409


def test_foreign_origin_is_refused_at_handshake(client: TestClient) -> None:
    """A browser Origin outside the allow-list never gets a socket."""
    host = seat(client, "Alice")
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(f"/ws/{host['room_code']}", headers={"Origin": "https://evil.example"}),
    ):
        pass


def test_kill_switch_closes_4403(tmp_path: Any) -> None:
    """With WEBSOCKET_ENABLED=false the socket is refused with 4403 and the seat says polling."""
    from prometheus_client import CollectorRegistry

    from backend.main import create_app
    from tests.backend.api.conftest import make_settings

    app = create_app(make_settings(tmp_path, websocket_enabled=False), registry=CollectorRegistry())
    with TestClient(app) as tc:
        host = seat(tc, "Alice")
        assert host["transport"] == "polling"
        with tc.websocket_connect(f"/ws/{host['room_code']}") as ws:
            ws.send_json(hello(host))
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4403


def test_test_router_refusal_switch_gates_new_handshakes(tmp_path: Path) -> None:
    """With TEST_HOOKS, POST /api/test/websocket refuse=true cuts sockets (RESTART) and turns handshakes away
    (TRY_LATER) until refuse=false; the refusal lives in the test router's handshake gate."""
    app = create_app(make_settings(tmp_path, test_hooks=True), registry=CollectorRegistry())
    with TestClient(app) as client:
        host = seat(client, "Alice")
        with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
            ws.send_json(hello(host))
            assert ws.receive_json()["type"] == "welcome"
            assert client.post("/api/test/websocket", json={"refuse": True}).json() == {"refuse": True, "closed": 1}
            with pytest.raises(WebSocketDisconnect) as cut:
                while True:
                    ws.receive_json()
            assert cut.value.code == CloseCode.RESTART
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(f"/ws/{host['room_code']}"):
            pass
        assert refused.value.code == CloseCode.TRY_LATER
        assert client.post("/api/test/websocket", json={"refuse": False}).json() == {"refuse": False, "closed": 0}
        with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
            ws.send_json(hello(host))
            assert ws.receive_json()["type"] == "welcome"

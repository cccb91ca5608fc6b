"""The connection SLI counts what the service decides; handshakes failed by the client are counted apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from tests.backend.api.conftest import make_settings, seat


def test_client_caused_handshake_failures_stay_out_of_the_connection_attempts(tmp_path: Path) -> None:
    """Unknown room, bad token and a bad hello raise parlor_ws_handshake_rejections_total, not the SLI's counter."""
    registry = CollectorRegistry()
    app = create_app(make_settings(tmp_path, abuse_limit=1), registry=registry)
    with TestClient(app) as client:
        host = seat(client, "Alice")
        code = host["room_code"]
        hello = {"type": "hello", "player_id": host["player_id"], "last_event_id": None}
        with client.websocket_connect("/ws/ZZZZZ") as ws:
            ws.send_json({**hello, "token": host["token"]})
            with pytest.raises(WebSocketDisconnect) as gone:
                ws.receive_json()
            assert gone.value.code == 4404
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({**hello, "token": "wrong"})
            with pytest.raises(WebSocketDisconnect) as bad:
                ws.receive_json()
            assert bad.value.code == 4401
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_text("not json")
            with pytest.raises(WebSocketDisconnect) as abuse:
                ws.receive_json()
            assert abuse.value.code == 4400
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({**hello, "token": host["token"]})
            assert ws.receive_json()["type"] == "welcome"

    def sample(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    for reason in ("unknown_room", "auth_failed", "bad_hello"):
        assert sample("parlor_ws_handshake_rejections_total", reason=reason) == 1, reason
    attempts = {
        s.labels["result"]: s.value
        for metric in registry.collect()
        if metric.name == "parlor_ws_connection_attempts"
        for s in metric.samples
        if s.name.endswith("_total")
    }
    assert attempts.get("accepted") == 1 and sum(attempts.values()) == 1, attempts

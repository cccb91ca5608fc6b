"""Protocol versions at the server's doors: a hello or an /api/ request naming a version outside the server's range
is refused (4426 / HTTP 426 `unsupported_protocol`, with both versions in the message); without a version it is
version 1, as the pages from before versions were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from parlor_protocol import PROTOCOL_VERSION, CloseCode, ErrorCode, version
from tests.backend.api.conftest import auth, make_settings, seat


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, CollectorRegistry]]:
    registry = CollectorRegistry()
    with TestClient(create_app(make_settings(tmp_path), registry=registry)) as tc:
        yield tc, registry


def hello(s: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"type": "hello", "player_id": s["player_id"], "token": s["token"], "last_event_id": None, **extra}


@pytest.mark.parametrize("spoken", [PROTOCOL_VERSION + 1, 0, -1, "2", 1.5, True, None])
def test_a_hello_outside_the_range_is_closed_with_4426_and_a_reason(
    served: tuple[TestClient, CollectorRegistry], spoken: object
) -> None:
    """A newer, older or malformed `protocol` closes the socket with 4426 before any credential is read; the
    reason names the server's range for a version, or the field's type for anything else."""
    client, registry = served
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json(hello(host, protocol=spoken) if spoken is not None else {**hello(host), "protocol": None})
        if spoken is None:  # null is an absent version: version 1, welcomed
            assert ws.receive_json()["data"]["protocol"] == PROTOCOL_VERSION
            return
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == CloseCode.UNSUPPORTED_PROTOCOL == 4426
    if isinstance(spoken, int) and not isinstance(spoken, bool) and spoken >= 0:
        assert exc.value.reason == version.refusal(spoken)
        assert f"protocol {spoken} unsupported (server speaks 1-1)" in exc.value.reason
    else:
        assert exc.value.reason == "protocol must be a non-negative integer"
    assert len(exc.value.reason.encode()) <= 123  # a close reason's limit
    rejected = registry.get_sample_value("parlor_ws_handshake_rejections_total", {"reason": "unsupported_protocol"})
    assert rejected == 1


def test_a_hello_without_a_version_and_one_with_the_current_version_are_welcomed(
    served: tuple[TestClient, CollectorRegistry],
) -> None:
    """Today's pages (no `protocol`) and this release's (`protocol: 1`) both get a welcome naming version 1."""
    client, _ = served
    host = seat(client, "Alice")
    for frame in (hello(host), hello(host, protocol=PROTOCOL_VERSION)):
        with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
            ws.send_json(frame)
            welcome = ws.receive_json()
            assert welcome["type"] == "welcome" and welcome["data"]["protocol"] == PROTOCOL_VERSION
            assert ws.receive_json()["type"] == "snapshot"


def test_rest_refuses_a_header_outside_the_range_with_426(served: tuple[TestClient, CollectorRegistry]) -> None:
    """X-Parlor-Protocol outside the range (or not a number): 426 and `unsupported_protocol` on every /api/ route,
    before authentication; without the header, or with the current version, the request goes through."""
    client, _ = served
    host = seat(client, "Alice")
    code = host["room_code"]
    for value, message in ((str(PROTOCOL_VERSION + 1), version.refusal(PROTOCOL_VERSION + 1)), ("x", None)):
        for method, path in (("GET", f"/api/rooms/{code}/events?after=0"), ("POST", "/api/rooms")):
            resp = client.request(method, path, headers={**auth(host), version.HEADER: value}, json={"name": "Bo"})
            assert resp.status_code == 426, resp.text
            error = resp.json()["error"]
            assert error["code"] == ErrorCode.UNSUPPORTED_PROTOCOL
            assert error["message"] == (message or f"{version.HEADER} must be an integer")
            assert error["request_id"] == resp.headers["X-Request-ID"]
    assert client.get(f"/api/rooms/{code}/state", headers=auth(host)).status_code == 200
    current = {**auth(host), version.HEADER: str(PROTOCOL_VERSION)}
    assert client.get(f"/api/rooms/{code}/state", headers=current).status_code == 200
    assert client.get("/healthz", headers={version.HEADER: "99"}).status_code == 200  # not the game's API


def test_cors_lets_a_page_send_the_version_header_and_read_the_refusal(
    served: tuple[TestClient, CollectorRegistry],
) -> None:
    """A page on another origin may send X-Parlor-Protocol (the preflight allows it) and can read the 426 (it
    carries the CORS headers: without them the browser reports a network error, not the refusal)."""
    client, _ = served
    origin = {"Origin": "http://localhost:8501"}
    refused = client.get("/api/packs", headers={**origin, version.HEADER: str(PROTOCOL_VERSION + 1)})
    assert refused.status_code == 426
    assert refused.headers["access-control-allow-origin"] == origin["Origin"]
    resp = client.options(
        "/api/rooms",
        headers={
            "Origin": "http://localhost:8501",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-parlor-protocol,content-type",
        },
    )
    assert resp.status_code == 200
    assert "x-parlor-protocol" in resp.headers["access-control-allow-headers"].lower()

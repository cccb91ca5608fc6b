"""An error's HTTP status and close code are its class's: REST and the socket answer the same refusal alike."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.core.errors import BadFrame, NotFound, ParlorError, Unauthorized
from tests.backend.api.conftest import seat


def refusal(client: TestClient, path: str, hello: dict[str, object]) -> tuple[int, int]:
    """The REST status of a state request, and the close code of the same seat's hello."""
    token = str(hello["token"])
    resp = client.get(f"/api/rooms/{path}/state", headers={"Authorization": f"Bearer {token}"})
    with client.websocket_connect(f"/ws/{path}") as ws:
        ws.send_json({"type": "hello", **hello})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return resp.status_code, closed.value.code


@pytest.mark.parametrize(
    ("case", "error"), [("unknown room", NotFound), ("wrong token", Unauthorized)], ids=["404-4404", "401-4401"]
)
def test_a_refused_seat_gets_its_errors_status_on_rest_and_its_close_code_on_the_socket(
    client: TestClient, case: str, error: type[ParlorError]
) -> None:
    """A room nobody holds and a token the room does not know: REST answers `error.status`, the hello is closed
    with `error.close_code`."""
    host = seat(client, "Alice")
    code, token = ("ZZZZZ", host["token"]) if case == "unknown room" else (host["room_code"], "wrong")
    status, close = refusal(client, code, {"player_id": host["player_id"], "token": token})
    assert (status, close) == (error.status, error.close_code)


def test_bad_frames_close_the_socket_with_their_class_close_code(client: TestClient) -> None:
    """Frames the server cannot use get an error frame each; the ABUSE_LIMIT-th closes with BadFrame's close code."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_json({"type": "hello", "player_id": host["player_id"], "token": host["token"]})
        assert ws.receive_json()["type"] == "welcome"
        assert ws.receive_json()["type"] == "snapshot"
        limit = client.app.state.settings.abuse_limit  # type: ignore[attr-defined]
        errors = []
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(limit):
                ws.send_text("not json")
            while True:
                frame = ws.receive_json()
                if frame["type"] == "error":
                    errors.append(frame["data"]["code"])
    assert errors == ["malformed_json"] * (limit - 1)  # the last bad frame is answered by the close
    assert closed.value.code == BadFrame.close_code

"""Resume across lost history: ids ahead of the log or from another epoch get a snapshot, never a silent gap."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.backend.api.conftest import auth, seat


def hello(s: dict[str, str], last: int | None = None, epoch: str | None = None) -> dict[str, Any]:
    return {"type": "hello", "player_id": s["player_id"], "token": s["token"], "last_event_id": last, "epoch": epoch}


def test_hello_ahead_of_the_log_resyncs_and_then_gets_every_new_event(client: TestClient) -> None:
    """last_event_id above the room's last id: recovered false, a snapshot, then new events are all delivered."""
    host = seat(client, "Alice")
    code = host["room_code"]
    bob = seat(client, "Bob", code)
    with client.websocket_connect(f"/ws/{code}") as ws:
        ws.send_json(hello(bob, 50))
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome" and welcome["data"]["recovered"] is False
        snap = ws.receive_json()
        assert snap["type"] == "snapshot" and snap["data"]["last_event_id"] < 50
        assert snap["data"]["epoch"] == welcome["data"]["epoch"] != ""
        last = snap["data"]["last_event_id"]
        assert ws.receive_json()["id"] == last + 1  # Bob online
        for _ in range(3):
            client.post(f"/api/rooms/{code}/bots", headers=auth(host))
        assert [ws.receive_json()["id"] for _ in range(3)] == [last + 2, last + 3, last + 4]


def test_hello_from_another_epoch_gets_a_snapshot(client: TestClient) -> None:
    """A last id that exists in the log but belongs to another history (epoch) is not replayed from."""
    host = seat(client, "Alice")
    code = host["room_code"]
    with client.websocket_connect(f"/ws/{code}") as ws:
        ws.send_json(hello(host, 1, epoch="0123456789ab"))
        welcome = ws.receive_json()
        assert welcome["data"]["recovered"] is False and welcome["data"]["epoch"] != "0123456789ab"
        assert ws.receive_json()["type"] == "snapshot"
    with client.websocket_connect(f"/ws/{code}") as ws:
        ws.send_json(hello(host, 1, epoch=welcome["data"]["epoch"]))
        assert ws.receive_json()["data"]["recovered"] is True


def test_longpoll_answers_carry_the_epoch_and_resync_another_one(client: TestClient) -> None:
    """GET /events answers name the epoch; ?epoch= of another history gets recovered false and a snapshot."""
    host = seat(client, "Alice")
    url = f"/api/rooms/{host['room_code']}/events"
    body = client.get(url, params={"after": 0}, headers=auth(host)).json()
    assert body["recovered"] is True and body["epoch"]
    same = client.get(url, params={"after": 1, "epoch": body["epoch"]}, headers=auth(host)).json()
    assert same["recovered"] is True and same["snapshot"] is None
    other = client.get(url, params={"after": 1, "epoch": "feedfacecafe"}, headers=auth(host)).json()
    assert other["recovered"] is False and other["snapshot"]["epoch"] == body["epoch"]
    ahead = client.get(url, params={"after": 99}, headers=auth(host)).json()
    assert ahead["recovered"] is False and ahead["snapshot"] is not None

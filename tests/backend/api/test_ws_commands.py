"""Moves over the socket: the `command` frame runs the same service call as REST, acks after its events,
answers a refusal with an error naming the command, and is idempotent on its id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from tests.backend.api.conftest import auth, seat
from tests.backend.api.test_ws import hello


@contextmanager
def live(client: TestClient, s: dict[str, str]) -> Iterator[WebSocketTestSession]:
    """A socket past welcome, snapshot and its own presence event."""
    with client.websocket_connect(f"/ws/{s['room_code']}") as ws:
        ws.send_json(hello(s))
        assert [ws.receive_json()["type"] for _ in range(3)] == ["welcome", "snapshot", "presence_changed"]
        yield ws


Frame = dict[str, Any]


def until(ws: WebSocketTestSession, pick: Callable[[Frame], bool]) -> tuple[list[Frame], Frame]:
    """Frames received before the first one `pick` accepts, and that one."""
    seen: list[Frame] = []
    for _ in range(50):
        f = ws.receive_json()
        if pick(f):
            return seen, f
        if f["type"] == "error":  # a refusal nobody waits for: say it now rather than wait for a frame never sent
            raise AssertionError(f"refused: {f}")
        seen.append(f)
    raise AssertionError(f"not found in {seen}")


def started_table(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    host = seat(client, "Alice")
    bob = seat(client, "Bob", host["room_code"])
    seat(client, "Cleo", host["room_code"])
    assert client.post(f"/api/rooms/{host['room_code']}/start", headers=auth(host)).status_code == 200
    return host, bob


def command(name: str, key: str, **data: Any) -> dict[str, Any]:
    return {"type": "command", "id": key, "name": name, "data": data}


def test_a_clue_over_the_socket_reaches_everyone_and_is_acked_after_its_event(client: TestClient) -> None:
    host, bob = started_table(client)
    with live(client, host) as alice_ws, live(client, bob) as bob_ws:
        alice_ws.send_json(command("clue", "k1", text="zqx ritual qv"))
        before, ack = until(alice_ws, lambda f: f["type"] == "ack")
        clue = next(f for f in before if f["type"] == "clue_posted")
        assert clue["data"]["text"] == "zqx ritual qv" and clue["data"]["player_id"] == host["player_id"]
        assert ack["data"] == {"command": "k1", "last_event_id": clue["id"]}
        _, seen = until(bob_ws, lambda f: f["type"] == "clue_posted")
        assert seen["id"] == clue["id"]


def test_a_resent_command_is_answered_once(client: TestClient) -> None:
    """The id is the Idempotency-Key: the same command twice (an ack lost) makes one clue, two acks."""
    host, _ = started_table(client)
    with live(client, host) as ws:
        ws.send_json(command("clue", "same", text="warm"))
        _, first = until(ws, lambda f: f["type"] == "ack")
        ws.send_json(command("clue", "same", text="warm"))
        between, second = until(ws, lambda f: f["type"] == "ack")
        assert second["data"] == first["data"] and not [f for f in between if f["type"] == "clue_posted"]
    # and REST with the same key is the same move too
    again = {**auth(host), "Idempotency-Key": "same"}
    resp = client.post(f"/api/rooms/{host['room_code']}/clues", json={"text": "warm"}, headers=again)
    assert resp.json()["last_event_id"] == first["data"]["last_event_id"]
    state = client.get(f"/api/rooms/{host['room_code']}/state", headers=auth(host)).json()
    assert [c["text"] for c in state["clues"]] == ["warm"]


def test_a_refused_move_gets_an_error_naming_the_command_and_keeps_the_socket(client: TestClient) -> None:
    host, bob = started_table(client)
    with live(client, host) as ws:
        ws.send_json(command("clue", "c1", text="bell\u0007"))
        _, err = until(ws, lambda f: f["type"] == "error")
        assert err["data"]["command"] == "c1" and err["data"]["code"] == "validation_error"
        assert err["data"]["fields"][0]["loc"] == ["data", "text"]
        assert "control characters" in err["data"]["fields"][0]["msg"]
        ws.send_json(command("vote", "v1", target_id=bob["player_id"]))  # discussion: not yet
        _, err = until(ws, lambda f: f["type"] == "error")
        assert err["data"]["command"] == "v1" and err["data"]["code"] == "wrong_phase"
        ws.send_json(command("ready", "r1"))
        _, ack = until(ws, lambda f: f["type"] == "ack")
        assert ack["data"]["command"] == "r1"


def test_frames_that_are_not_commands_are_answered_as_abuse(client: TestClient) -> None:
    host, _ = started_table(client)
    with live(client, host) as ws:
        for bad, code in [
            (command("clue", "", text="x"), "bad_command"),
            (command("clue", "x" * 65, text="x"), "bad_command"),
            (command("teleport", "t1"), "unknown_command"),
            ({"type": "command", "id": "d1", "name": "clue", "data": ["x"]}, "bad_command"),
        ]:
            ws.send_json(bad)
            _, err = until(ws, lambda f: f["type"] == "error")
            assert err["data"]["code"] == code, bad
        ws.send_json({"type": "ping", "t": 1})
        assert until(ws, lambda f: f["type"] == "pong")[1]["data"] == {"t": 1}


def test_a_stale_advance_is_refused_over_the_socket_and_over_rest(client: TestClient) -> None:
    """`advance` names the phase and round the host saw: one that is over gets wrong_phase, nothing moves."""
    host, _ = started_table(client)
    code = host["room_code"]
    with live(client, host) as ws:
        ws.send_json(command("advance", "a1", phase="discussion", round=1))
        assert until(ws, lambda f: f["type"] == "ack")[1]["data"]["command"] == "a1"
        ws.send_json(command("advance", "a2", phase="discussion", round=1))
        _, err = until(ws, lambda f: f["type"] == "error")
        assert (err["data"]["command"], err["data"]["code"]) == ("a2", "wrong_phase")
    resp = client.post(f"/api/rooms/{code}/advance", json={"phase": "discussion", "round": 1}, headers=auth(host))
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "wrong_phase"
    assert client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["phase"] == "voting"
    resp = client.post(f"/api/rooms/{code}/advance", json={"phase": "lobby"}, headers=auth(host))
    assert resp.status_code == 409
    resp = client.post(f"/api/rooms/{code}/advance", json={"phase": "dancing"}, headers=auth(host))
    assert resp.status_code == 422
    assert client.post(f"/api/rooms/{code}/advance", headers=auth(host)).status_code == 200  # no body: as before


def test_the_host_moves_go_over_the_socket_as_they_do_over_rest(client: TestClient) -> None:
    """`settings`, `add_bot`, `start` and `kick` commands make the REST moves: each acked with its last event id
    after its events, a refusal answered with the game's reason."""
    host = seat(client, "Alice")
    code = host["room_code"]
    bob = seat(client, "Bob", code)
    seat(client, "Cleo", code)
    with live(client, host) as ws:
        ws.send_json(command("settings", "s1", discussion_seconds=90))
        before, ack = until(ws, lambda f: f["type"] == "ack")
        changed = next(f for f in before if f["type"] == "settings_changed")
        assert changed["data"]["settings"]["discussion_seconds"] == 90 and ack["data"]["last_event_id"] == changed["id"]
        ws.send_json(command("add_bot", "b1"))
        before, ack = until(ws, lambda f: f["type"] == "ack")
        assert any(f["type"] == "player_joined" and f["data"]["player"]["is_bot"] for f in before)
        ws.send_json(command("kick", "x1", player_id=bob["player_id"]))
        before, ack = until(ws, lambda f: f["type"] == "ack")
        assert any(f["type"] == "player_left" and f["data"]["player_id"] == bob["player_id"] for f in before)
        ws.send_json(command("start", "go"))
        before, ack = until(ws, lambda f: f["type"] == "ack")
        assert any(f["type"] == "game_started" for f in before) and ack["data"]["command"] == "go"
        ws.send_json(command("start", "go again"))
        _, refused = until(ws, lambda f: f["type"] in ("ack", "error"))
        assert refused["type"] == "error" and refused["data"]["command"] == "go again"  # the game is on already
        assert refused["data"]["code"] == "wrong_phase", refused
    state = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert state["phase"] == "discussion" and state["settings"]["discussion_seconds"] == 90


def test_a_key_reused_for_another_move_is_refused_with_422_on_the_socket_and_over_rest(client: TestClient) -> None:
    """Same key, same body: the first answer again. Same key, another body: `idempotency_key_reused` (422 over
    REST, an error frame naming the command on the socket) and nothing applied."""
    host, _ = started_table(client)
    code = host["room_code"]
    with live(client, host) as ws:
        ws.send_json(command("clue", "k", text="warm"))
        _, first = until(ws, lambda f: f["type"] == "ack")
        ws.send_json(command("clue", "k", text="cold"))
        _, refused = until(ws, lambda f: f["type"] in ("ack", "error"))
        assert refused["type"] == "error"
        assert refused["data"]["command"] == "k" and refused["data"]["code"] == "idempotency_key_reused"
    headers = {**auth(host), "Idempotency-Key": "k"}
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": "cold"}, headers=headers)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "idempotency_key_reused"
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": "warm"}, headers=headers)
    assert resp.status_code == 200 and resp.json()["last_event_id"] == first["data"]["last_event_id"]
    state = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert [c["text"] for c in state["clues"]] == ["warm"]

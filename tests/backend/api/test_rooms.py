"""REST contract: status codes, JSON error bodies, validation and authorization."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from backend.service import CODE_ALPHABET
from tests.backend.api.conftest import auth, seat


def lobby(client: TestClient, humans: int = 3) -> list[dict[str, str]]:
    host = seat(client, "Host")
    return [host] + [seat(client, f"P{i}", host["room_code"]) for i in range(1, humans)]


def test_create_room_returns_code_player_and_strong_token(client: TestClient) -> None:
    """201 with a 5-character look-alike-free code, a player id and a token of at least 128 bits."""
    body = seat(client, "Alice")
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{5}}", body["room_code"])
    assert not set("01OIL") & set(body["room_code"])
    assert len(body["token"]) >= 22  # base64url: 22 characters carry 128 bits
    assert body["transport"] in ("websocket", "polling")


def test_summary_and_unknown_room(client: TestClient) -> None:
    """GET /api/rooms/{code} gives phase, count, joinable; an unknown code is a JSON 404."""
    host = seat(client, "Alice")
    summary = client.get(f"/api/rooms/{host['room_code']}").json()
    assert summary["phase"] == "lobby" and summary["player_count"] == 1 and summary["joinable"] is True
    resp = client.get("/api/rooms/ZZZZZ")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "unknown_room"
    assert client.post("/api/rooms/ZZZZZ/players", json={"name": "Bob"}).status_code == 404


@pytest.mark.parametrize("name", ["", "   ", "x" * 25, "new\nline", "\u0007bell"])
def test_invalid_names_get_422_with_field_errors(client: TestClient, name: str) -> None:
    """Bad names are refused with 422 and the field named in the error body."""
    resp = client.post("/api/rooms", json={"name": name})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "validation_error" and err["fields"][0]["loc"][-1] == "name"


def test_malformed_body_is_422(client: TestClient) -> None:
    """A body that is not JSON, or misses a field, is a 422 with a JSON error."""
    resp = client.post("/api/rooms", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 422 and "error" in resp.json()
    assert client.post("/api/rooms", json={}).status_code == 422


def test_name_taken_and_room_full_are_409(client: TestClient) -> None:
    """Names are unique ignoring case; the 13th player is refused."""
    host = seat(client, "Alice")
    code = host["room_code"]
    resp = client.post(f"/api/rooms/{code}/players", json={"name": " ALICE "})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "name_taken"
    for i in range(11):
        seat(client, f"P{i}", code)
    resp = client.post(f"/api/rooms/{code}/players", json={"name": "Late"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "room_full"
    assert client.get(f"/api/rooms/{code}").json()["joinable"] is False


def test_missing_and_wrong_tokens_are_401(client: TestClient) -> None:
    """No token, a malformed header, a made-up token, or another room's token: 401 everywhere."""
    a = seat(client, "Alice")
    other = seat(client, "Zed")
    code = a["room_code"]
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}, auth(other)):
        for method, path in (("GET", "state"), ("GET", "events"), ("POST", "start"), ("POST", "bots")):
            resp = client.request(method, f"/api/rooms/{code}/{path}", headers=headers)
            assert resp.status_code == 401, (headers, path, resp.text)
            assert resp.json()["error"]["code"] in ("missing_token", "bad_token")


def test_host_only_actions_are_403_for_others(client: TestClient) -> None:
    """Start, bots, settings, kick and advance need the host."""
    host, p1, _ = lobby(client)
    code = host["room_code"]
    for method, path, body in (
        ("POST", "start", None),
        ("POST", "bots", None),
        ("PATCH", "settings", {"voting_seconds": 20}),
        ("DELETE", f"players/{host['player_id']}", None),
    ):
        resp = client.request(method, f"/api/rooms/{code}/{path}", json=body, headers=auth(p1))
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["error"]["code"] == "not_host"


@pytest.mark.parametrize(
    "body", [{"discussion_seconds": 9}, {"discussion_seconds": 601}, {"voting_seconds": 4}, {"undercover_count": 3}]
)
def test_invalid_settings_are_422(client: TestClient, body: dict[str, int]) -> None:
    """Settings outside their ranges are refused with field errors."""
    host = seat(client, "Host")
    resp = client.patch(f"/api/rooms/{host['room_code']}/settings", json=body, headers=auth(host))
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"][0]["loc"][-1] == next(iter(body))


def test_game_actions_validate_phase_and_word(client: TestClient) -> None:
    """Voting in discussion is 409; a clue with one's own word is 422; the snapshot hides others' words."""
    host, p1, p2 = lobby(client)
    code = host["room_code"]
    assert (
        client.post(f"/api/rooms/{code}/votes", json={"target_id": p2["player_id"]}, headers=auth(p1)).status_code
        == 409
    )
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    resp = client.post(f"/api/rooms/{code}/votes", json={"target_id": p2["player_id"]}, headers=auth(p1))
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "wrong_phase"
    state = client.get(f"/api/rooms/{code}/state", headers=auth(p1)).json()
    word = state["you"]["word"]
    assert word
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": f"not {word.upper()}"}, headers=auth(p1))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "clue_contains_word"
    others = [client.get(f"/api/rooms/{code}/state", headers=auth(s)).json()["you"]["word"] for s in (host, p2)]
    for s in (host, p1, p2):
        blob = client.get(f"/api/rooms/{code}/state", headers=auth(s)).text
        mine = client.get(f"/api/rooms/{code}/state", headers=auth(s)).json()["you"]["word"]
        for w in {word, *others} - {mine}:
            assert f'"{w}"' not in blob
        assert "undercover" not in blob.replace('"undercover_count"', "")


def test_leave_and_kick(client: TestClient) -> None:
    """A player may leave; the host may remove a player; the removed token stops working."""
    host, p1, p2 = lobby(client)
    code = host["room_code"]
    assert client.delete(f"/api/rooms/{code}/players/{p1['player_id']}", headers=auth(p1)).status_code == 200
    assert client.get(f"/api/rooms/{code}/state", headers=auth(p1)).status_code == 401
    assert client.delete(f"/api/rooms/{code}/players/{p2['player_id']}", headers=auth(host)).status_code == 200
    assert client.get(f"/api/rooms/{code}").json()["player_count"] == 1


def test_events_after_and_validation(client: TestClient) -> None:
    """GET /events returns frames after the id; a negative id or too long a wait is a 422."""
    host, p1, _ = lobby(client)
    code = host["room_code"]
    body = client.get(f"/api/rooms/{code}/events?after=0", headers=auth(p1)).json()
    ids = [e["id"] for e in body["events"]]
    assert ids == sorted(ids) and ids and body["recovered"] is True
    assert body["last_event_id"] >= ids[-1]
    assert client.get(f"/api/rooms/{code}/events?after=-1", headers=auth(p1)).status_code == 422
    assert client.get(f"/api/rooms/{code}/events?wait=31", headers=auth(p1)).status_code == 422
    later = client.get(f"/api/rooms/{code}/events?after={body['last_event_id']}", headers=auth(p1)).json()
    assert later["events"] == []


def test_private_events_only_reach_their_owner(client: TestClient) -> None:
    """your_word appears in each player's event feed exactly once, with their own word only."""
    host, p1, p2 = lobby(client)
    code = host["room_code"]
    client.post(f"/api/rooms/{code}/start", headers=auth(host))
    for s in (host, p1, p2):
        events = client.get(f"/api/rooms/{code}/events?after=0", headers=auth(s)).json()["events"]
        words = [e for e in events if e["type"] == "your_word"]
        state = client.get(f"/api/rooms/{code}/state", headers=auth(s)).json()
        assert [w["data"]["word"] for w in words] == [state["you"]["word"]]


def test_health_and_metrics(client: TestClient) -> None:
    """/healthz and /readyz answer; /metrics exposes parlor_ series."""
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    text = client.get("/metrics").text
    assert "parlor_ws_connection_attempts_total" in text and "parlor_http_requests_total" in text


def test_http_latency_by_handler_has_millisecond_buckets(client: TestClient) -> None:
    """A game request lands in a bucket of a few milliseconds, not in the instrumentator's 100 ms floor."""
    client.post("/api/rooms", json={"name": "Ann"})
    lines = [
        line
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("parlor_http_request_duration_seconds_bucket") and 'handler="/api/rooms"' in line
    ]
    bounds = [line.split('le="')[1].split('"')[0] for line in lines]
    assert bounds[:3] == ["0.0025", "0.005", "0.01"], lines
    assert bounds[-2:] == ["30.0", "+Inf"], lines

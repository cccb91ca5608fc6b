"""Doubled spaces are a typing slip, not a disguise: names, clues and Mr. White's guess are normalised and kept."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from tests.backend.api.conftest import auth, seat
from tests.backend.api.test_ws_commands import command, live, until


def test_a_name_with_doubled_and_outer_spaces_is_seated_with_single_spaces(client: TestClient) -> None:
    """POST /api/rooms and /players with "Ann  Lee" (and no-break spaces) seat "Ann Lee"; a look-alike is taken."""
    host = seat(client, "  Ann  Lee ")
    code = host["room_code"]
    seat(client, "Bo\u00a0\u00a0Kim", code)
    names = [p["name"] for p in client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["players"]]
    assert names == ["Ann Lee", "Bo Kim"]
    resp = client.post(f"/api/rooms/{code}/players", json={"name": "Ann   Lee"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "name_taken"


def test_a_clue_over_the_socket_with_doubled_spaces_is_posted_normalised(client: TestClient) -> None:
    """A `clue` command "hot  drink" is acked and posted as "hot drink"; REST does the same."""
    host = seat(client, "Alice")
    code = host["room_code"]
    bob = seat(client, "Bob", code)
    seat(client, "Cleo", code)
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    with live(client, host) as ws:
        ws.send_json(command("clue", "k1", text="hot  drink"))
        before, ack = until(ws, lambda f: f["type"] in ("ack", "error"))
        assert ack["type"] == "ack", ack
        assert [f["data"]["text"] for f in before if f["type"] == "clue_posted"] == ["hot drink"]
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": " round \u3000 and  warm "}, headers=auth(bob))
    assert resp.status_code == 200, resp.text
    clues = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["clues"]
    assert [c["text"] for c in clues] == ["hot drink", "round and warm"]


def test_mr_whites_guess_with_doubled_spaces_is_judged_and_shown_normalised(client: TestClient) -> None:
    """With a pasted two-word pack, Mr. White guessing "ice  cream" for "ice cream" wins, shown as "ice cream"."""
    host = seat(client, "Host")
    code = host["room_code"]
    players = [host] + [seat(client, f"P{i}", code) for i in range(1, 5)]
    resp = client.put(f"/api/rooms/{code}/pack", json={"text": "ice cream, frozen yogurt"}, headers=auth(host))
    assert resp.status_code == 200, resp.text
    client.patch(f"/api/rooms/{code}/settings", json={"mr_white": True, "pack": "custom"}, headers=auth(host))
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    yours = {p["player_id"]: client.get(f"/api/rooms/{code}/state", headers=auth(p)).json()["you"] for p in players}
    mr_white = next(p for p in players if yours[p["player_id"]]["mr_white"])
    civilian_word = Counter(you["word"] for you in yours.values() if you["word"]).most_common(1)[0][0]
    client.post(f"/api/rooms/{code}/advance", headers=auth(host))
    for p in players:
        if p is not mr_white:
            client.post(f"/api/rooms/{code}/votes", json={"target_id": mr_white["player_id"]}, headers=auth(p))
    client.post(f"/api/rooms/{code}/advance", headers=auth(host))
    assert client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["phase"] == "guess"
    typed = "  " + civilian_word.replace(" ", "  ") + " "
    resp = client.post(f"/api/rooms/{code}/guess", json={"text": typed}, headers=auth(mr_white))
    assert resp.status_code == 200, resp.text
    state = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert state["phase"] == "finished" and state["game_over"]["winner"] == "mr_white"
    events = client.get(f"/api/rooms/{code}/events", params={"after": 0}, headers=auth(host)).json()["events"]
    guess = next(e for e in events if e["type"] == "guess_made")
    assert guess["data"]["guess"] == civilian_word and guess["data"]["correct"] is True


def test_format_characters_between_words_are_still_refused(client: TestClient) -> None:
    """Spaces are collapsed, but a zero-width space, an ogham space mark or a tab between them is a 422."""
    host = seat(client, "Alice")
    for name in ("Ann \u200b Lee", "Ann\u1680Lee", "Ann\t\tLee"):
        resp = client.post(f"/api/rooms/{host['room_code']}/players", json={"name": name})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error", name

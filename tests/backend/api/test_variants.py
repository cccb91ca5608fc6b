"""REST for the variants: house-rule settings, packs (bundled and pasted) and Mr. White's guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.backend.api.conftest import auth, seat

PROTOCOL_DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def lobby(client: TestClient, humans: int) -> list[dict[str, str]]:
    host = seat(client, "Host")
    return [host] + [seat(client, f"P{i}", host["room_code"]) for i in range(1, humans)]


def test_packs_lists_english_and_french(client: TestClient) -> None:
    """GET /api/packs names each bundled pack with its language, theme and size (the mixed ones 150+ pairs)."""
    packs = {p["id"]: p for p in client.get("/api/packs").json()}
    assert packs["en-classic"]["language"] == "en" and packs["fr-classique"]["language"] == "fr"
    assert packs["fr-cuisine"]["theme"] == "food"
    assert all(p["pairs"] >= 150 for p in packs.values() if p["theme"] == "mixed")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"tie_rule": "coin"}, "tie_rule"),
        ({"vote_reveal": "hidden"}, "vote_reveal"),
        ({"grace_seconds": 1}, "grace_seconds"),
        ({"language": "de"}, "language"),
        ({"pack": "klingon"}, "unknown pack 'klingon'"),
        ({"language": "en", "pack": "fr-classique"}, "not in language"),
        ({"pack": "custom"}, "paste the table's own pack"),
        ({"mr_white": "yes"}, "mr_white"),
    ],
)
def test_bad_settings_get_a_clear_422(client: TestClient, body: dict[str, object], needle: str) -> None:
    """Every bad house-rule or pack setting is a JSON 422 whose message or fields name the problem."""
    host = seat(client, "Host")
    resp = client.patch(f"/api/rooms/{host['room_code']}/settings", json=body, headers=auth(host))
    assert resp.status_code == 422, resp.text
    assert needle in resp.text


def test_language_change_moves_to_that_languages_pack(client: TestClient) -> None:
    """Choosing French without a pack picks the French pack; settings come back in the response and event."""
    host = seat(client, "Host")
    resp = client.patch(f"/api/rooms/{host['room_code']}/settings", json={"language": "fr"}, headers=auth(host))
    assert resp.json()["settings"]["pack"] == "fr-classique"


def test_pasted_pack_refuses_bad_lines_by_number_and_is_kept_per_room(client: TestClient) -> None:
    """A bad line is named in a 422 invalid_pack; a good pack is the room's only (not another room's)."""
    host, other = seat(client, "Host"), seat(client, "Other")
    code = host["room_code"]
    resp = client.put(f"/api/rooms/{code}/pack", json={"text": "cat, dog\nlonely\nsun, moon"}, headers=auth(host))
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "invalid_pack" and "line 2" in error["message"] and "'lonely'" in error["message"]
    assert error["lines"] == [
        {"line": 2, "reason": "two_words", "word": "lonely", "message": error["lines"][0]["message"]}
    ]
    resp = client.put(f"/api/rooms/{code}/pack", json={"text": "cat, dog\nsun, moon"}, headers=auth(host))
    assert resp.status_code == 200 and resp.json()["settings"]["custom_pack_size"] == 2
    theirs = client.get(f"/api/rooms/{other['room_code']}/state", headers=auth(other)).json()
    assert theirs["settings"]["pack"] == "en-classic"
    mine = client.get(f"/api/rooms/{code}/state", headers=auth(host)).text
    assert "moon" not in mine


def test_only_mr_white_guesses_and_only_in_the_guess_phase(client: TestClient) -> None:
    """POST /guess outside the guess phase is 409; a too-long guess 422."""
    players = lobby(client, 5)
    host, code = players[0], players[0]["room_code"]
    client.patch(f"/api/rooms/{code}/settings", json={"mr_white": True}, headers=auth(host))
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    resp = client.post(f"/api/rooms/{code}/guess", json={"text": "coffee"}, headers=auth(players[1]))
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "wrong_phase"
    assert client.post(f"/api/rooms/{code}/guess", json={"text": "x" * 61}, headers=auth(players[1])).status_code == 422
    words = [client.get(f"/api/rooms/{code}/state", headers=auth(p)).json()["you"] for p in players]
    assert sum(1 for you in words if you["mr_white"] and you["word"] is None) == 1


def test_refused_pack_example_in_the_protocol_doc_is_a_real_answer(client: TestClient) -> None:
    """docs/protocol.md's invalid_pack body, with its per-line reasons, is what the API answers."""
    host = seat(client, "Host")
    text = "cat, dog\nlonely\nsun, sk8\ncat, mouse"
    resp = client.put(f"/api/rooms/{host['room_code']}/pack", json={"text": text}, headers=auth(host))
    doc = PROTOCOL_DOC.read_text(encoding="utf-8").split("<!-- invalid-pack-example -->")[1]
    example = json.loads(doc.split("```json")[1].split("```")[0])
    body = resp.json()
    assert body["error"].pop("request_id") == resp.headers["x-request-id"]
    assert resp.status_code == 422 and body == example
    assert [line["reason"] for line in example["error"]["lines"]] == ["two_words", "bad_word", "repeated"]


def test_a_room_created_in_french_starts_in_french_in_one_call(client: TestClient) -> None:
    """POST /api/rooms with language fr: French settings and pack from the first snapshot, no settings_changed
    event (no second call was needed); an unknown language is a 422 and English stays the default."""
    host = client.post("/api/rooms", json={"name": "Zoé", "language": "fr"}).json()
    code = host["room_code"]
    state = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert (state["settings"]["language"], state["settings"]["pack"]) == ("fr", "fr-classique")
    events = client.get(f"/api/rooms/{code}/events", params={"after": 0}, headers=auth(host)).json()["events"]
    assert "settings_changed" not in {e["type"] for e in events}
    resp = client.post("/api/rooms", json={"name": "Hans", "language": "de"})
    assert resp.status_code == 422 and "language" in resp.text
    english = seat(client, "Ann")
    settings = client.get(f"/api/rooms/{english['room_code']}/state", headers=auth(english)).json()["settings"]
    assert (settings["language"], settings["pack"]) == ("en", "en-classic")

"""docs/protocol.md's sentences about playing again, a revote without ballots and a pasted pack's line numbers are
what the API does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from backend.main import create_app
from tests.backend.api.conftest import auth, make_settings, seat

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path), registry=CollectorRegistry())) as tc:
        yield tc


def row(path: str) -> str:
    """The REST table's row for `path` (its first cell starts with it)."""
    return next(line for line in DOC.read_text().splitlines() if line.startswith(f"| `{path}"))


def table(client: TestClient, tie_rule: str = "nobody_out") -> list[dict[str, str]]:
    host = seat(client, "Ann")
    players = [host] + [seat(client, name, host["room_code"]) for name in ("Ben", "Cleo")]
    client.patch(f"/api/rooms/{host['room_code']}/settings", json={"tie_rule": tie_rule}, headers=auth(host))
    assert client.post(f"/api/rooms/{host['room_code']}/start", headers=auth(host)).status_code == 200
    return players


def test_play_again_is_post_start_from_the_finished_phase(client: TestClient) -> None:
    """The /start row says a finished room starts its next game; it does, with the same seats and game 2."""
    assert "from `finished` the next one" in row("POST /api/rooms/{code}/start")
    players = table(client)
    host, code = players[0], players[0]["room_code"]
    client.post(f"/api/rooms/{code}/advance", headers=auth(host))
    words = [client.get(f"/api/rooms/{code}/state", headers=auth(p)).json()["you"]["word"] for p in players]
    undercover = next(p for p, word in zip(players, words, strict=True) if words.count(word) == 1)
    for p in players:
        target = undercover if p is not undercover else next(x for x in players if x is not p)
        client.post(f"/api/rooms/{code}/votes", json={"target_id": target["player_id"]}, headers=auth(p))
    finished = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert finished["phase"] == "finished"
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    again = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert (again["phase"], again["game"]) == ("discussion", finished["game"] + 1)
    assert [p["id"] for p in again["players"]] == [p["id"] for p in finished["players"]]


def test_a_revote_nobody_votes_in_is_the_documented_vote_tied(client: TestClient) -> None:
    """Under the revote rule, a three-way tie then a revote without ballots: the second vote_tied has the
    documented example's data (no candidates, no votes, revote false) and round 2 starts."""
    section = DOC.read_text().split("#### `vote_tied`")[1]
    assert "a revote nobody votes in" in section
    example = json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))  # type: ignore[union-attr]
    players = table(client, "revote")
    host, code = players[0], players[0]["room_code"]
    client.post(f"/api/rooms/{code}/advance", headers=auth(host))
    for voter, target in zip(players, players[1:] + players[:1], strict=True):
        client.post(f"/api/rooms/{code}/votes", json={"target_id": target["player_id"]}, headers=auth(voter))
    assert client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["phase"] == "voting"
    client.post(f"/api/rooms/{code}/advance", headers=auth(host))
    events = client.get(f"/api/rooms/{code}/events", params={"after": 0}, headers=auth(host)).json()["events"]
    ties = [e["data"] for e in events if e["type"] == "vote_tied"]
    assert [t["revote"] for t in ties] == [True, False]
    assert ties[1] == example["data"]
    state = client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()
    assert (state["phase"], state["round"]) == ("discussion", 2) and all(p["alive"] for p in state["players"])


def test_a_pasted_packs_line_numbers_count_blank_and_hash_lines(client: TestClient) -> None:
    """The /pack row says blank and # lines are counted: the refusal names the line as numbered in the text."""
    assert "but counted" in row("PUT /api/rooms/{code}/pack")
    host = seat(client, "Ann")
    text = "# our pack\ncat, dog\n\nlonely"
    resp = client.put(f"/api/rooms/{host['room_code']}/pack", json={"text": text}, headers=auth(host))
    assert resp.status_code == 422
    assert [(line["line"], line["word"]) for line in resp.json()["error"]["lines"]] == [(4, "lonely")]

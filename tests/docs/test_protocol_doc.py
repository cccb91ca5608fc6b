"""docs/protocol.md stays true: every server frame type has an example whose shape matches real frames."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from backend.main import create_app
from backend.metrics import FRAME_TYPES_OUT
from backend.realtime.protocol import FRAME_FIELDS
from tests.backend.api.conftest import make_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_frames() -> dict[str, dict[str, Any]]:
    text = DOC.read_text()
    found = {}
    for name, body in re.findall(r"#### `(\w+)`\n.*?```json\n(.*?)\n```", text, re.S):
        found[name] = json.loads(body)
    return found


def play_and_capture(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """A short real game through the app, keeping the first frame of each type Bob's socket receives."""
    app = create_app(
        make_settings(tmp_path, bot_min_delay_seconds=30, bot_max_delay_seconds=40), registry=CollectorRegistry()
    )
    seen: dict[str, dict[str, Any]] = {}
    with TestClient(app) as c:
        a = c.post("/api/rooms", json={"name": "Alice"}).json()
        code = a["room_code"]
        ha = {"Authorization": f"Bearer {a['token']}"}
        b = c.post(f"/api/rooms/{code}/players", json={"name": "Bob"}).json()
        hb = {"Authorization": f"Bearer {b['token']}"}
        cleo = c.post(f"/api/rooms/{code}/players", json={"name": "Cleo"}).json()
        with c.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({"type": "hello", "player_id": b["player_id"], "token": b["token"], "last_event_id": None})
            ws.send_json({"type": "ping", "t": 1.5})
            ws.send_json({"type": "dance"})
            bot = c.post(f"/api/rooms/{code}/bots", headers=ha).json()
            c.patch(f"/api/rooms/{code}/settings", json={"discussion_seconds": 60}, headers=ha)
            c.post(f"/api/rooms/{code}/start", headers=ha)
            ws.send_json({"type": "command", "id": "k-1", "name": "clue", "data": {"text": "round and warm"}})
            c.post(f"/api/rooms/{code}/ready", headers=hb)
            c.post(f"/api/rooms/{code}/advance", headers=ha)
            c.post(f"/api/rooms/{code}/advance", headers=ha)  # nobody voted: a tie
            for _ in range(6):
                state = c.get(f"/api/rooms/{code}/state", headers=hb).json()
                if state["phase"] == "finished":
                    break
                if state["phase"] == "discussion":
                    c.post(f"/api/rooms/{code}/advance", headers=ha)
                alive = [p["id"] for p in c.get(f"/api/rooms/{code}/state", headers=hb).json()["players"] if p["alive"]]
                others = [x for x in alive if x not in (a["player_id"], b["player_id"])]
                for voter, headers in ((b["player_id"], hb), (a["player_id"], ha)):
                    if voter in alive:
                        target = (others or [x for x in alive if x != voter])[0]
                        c.post(f"/api/rooms/{code}/votes", json={"target_id": target}, headers=headers)
                c.post(f"/api/rooms/{code}/advance", headers=ha)
            c.delete(f"/api/rooms/{code}/players/{bot['player_id']}", headers=ha)
            _mr_white_game(c, code, {s["player_id"]: {"Authorization": f"Bearer {s['token']}"} for s in (a, b, cleo)})
            c.delete(f"/api/rooms/{code}/players/{a['player_id']}", headers=ha)
            last = c.get(f"/api/rooms/{code}/state", headers=hb).json()["last_event_id"]
            while True:
                frame = ws.receive_json()
                seen.setdefault(frame["type"], frame)
                if frame.get("id") == last:
                    break
    return seen


def _mr_white_game(c: TestClient, code: str, tokens: dict[str, dict[str, str]]) -> None:
    """Five humans with Mr. White: the REST-only ones have no live connection, so after the 2 s grace period
    stand-ins take their seats; one comes back; Mr. White is voted out and guesses."""
    host = next(iter(tokens.values()))
    for name in ("Dan", "Eve"):
        seat = c.post(f"/api/rooms/{code}/players", json={"name": name}).json()
        tokens[seat["player_id"]] = {"Authorization": f"Bearer {seat['token']}"}
    c.patch(f"/api/rooms/{code}/settings", json={"mr_white": True, "grace_seconds": 2}, headers=host)
    c.post(f"/api/rooms/{code}/start", headers=host)
    service = c.app.state.service  # type: ignore[attr-defined]
    portal = c.portal
    assert portal is not None
    roles = portal.call(service.read, code, lambda r: {p.id: p.role for p in r.players.values()})
    deadline = time.monotonic() + 10
    while not portal.call(service.read, code, lambda r: any(p.stand_in for p in r.players.values())):
        assert time.monotonic() < deadline, "no stand-in after the grace period"
        time.sleep(0.1)
    back = next(pid for pid in reversed(tokens) if pid in roles)
    c.get(f"/api/rooms/{code}/state", headers=tokens[back])  # back online: the stand-in leaves the seat
    mr_white = next(pid for pid, role in roles.items() if role == "mr_white")
    c.post(f"/api/rooms/{code}/advance", headers=host)
    for pid, headers in tokens.items():
        if pid != mr_white:
            c.post(f"/api/rooms/{code}/votes", json={"target_id": mr_white}, headers=headers)
    c.post(f"/api/rooms/{code}/advance", headers=host)
    assert c.get(f"/api/rooms/{code}/state", headers=host).json()["phase"] == "guess"
    assert c.post(f"/api/rooms/{code}/guess", json={"text": "Coffees"}, headers=tokens[mr_white]).status_code == 200


def test_every_server_frame_type_is_documented_with_a_well_formed_example() -> None:
    """Each frame type the server can send has a `#### type` section with a {id,type,ts,data,prev} example."""
    docs = documented_frames()
    assert set(FRAME_TYPES_OUT) <= set(docs), set(FRAME_TYPES_OUT) - set(docs)
    for name, frame in docs.items():
        assert set(frame) == set(FRAME_FIELDS) and frame["type"] == name
        assert (frame["prev"] is None) == (frame["id"] is None), name  # events link to the one before


def test_documented_examples_match_real_frames(tmp_path: Path) -> None:
    """The data keys of each documented example are exactly those of the frame a real game produces."""
    docs = documented_frames()
    real = play_and_capture(tmp_path)
    assert set(FRAME_TYPES_OUT) - set(real) <= {"config_changed"}, "the game covers every other type"
    for name, frame in real.items():
        assert set(frame["data"]) == set(docs[name]["data"]), name
        assert (frame["id"] is None) == (docs[name]["id"] is None), name
        assert (frame["prev"] is None) == (docs[name]["prev"] is None), name


def test_the_documented_prev_chain_is_what_a_real_game_sends(tmp_path: Path) -> None:
    """The `prev` example (Bob's socket and Alice's GET /events at a game's start) is what the server sends when
    the same game is played: each player's chain skips exactly the other players' private words."""
    text = DOC.read_text()
    found = re.search(r"<!-- prev-example -->\n```json\n(.*?)\n```", text, re.S)
    assert found, "no prev example in docs/protocol.md"
    documented = json.loads(found.group(1))
    app = create_app(make_settings(tmp_path), registry=CollectorRegistry())
    with TestClient(app) as c:
        alice = c.post("/api/rooms", json={"name": "Alice"}).json()
        code, ha = alice["room_code"], {"Authorization": f"Bearer {alice['token']}"}
        bob = c.post(f"/api/rooms/{code}/players", json={"name": "Bob"}).json()
        c.post(f"/api/rooms/{code}/players", json={"name": "Cleo"})
        with c.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json({"type": "hello", "player_id": bob["player_id"], "token": bob["token"], "last_event_id": 0})
            frames = [ws.receive_json()]
            while frames[-1]["type"] != "presence_changed":  # Bob's socket is online before the game starts
                frames.append(ws.receive_json())
            assert c.post(f"/api/rooms/{code}/start", headers=ha).status_code == 200
            clue = c.post(f"/api/rooms/{code}/clues", json={"text": "hmm let me think"}, headers=ha)
            assert clue.status_code == 200, clue.text
            while frames[-1]["type"] != "clue_posted":
                frames.append(ws.receive_json())
        alice_events = c.get(f"/api/rooms/{code}/events?after=0", headers=ha).json()["events"]
    bob_socket = [[f["id"], f["type"], f["prev"]] for f in frames if f["id"] is not None]
    assert bob_socket == documented["bob_socket"]
    upto = bob_socket[-1][0]
    assert [[e["id"], e["type"], e["prev"]] for e in alice_events if e["id"] <= upto] == documented["alice_events"]

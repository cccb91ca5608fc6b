"""Hostile input before and after auth: deep JSON, ids past anything handed out, look-alike and invisible names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from backend.main import create_app
from launchers.redis import RedisServer, redis_available, run_redis
from tests.backend.api.conftest import auth, make_settings, seat

HUGE = 10**25


def hello(s: dict[str, str], last: Any = None) -> dict[str, Any]:
    return {"type": "hello", "player_id": s["player_id"], "token": s["token"], "last_event_id": last}


def test_deeply_nested_frame_before_hello_is_an_error_frame(client: TestClient) -> None:
    """'[' * 5000 as the first frame is answered with malformed_json (no RecursionError), and hello still works."""
    host = seat(client, "Alice")
    with client.websocket_connect(f"/ws/{host['room_code']}") as ws:
        ws.send_text("[" * 5000)
        error = ws.receive_json()
        assert error["type"] == "error" and error["data"]["code"] == "malformed_json"
        ws.send_json(hello(host))
        assert ws.receive_json()["type"] == "welcome"


def test_events_after_an_impossible_id_is_a_422(client: TestClient) -> None:
    """?after= beyond 2**53-1 is refused as a validation error before the store is asked."""
    host = seat(client, "Alice")
    resp = client.get(f"/api/rooms/{host['room_code']}/events", params={"after": HUGE}, headers=auth(host))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("redis-server is not installed")
    with run_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.mark.redis
def test_huge_ids_never_reach_redis_or_the_store_error_counter(tmp_path: Path, redis_server: RedisServer) -> None:
    """after=10**25 (REST) and a hello with that id: a 422 / bad_hello frame, no 503, no store error counted."""
    registry = CollectorRegistry()
    app = create_app(make_settings(tmp_path, store_url=redis_server.url), registry=registry)
    with TestClient(app) as client:
        host = seat(client, "Alice")
        code = host["room_code"]
        resp = client.get(f"/api/rooms/{code}/events", params={"after": HUGE}, headers=auth(host))
        assert resp.status_code == 422, resp.text
        with client.websocket_connect(f"/ws/{code}") as ws:
            ws.send_json(hello(host, HUGE))
            error = ws.receive_json()
            assert error["type"] == "error" and error["data"]["code"] == "bad_hello"
            ws.send_json(hello(host, 0))
            assert ws.receive_json()["data"]["recovered"] is True
        for op in ("read", "write", "subscribe"):
            assert not registry.get_sample_value("parlor_store_errors_total", {"op": op})


LOOKALIKES = [
    pytest.param("Zed\u3164", id="hangul-filler-suffix"),
    pytest.param("\u0417ed", id="cyrillic-ze"),
    pytest.param("Z\u034fed", id="combining-grapheme-joiner"),
    pytest.param("\u3164", id="hangul-filler-alone"),
    pytest.param("\u2124ed", id="double-struck-z"),
    pytest.param("zED", id="case"),
    pytest.param("\u0301\u0301", id="marks-only"),
    pytest.param("Ze\u200dd", id="zero-width-joiner"),
]


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_name_that_looks_like_another_or_hides_is_refused(client: TestClient, name: str) -> None:
    """Next to "Zed": invisible, mixed-script, mark-only and confusable names get a 4xx JSON error."""
    host = seat(client, "Zed")
    resp = client.post(f"/api/rooms/{host['room_code']}/players", json={"name": name})
    assert resp.status_code in (409, 422), resp.text
    assert resp.json()["error"]["code"] in ("name_taken", "validation_error")


def test_names_are_stored_nfkc_and_ordinary_names_still_join(client: TestClient) -> None:
    """Fullwidth letters are folded by NFKC; accented, non-Latin and punctuated names are welcome."""
    host = seat(client, "\uff21nn")  # fullwidth A
    code = host["room_code"]
    for name in ("Zoë", "José María", "O'Brien", "日本", "Đorđe", "Ζεύς"):
        seat(client, name, code)
    names = {p["name"] for p in client.get(f"/api/rooms/{code}/state", headers=auth(host)).json()["players"]}
    assert "Ann" in names and "Zoë" in names


def test_own_word_rule_sees_through_invisible_and_lookalike_characters(client: TestClient) -> None:
    """A clue with U+034F inside the player's word, or the word in look-alike letters, is refused."""
    host = seat(client, "Alice")
    code = host["room_code"]
    others = [seat(client, n, code) for n in ("Bob", "Cyd")]
    assert client.post(f"/api/rooms/{code}/start", headers=auth(host)).status_code == 200
    word = client.get(f"/api/rooms/{code}/state", headers=auth(others[0])).json()["you"]["word"]
    hidden = word[0] + "\u034f" + word[1:]
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": f"it is {hidden}"}, headers=auth(others[0]))
    assert resp.status_code == 422, resp.text
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    resp = client.post(f"/api/rooms/{code}/clues", json={"text": f"it is {fullwidth}"}, headers=auth(others[0]))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "clue_contains_word", resp.text

"""Property-based fuzzing against a real server, bounded in time.

Every REST operation of the server's own OpenAPI schema (schemathesis, a few cases each, with a real seat's
token so authenticated paths are reached) and WebSocket frames before and after `hello` (hypothesis): no 5xx
but the documented 503s, no traceback in the server's log, and a game still plays afterwards. The cases
tried per operation are written to the terminal summary (and `fuzz-cases.json` in the test's tmp dir).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchers.backend import Backend, run_backend

# A bound in cases and in time: on a loaded machine the time budget ends an operation's run early, but every
# operation always gets its first cases (the counts below are what was really sent, per operation).
CASES_PER_OPERATION = 8
REST_BUDGET_SECONDS = 45.0  # shared evenly by the operations
WS_EXAMPLES = 30
WS_BUDGET_SECONDS = 20.0
MIN_CASES = 2
DOCUMENTED_503 = {"too_many_rooms", "store_unavailable", "store_contended", "draining"}
TRIED: Counter[str] = Counter()
DEADLINE: dict[str, float] = {}  # operation -> when its share of the budget is spent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Backend]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with run_backend({"TEST_HOOKS": "false"}, tmp=tmp) as backend:
        yield backend
    (tmp / "fuzz-cases.json").write_text(json.dumps(dict(TRIED), indent=1))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        total = sum(TRIED.values())
        reporter.write_line(f"fuzz: {total} cases over {len(TRIED)} operations")
        for label, n in sorted(TRIED.items()):
            reporter.write_line(f"fuzz:   {n:4d}  {label}")


@pytest.fixture(scope="module")
def seat(server: Backend) -> dict[str, str]:
    resp = httpx.post(server.url + "/api/rooms", json={"name": "Fuzz"})
    assert resp.status_code == 201
    body: dict[str, str] = resp.json()
    return body


def _assert_no_server_error(resp: Any) -> None:
    if resp.status_code == 503:
        assert resp.json()["error"]["code"] in DOCUMENTED_503, resp.text
    else:
        assert resp.status_code < 500, f"{resp.status_code} {resp.text[:300]}"


def test_every_rest_operation_answers_without_a_server_error(server: Backend, seat: dict[str, str]) -> None:
    """Each operation of the live schema gets generated requests (every other one with the seat's room code
    and token, so authenticated paths are reached): 2xx/4xx JSON, or a documented 503, never a 500."""
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, [op.label for op in operations]
    share = REST_BUDGET_SECONDS / len(operations)
    for operation in operations:
        DEADLINE[operation.label] = time.monotonic() + share

        @settings(
            max_examples=CASES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            label = case.operation.label
            if TRIED[label] >= MIN_CASES and time.monotonic() > DEADLINE[label]:
                return  # this operation's share of the budget is spent
            TRIED[label] += 1
            headers = dict(case.headers or {})
            if TRIED[label] % 2 == 0:
                headers["Authorization"] = f"Bearer {seat['token']}"
                if case.path_parameters and "code" in case.path_parameters:
                    case.path_parameters["code"] = seat["room_code"]
            case.headers = headers
            _assert_no_server_error(case.call(base_url=server.url, timeout=35))

        fuzz()
    assert all(TRIED[op.label] >= 1 for op in operations)


frames = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    ).map(lambda value: json.dumps(value)),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["hello", "ping", "vote", "x"])},
        optional={
            "player_id": st.text(max_size=30),
            "token": st.text(max_size=40),
            "last_event_id": st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5)),
            "epoch": st.one_of(st.none(), st.text(max_size=80), st.integers()),
            "t": st.one_of(st.none(), st.floats(allow_nan=False), st.text(max_size=5)),
        },
    ).map(json.dumps),
)


@settings(max_examples=WS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(before=st.lists(frames, min_size=1, max_size=3), after=st.lists(frames, max_size=3))
def test_websocket_frames_get_error_frames_or_close_codes(
    server: Backend, seat: dict[str, str], before: list[str | bytes], after: list[str | bytes]
) -> None:
    """Frames before a real hello and after it: the server answers or closes with a code, never a 1011."""
    label = "WS /ws/{code}"
    until = DEADLINE.setdefault(label, time.monotonic() + WS_BUDGET_SECONDS)
    if TRIED[label] >= MIN_CASES and time.monotonic() > until:
        return  # the WebSocket budget is spent
    TRIED[label] += 1

    async def run() -> None:
        async with websockets.connect(f"{server.ws_url}/ws/{seat['room_code']}", max_size=2**22) as ws:
            try:
                for frame in before:
                    await ws.send(frame)
                hello = {"type": "hello", "player_id": seat["player_id"], "token": seat["token"]}
                await ws.send(json.dumps(hello))
                for frame in after:
                    await ws.send(frame)
                await ws.send(json.dumps({"type": "ping", "t": 1}))
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if reply["type"] == "pong":
                        return
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                assert code in (1009, 4400, 4401, 4408, 1013), code

    asyncio.run(run())


def test_the_server_still_plays_a_game_and_logged_no_traceback(server: Backend) -> None:
    """After the fuzzing: a new room fills, starts and takes a clue; the log has no traceback."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        host = http.post("/api/rooms", json={"name": "After"}).json()
        code = host["room_code"]
        for name in ("Bea", "Cy"):
            assert http.post(f"/api/rooms/{code}/players", json={"name": name}).status_code == 201
        auth = {"Authorization": f"Bearer {host['token']}"}
        assert http.post(f"/api/rooms/{code}/start", headers=auth).status_code == 200
        assert http.post(f"/api/rooms/{code}/clues", json={"text": "a fine clue"}, headers=auth).status_code == 200
    log = server.log()
    assert "Traceback" not in log, log[-3000:]

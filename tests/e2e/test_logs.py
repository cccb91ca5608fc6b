"""The log lines a real backend writes (LOG_FORMAT=json): their fields, their request ids, and never a token."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from backend.flags import write_flag_file
from backend.realtime.protocol import CloseCode
from launchers.backend import backend_env, backend_server
from launchers.process import PYTHON, ROOT, Server, running
from tests.conftest import scaled
from tests.e2e.test_game_flow import play_to_game_over
from tests.support.client import WsPlayer, act, create_room, join_room

ADMIN_TOKEN = "admin-token-for-the-log-test-0123456789"
BASE_FIELDS = {"time", "level", "logger", "message"}


def records(text: str) -> list[dict[str, Any]]:
    """Every line of a JSON log, parsed: a line that is not a JSON object with the base fields fails the test."""
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    for line, record in zip(lines, parsed, strict=True):
        assert isinstance(record, dict) and record.keys() >= BASE_FIELDS, line
    return parsed


def wait_record(server: Server, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        found = [r for r in records(server.log()) if pred(r)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise TimeoutError(f"no such log record within {timeout} s; last lines:\n{server.log_tail()}")


def json_backend(tmp: Path, env: dict[str, str]) -> Server:
    """A backend with JSON logs and uvicorn's access lines on (the launcher's default keeps them off)."""
    full = backend_env({"LOG_FORMAT": "json", "LOG_LEVEL": "info", **env}, tmp)
    return backend_server(full, tmp=tmp, args=("--log-level", "info"))


async def test_a_full_game_logs_request_ids_rooms_players_and_never_a_token(tmp_path: Path) -> None:
    """A whole game, a refused request, an admin call and a flag flip: JSON lines with their fields, no token."""
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=100)
    with running(json_backend(tmp_path, {"FLAGS_FILE": str(flags), "ADMIN_TOKEN": ADMIN_TOKEN})) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
            refused = await http.get("/api/rooms/QQQQQ", headers={"X-Request-ID": "req-refused-1"})
            assert refused.status_code == 404
            assert refused.headers["x-request-id"] == "req-refused-1"
            assert refused.json()["error"]["request_id"] == "req-refused-1"

            alice = await create_room(http, "Alice")
            bob = await join_room(http, alice.room_code, "Bob")
            players = [WsPlayer(backend.ws_url, alice), WsPlayer(backend.ws_url, bob)]
            for player in players:
                await player.connect(last_event_id=0)
            assert (await act(http, alice, "bots")).status_code == 201
            settings = {"discussion_seconds": 10, "voting_seconds": 5}
            assert (await act(http, alice, "settings", settings, method="PATCH")).status_code == 200
            started = await act(http, alice, "start")
            assert started.status_code == 200 and len(started.headers["x-request-id"]) == 32
            await play_to_game_over(http, players)
            admin = await http.get("/api/admin/flags", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert admin.status_code == 200
            for player in players:
                await player.close()

            paths = ["--file", str(flags), "--audit-log", str(tmp_path / "flags-audit.jsonl")]  # the backend's
            cli = subprocess.run(
                [PYTHON, "-m", "backend.flags", *paths, "set-rollout", "40", "--reason", "log test", "--actor", "sre"],
                cwd=ROOT,
                env=backend_env({"LOG_FORMAT": "json"}, tmp_path),
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert cli.returncode == 0, cli.stderr
            (cli_record,) = [r for r in records(cli.stderr) if r["logger"] == "parlor.flags"]
            assert cli_record["actor"] == "sre" and cli_record["reason"] == "log test" and cli_record["percent"] == 40
            flip = wait_record(backend, lambda r: r["logger"] == "backend.flags.transport" and r.get("percent") == 40)
            assert flip["level"] == "info" and flip["flag"] == "websocket-transport"
            closed = wait_record(backend, lambda r: r["message"].startswith("socket closed"))
            # the dashboards annotate the flip with who and why, from the audit record the backend read
            scraped = (await http.get("/metrics")).text
            assert 'parlor_flag_last_change_timestamp_seconds{actor="sre",reason="log test"}' in scraped
        log = backend.log()

    lines = records(log)
    rejected = [r for r in lines if r.get("request_id") == "req-refused-1"]
    assert {r["logger"] for r in rejected} == {"backend.api.errors", "uvicorn.access"}, rejected
    access = next(r for r in rejected if r["logger"] == "uvicorn.access")
    assert access["status"] == 404 and access["room"] == "QQQQQ" and access["duration_s"] >= 0
    assert access["path"] == "/api/rooms/QQQQQ" and access["method"] == "GET"
    refusal = next(r for r in rejected if r["logger"] == "backend.api.errors")
    assert refusal["code"] == "unknown_room" and refusal["status"] == 404

    moves = [r for r in lines if r["logger"] == "uvicorn.access" and r.get("path", "").endswith("/clues")]
    seated = (alice.player_id, bob.player_id)
    assert moves and all(r["room"] == alice.room_code and r["player"] in seated for r in moves)
    assert closed["transport"] == "websocket" and closed["room"] == alice.room_code
    assert closed["player"] in (alice.player_id, bob.player_id)
    assert closed["close_code"] == 1000 and closed["duration_s"] > 0 and closed["reason"] == "client_close"

    secrets = [alice.token, bob.token, ADMIN_TOKEN]
    assert all(secret not in log for secret in secrets), "a token reached the log"
    assert all(secret not in cli.stdout + cli.stderr for secret in secrets)


async def test_room_expiry_and_drain_are_logged_with_their_fields(tmp_path: Path) -> None:
    """A deserted lobby expires (room, idle_s); SIGTERM logs the drain and each socket closed with 1012."""
    env = {"LOBBY_IDLE_SECONDS": "1", "DRAIN_SECONDS": "0.2"}
    server = json_backend(tmp_path, env)
    with running(server):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            deserted = await create_room(http, "Nobody")
            expired = wait_record(server, lambda r: r["message"].startswith(f"room {deserted.room_code} expired"))
            assert expired["room"] == deserted.room_code and expired["idle_s"] >= 1
            assert expired["logger"] == "backend.service" and expired["level"] == "info"

            host = await create_room(http, "Host")
            player = WsPlayer(server.ws_url, host)
            await player.connect(last_event_id=0)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            assert await player.wait_closed(scaled(10)) == CloseCode.RESTART
            await asyncio.to_thread(server.process.wait, scaled(20))
    lines = records(server.log())
    start = next(r for r in lines if r["message"].startswith("SIGTERM: draining"))
    assert start["logger"] == "parlor.drain" and start["close_code"] == CloseCode.RESTART and start["window_s"] == 0.2
    done = next(r for r in lines if r["message"].startswith("drained"))
    assert done["sockets"] == 1 and done["duration_s"] >= 0
    closed = next(r for r in lines if r["message"].startswith("socket closed"))
    assert closed["close_code"] == CloseCode.RESTART and closed["reason"] == "server_restart"
    assert closed["room"] == host.room_code and closed["player"] == host.player_id and closed["request_id"]

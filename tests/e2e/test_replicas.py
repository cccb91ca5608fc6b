"""Two backend processes on one Redis: presence, kicks and retried moves behave the same on every replica."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launchers.backend import Backend, run_backend
from launchers.redis import redis_available, run_redis
from tests.conftest import scaled
from tests.support.client import Seat, WsPlayer

pytestmark = [pytest.mark.redis, pytest.mark.skipif(not redis_available(), reason="needs redis-server")]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Backend]]:
    tmp: Path = tmp_path_factory.mktemp("replicas")
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(run_redis(tmp))
        env = {"STORE_URL": redis.url, "PRESENCE_TIMEOUT_SECONDS": "1"}
        a = stack.enter_context(run_backend(env, tmp=tmp))
        b = stack.enter_context(run_backend(env, tmp=tmp))
        yield a, b


def http_from(backend: Backend, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=backend.url, transport=httpx.AsyncHTTPTransport(local_address=address), timeout=10
    )


async def seat(http: httpx.AsyncClient, name: str, code: str | None = None) -> Seat:
    resp = await (
        http.post("/api/rooms", json={"name": name})
        if code is None
        else http.post(f"/api/rooms/{code}/players", json={"name": name})
    )
    assert resp.status_code == 201, resp.text
    return Seat(**resp.json())


async def test_a_poll_on_another_replica_never_shows_a_connected_player_offline(
    replicas: tuple[Backend, Backend],
) -> None:
    """Bob's socket is on A; one GET /events of his lands on B (as after every reconnect): long after B's
    presence timeout he is still shown online, because the live socket owns his presence."""
    a, b = replicas
    async with http_from(a, "127.0.0.41") as on_a, http_from(b, "127.0.0.41") as on_b:
        host = await seat(on_a, "Alice")
        bob = await seat(on_a, "Bob", host.room_code)
        player = WsPlayer(a.ws_url, bob)
        await player.connect()
        await player.wait_for(lambda f: f["type"] == "presence_changed" and f["data"]["online"])
        assert (await on_b.get(f"/api/rooms/{bob.room_code}/events", headers=bob.auth)).status_code == 200
        await asyncio.sleep(scaled(3.5))  # B's presence timeout (1 s) and upkeep (1 s) have run
        state = (await on_a.get(f"/api/rooms/{host.room_code}/state", headers=host.auth)).json()
        assert {p["name"]: p["online"] for p in state["players"]}["Bob"] is True
        assert not [f for f in player.frames if f["type"] == "presence_changed" and not f["data"]["online"]]
        await player.close()


async def test_a_kick_closes_the_socket_on_the_other_replica_and_bans_name_and_address(
    replicas: tuple[Backend, Backend],
) -> None:
    """The host kicks Bob on A while Bob's socket is on B: B closes it with 4401 and sends him nothing more;
    Bob cannot come back under his name, a look-alike of it, or another name from his address."""
    a, b = replicas
    async with http_from(a, "127.0.0.42") as host_http, http_from(b, "127.0.0.43") as bob_http:
        host = await seat(host_http, "Alice")
        bob = await seat(bob_http, "Bob", host.room_code)
        player = WsPlayer(b.ws_url, bob)
        await player.connect()
        resp = await host_http.delete(f"/api/rooms/{host.room_code}/players/{bob.player_id}", headers=host.auth)
        assert resp.status_code == 200
        assert await player.wait_closed(scaled(5)) == 4401
        for name in ("Bob", "B\u043eb", "Robert"):  # the second with a Cyrillic o
            again = await bob_http.post(f"/api/rooms/{host.room_code}/players", json={"name": name})
            assert again.status_code in (403, 422), (name, again.text)
        banned = await bob_http.post(f"/api/rooms/{host.room_code}/players", json={"name": "Robert"})
        assert banned.json()["error"]["code"] == "banned"
        async with http_from(a, "127.0.0.44") as other:
            assert (await other.post(f"/api/rooms/{host.room_code}/players", json={"name": "Carol"})).status_code == 201


async def test_a_retried_move_is_applied_once_on_any_replica(replicas: tuple[Backend, Backend]) -> None:
    """The same Idempotency-Key sent to A and then to B: one bot, and both answers are the first one."""
    a, b = replicas
    async with http_from(a, "127.0.0.45") as on_a, http_from(b, "127.0.0.45") as on_b:
        host = await seat(on_a, "Alice")
        headers = {**host.auth, "Idempotency-Key": "move-0001"}
        first = await on_a.post(f"/api/rooms/{host.room_code}/bots", headers=headers)
        retry = await on_b.post(f"/api/rooms/{host.room_code}/bots", headers=headers)
        assert first.status_code == retry.status_code == 201
        assert first.json() == retry.json()
        other = await on_b.post(f"/api/rooms/{host.room_code}/bots", headers={**host.auth, "Idempotency-Key": "x2"})
        assert other.json()["player_id"] != first.json()["player_id"]
        state = (await on_a.get(f"/api/rooms/{host.room_code}/state", headers=host.auth)).json()
        assert sum(p["is_bot"] for p in state["players"]) == 2

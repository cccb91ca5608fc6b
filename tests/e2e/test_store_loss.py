"""Redis losing data under a live game: rooms that vanished close their sockets, rewritten logs get a new epoch."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from launchers.backend import Backend, run_backend
from launchers.redis import RedisServer, redis_available, run_redis
from tests.conftest import scaled
from tests.support.client import Seat, WsPlayer, create_room, join_room

pytestmark = [pytest.mark.redis, pytest.mark.skipif(not redis_available(), reason="needs redis-server")]


@pytest.fixture
def redis_and_backend(tmp_path: Path) -> Iterator[tuple[RedisServer, Backend]]:
    with run_redis(tmp_path) as redis, run_backend({"STORE_URL": redis.url}, tmp=tmp_path) as backend:
        yield redis, backend


def _redis_command(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        return sock.recv(64)


async def past_503(request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The answer to `request`, sent again on a 503: a loaded machine's Redis (or one that has just restarted)
    may time out once, and a client retries."""
    for _ in range(5):
        resp = await request()
        if resp.status_code != 503:
            return resp
        await asyncio.sleep(0.5)
    return resp


async def add_bot(http: httpx.AsyncClient, host: Seat, key: str) -> httpx.Response:
    """Add a bot, retrying a 503 under one Idempotency-Key."""
    headers = {**host.auth, "Idempotency-Key": key}
    return await past_503(lambda: http.post(f"/api/rooms/{host.room_code}/bots", headers=headers))


async def get_state(http: httpx.AsyncClient, seat: Seat) -> httpx.Response:
    return await past_503(lambda: http.get(f"/api/rooms/{seat.room_code}/state", headers=seat.auth))


async def _until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("condition not met")


async def test_redis_restarted_empty_closes_sockets_with_unknown_room(
    redis_and_backend: tuple[RedisServer, Backend],
) -> None:
    """Redis back empty: the room's sockets close with 4404, /state is 404, and /readyz is honest throughout."""
    redis, backend = redis_and_backend
    async with httpx.AsyncClient(base_url=backend.url, timeout=5) as http:
        host = await create_room(http, "Alice")
        player = WsPlayer(backend.ws_url, host)
        await player.connect()
        await player.wait_for(lambda f: f["type"] == "presence_changed")  # its own presence write is done
        redis.stop()
        assert (await http.get("/readyz")).status_code == 503
        redis.start()

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await _until(ready, 15)
        assert await player.wait_closed(scaled(10)) == 4404
        gone = await get_state(http, host)
        assert gone.status_code == 404, (gone.status_code, gone.text, backend.log()[-3000:])
        fresh = await create_room(http, "Bob")  # and the server serves new games
        served = await get_state(http, fresh)
        assert served.status_code == 200, (served.status_code, served.text, backend.log()[-3000:])
    assert "Traceback" not in backend.log()


async def test_redis_back_from_an_older_copy_gives_the_room_a_new_epoch(
    redis_and_backend: tuple[RedisServer, Backend],
) -> None:
    """Redis restarts from a snapshot older than what clients saw: sockets resync (recovered false, new epoch)
    and the events that reuse the lost ids reach them."""
    redis, backend = redis_and_backend
    async with httpx.AsyncClient(base_url=backend.url, timeout=5) as http:
        host = await create_room(http, "Alice")
        bob = await join_room(http, host.room_code, "Bob")
        player = WsPlayer(backend.ws_url, bob)
        welcome = await player.connect(last_event_id=None)
        old_epoch = welcome["data"]["epoch"]
        assert _redis_command(redis.port, b"SAVE\r\n").startswith(b"+OK")
        for n in range(3):
            assert (await add_bot(http, host, f"bot-{n}")).status_code == 201
        await player.wait_for(lambda f: f["type"] == "player_joined" and f["data"]["player"]["is_bot"])
        seen = player.last_event_id
        assert redis.process is not None
        redis.process.kill()  # a crash: the last writes never reached the snapshot
        redis.process.wait(5)
        redis.start()
        assert await player.wait_closed(scaled(15)) == 1012
        again = WsPlayer(backend.ws_url, bob)
        welcome = await again.connect(last_event_id=seen, epoch=old_epoch)
        assert welcome["data"]["recovered"] is False and welcome["data"]["epoch"] != old_epoch
        snap = await again.wait_for(lambda f: f["type"] == "snapshot")
        assert snap["data"]["last_event_id"] < seen
        assert (await add_bot(http, host, "bot-after")).status_code == 201
        joined = await again.wait_for(lambda f: f["type"] == "player_joined")
        assert joined["id"] <= seen  # an id this client had seen before, from the lost history
        await again.close()
    assert "Traceback" not in backend.log()

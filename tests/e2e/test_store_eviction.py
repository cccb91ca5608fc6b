"""A store Redis that can empty silently: an evicting policy makes the backend not ready (with a metric), and a
room flushed under a live socket closes it with 4404 within 5 s while the subscription stays up."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from backend.main import create_app
from backend.realtime.protocol import CloseCode
from backend.store.redis_shared import answers_key, log_key, room_key
from launchers.backend import Backend, run_backend
from launchers.process import scaled
from launchers.redis import RedisServer, redis_available, run_redis
from tests.backend.api.conftest import make_settings
from tests.support.client import WsPlayer, create_room

pytestmark = [pytest.mark.redis, pytest.mark.skipif(not redis_available(), reason="needs redis-server")]


@pytest.fixture
def lru_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server configured as a cache (maxmemory with allkeys-lru) before the backend starts."""
    with run_redis(tmp_path) as redis:
        admin = aioredis.Redis(host="127.0.0.1", port=redis.port)
        asyncio.run(_configure(admin, maxmemory="64mb", policy="allkeys-lru"))
        yield redis


async def _configure(admin: aioredis.Redis, *, maxmemory: str, policy: str) -> None:
    await admin.config_set("maxmemory", maxmemory)
    await admin.config_set("maxmemory-policy", policy)
    await admin.aclose()


def test_an_allkeys_lru_redis_makes_the_backend_not_ready_until_fixed(
    lru_redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Started on allkeys-lru: a clear log line, /readyz 503 naming the policy, the gauge at 1; CONFIG SET
    noeviction at run time makes it ready again (gauge 0) without a restart."""
    registry = CollectorRegistry()
    app = create_app(make_settings(tmp_path, store_url=lru_redis.url), registry=registry)
    with caplog.at_level(logging.ERROR, logger="backend.store.redis"), TestClient(app) as client:
        assert "maxmemory-policy allkeys-lru can evict room keys" in caplog.text
        resp = client.get("/readyz")
        assert resp.status_code == 503 and "allkeys-lru" in resp.json()["status"], resp.text
        assert registry.get_sample_value("parlor_store_eviction_unsafe") == 1
        admin = aioredis.Redis(host="127.0.0.1", port=lru_redis.port)
        client.portal.call(functools.partial(_configure, admin, maxmemory="64mb", policy="noeviction"))  # type: ignore[union-attr]
        resp = client.get("/readyz")
        assert resp.status_code == 200 and resp.json() == {"status": "ready"}
        assert registry.get_sample_value("parlor_store_eviction_unsafe") == 0


@pytest.fixture
def redis_and_backend(tmp_path: Path) -> Iterator[tuple[RedisServer, Backend]]:
    with run_redis(tmp_path) as redis, run_backend({"STORE_URL": redis.url}, tmp=tmp_path) as backend:
        yield redis, backend


async def closed_within(player: WsPlayer, seconds: float) -> tuple[int | None, float]:
    start = time.monotonic()
    code = await player.wait_closed(scaled(seconds) + 1)
    return code, time.monotonic() - start


async def test_rooms_flushed_under_live_sockets_close_them_with_4404_within_5_s(
    redis_and_backend: tuple[RedisServer, Backend],
) -> None:
    """One room's keys deleted (as eviction does): its socket closes 4404 within 5 s, the other room's stays
    open; then FLUSHALL: the other closes 4404 within 5 s too. No resume, no reconnect of the subscription."""
    redis, backend = redis_and_backend
    async with httpx.AsyncClient(base_url=backend.url, timeout=5) as http:
        seats = [await create_room(http, name) for name in ("Alice", "Bob")]
        players = [WsPlayer(backend.ws_url, seat) for seat in seats]
        for player in players:
            await player.connect()
            await player.wait_for(lambda f: f["type"] == "presence_changed")
        admin = aioredis.Redis(host="127.0.0.1", port=redis.port)
        gone = seats[0].room_code
        await admin.delete(room_key(gone), log_key(gone), answers_key(gone))
        code, took = await closed_within(players[0], 5)
        assert code == CloseCode.UNKNOWN_ROOM and took <= scaled(5), (code, took)
        assert players[1].close_code is None
        await admin.flushall()
        await admin.aclose()
        code, took = await closed_within(players[1], 5)
        assert code == CloseCode.UNKNOWN_ROOM and took <= scaled(5), (code, took)
        resp = await http.get(f"/api/rooms/{gone}/state", headers=seats[0].auth)
        assert resp.status_code == 404
    assert "Traceback" not in backend.log()

"""The `store` fixture runs each store test against both implementations: memory and a real Redis."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from backend.metrics import Metrics
from backend.store import Store
from backend.store.memory import MemoryStore
from launchers.redis import RedisServer, redis_available, run_redis

LOG_SIZE = 10

StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("redis-server is not installed")
    workdir: Path = tmp_path_factory.mktemp("redis")
    with run_redis(workdir) as server:
        yield server


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry)


@pytest.fixture
async def redis_stores(redis_server: RedisServer, metrics: Metrics) -> AsyncIterator[StoreFactory]:
    """Builds started RedisStores on one freshly flushed Redis (several of them play separate processes)."""
    async with _redis_stores(redis_server, metrics) as make:
        yield make


@contextlib.asynccontextmanager
async def _redis_stores(server: RedisServer, metrics: Metrics) -> AsyncIterator[StoreFactory]:
    from backend.store.redis import RedisStore

    admin = aioredis.from_url(server.url)
    await admin.flushall()
    await admin.aclose()
    started: list[RedisStore] = []

    async def make() -> Store:
        store = RedisStore(server.url, log_size=LOG_SIZE, metrics=metrics)
        await store.start()
        started.append(store)
        return store

    try:
        yield make
    finally:
        for store in started:
            await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, metrics: Metrics) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore(log_size=LOG_SIZE)
        await memory.start()
        yield memory
        await memory.close()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    async with _redis_stores(server, metrics) as make:
        yield await make()

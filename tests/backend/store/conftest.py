"""The `store` fixture runs each store test against both implementations: memory and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from backend.metrics import Metrics
from backend.store import Store
from backend.store.memory import MemoryStore
from tests.support.redis import RedisServer, redis_available, run_redis

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
    from backend.store.redis import RedisStore

    flusher = RedisStore(redis_server.url, metrics=metrics)
    await flusher._redis.flushall()
    await flusher.close()
    started: list[RedisStore] = []

    async def make() -> Store:
        store = RedisStore(redis_server.url, log_size=LOG_SIZE, metrics=metrics)
        await store.start()
        started.append(store)
        return store

    yield make
    for store in started:
        await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore(log_size=LOG_SIZE)
        await memory.start()
        yield memory
        await memory.close()
        return
    make: StoreFactory = request.getfixturevalue("redis_stores")
    yield await make()

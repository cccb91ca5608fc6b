"""The `store` fixture runs each store test against every implementation: memory, one real Redis and a real
3-master Redis Cluster; `redis_stores` builds several Redis stores (separate processes) on one or the other."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from backend.metrics import Metrics
from backend.store import Store
from backend.store.memory import MemoryStore
from launchers.redis import RedisServer, redis_available, run_redis
from launchers.redis_cluster import RedisClusterServers, cluster_available, run_redis_cluster

LOG_SIZE = 10

StoreFactory = Callable[[], Awaitable[Store]]


@dataclass(frozen=True)
class RedisTarget:
    """Where Redis stores connect, and every node's port (for admin commands such as FLUSHALL, CLIENT KILL)."""

    url: str
    ports: list[int]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("redis-server is not installed")
    workdir: Path = tmp_path_factory.mktemp("redis")
    with run_redis(workdir) as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    if not cluster_available():
        pytest.skip("redis-server and redis-cli are not installed")
    with run_redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(params=["redis", "cluster"])
def redis_target(request: pytest.FixtureRequest) -> RedisTarget:
    return _target(request, request.param)


def _target(request: pytest.FixtureRequest, kind: str) -> RedisTarget:
    if kind == "cluster":
        cluster: RedisClusterServers = request.getfixturevalue("redis_cluster")
        return RedisTarget(cluster.url, cluster.ports)
    server: RedisServer = request.getfixturevalue("redis_server")
    return RedisTarget(server.url, [server.port])


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry)


@pytest.fixture
async def redis_stores(redis_target: RedisTarget, metrics: Metrics) -> AsyncIterator[StoreFactory]:
    """Builds started RedisStores on freshly flushed Redis (several of them play separate processes)."""
    async with _redis_stores(redis_target, metrics) as make:
        yield make


async def flush(target: RedisTarget) -> None:
    for port in target.ports:
        admin = aioredis.Redis(host="127.0.0.1", port=port)
        await admin.flushall()
        await admin.aclose()


@contextlib.asynccontextmanager
async def _redis_stores(target: RedisTarget, metrics: Metrics) -> AsyncIterator[StoreFactory]:
    from backend.store.redis import RedisStore

    await flush(target)
    started: list[RedisStore] = []

    async def make() -> Store:
        store = RedisStore(target.url, log_size=LOG_SIZE, metrics=metrics)
        await store.start()
        started.append(store)
        return store

    try:
        yield make
    finally:
        for store in started:
            await store.close()


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.redis)]
)
async def store(request: pytest.FixtureRequest, metrics: Metrics) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore(log_size=LOG_SIZE)
        await memory.start()
        yield memory
        await memory.close()
        return
    async with _redis_stores(_target(request, request.param), metrics) as make:
        yield await make()

"""Silent losses: a Redis whose policy can evict room keys is reported, and rooms that vanish while the
subscription stays up (FLUSHALL, eviction) reach the reset listeners on the next read or within seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from backend.core.errors import NotFound
from backend.store.redis import RedisStore
from backend.store.redis_losses import VANISH_CHECK_SECONDS
from backend.store.redis_shared import answers_key, log_key, room_key
from launchers.process import scaled
from tests.backend.store.conftest import RedisTarget, StoreFactory
from tests.backend.store.test_redis_store import admin_client
from tests.backend.store.test_store import NOW, bump, clue_once, new_room, note, with_deadline

pytestmark = pytest.mark.redis


@pytest.fixture
async def policy(redis_target: RedisTarget) -> AsyncIterator[list[aioredis.Redis]]:
    """Admin clients on every node; each node's maxmemory-policy is put back to noeviction afterwards."""
    nodes = [aioredis.Redis(host="127.0.0.1", port=port, decode_responses=True) for port in redis_target.ports]
    try:
        yield nodes
    finally:
        for node in nodes:
            await node.config_set("maxmemory-policy", "noeviction")
            await node.aclose()


def losses(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("parlor_store_data_losses_total") or 0.0


async def test_an_allkeys_policy_on_any_node_is_an_eviction_hazard(
    redis_stores: StoreFactory, policy: list[aioredis.Redis], registry: CollectorRegistry
) -> None:
    """noeviction and volatile-lru are safe (Parlor sets no TTL); allkeys-lru on one node is named, and the gauge
    says 1 until the policy is put back."""
    store = await redis_stores()
    assert isinstance(store, RedisStore)
    await policy[-1].config_set("maxmemory-policy", "volatile-lru")
    assert await store.eviction_hazard() is None
    assert registry.get_sample_value("parlor_store_eviction_unsafe") == 0
    await policy[-1].config_set("maxmemory-policy", "allkeys-lru")
    hazard = await store.eviction_hazard()
    assert hazard is not None and "allkeys-lru" in hazard
    assert registry.get_sample_value("parlor_store_eviction_unsafe") == 1
    await policy[-1].config_set("maxmemory-policy", "noeviction")
    assert await store.eviction_hazard() is None
    assert registry.get_sample_value("parlor_store_eviction_unsafe") == 0


async def test_parlor_sets_no_ttl_so_volatile_policies_cannot_evict_it(
    redis_stores: StoreFactory, redis_target: RedisTarget
) -> None:
    """After creating, changing, idempotently moving and waking a room, no key Parlor wrote has a TTL."""
    store = await redis_stores()
    await store.create_room(*new_room("TTLXX"), NOW)
    await store.mutate("TTLXX", lambda r: [note(1)], NOW + 1)
    await store.mutate_once("TTLXX", bump, NOW + 2, clue_once("k1"))
    await store.mutate("TTLXX", with_deadline(NOW + 60), NOW + 3)  # type: ignore[arg-type]
    admin = admin_client(redis_target)
    keys = [key async for key in admin.scan_iter(match="parlor:*")]
    ttls = {key: await admin.ttl(key) for key in keys}
    await admin.aclose()
    assert {room_key("TTLXX"), log_key("TTLXX"), answers_key("TTLXX")} <= set(ttls)
    assert set(ttls.values()) == {-1}, ttls


async def test_a_watched_room_flushed_under_a_live_subscription_is_reset_once(
    redis_stores: StoreFactory, redis_target: RedisTarget, registry: CollectorRegistry
) -> None:
    """Keys deleted behind the store's back: the next commit on one watched room reports it at once (the periodic
    check paused meanwhile); another watched room, never touched, is found by the periodic check; each is
    reported once and counted as a loss, and a room still there is not."""
    store = await redis_stores()
    assert isinstance(store, RedisStore)
    resets: list[str] = []
    store.subscribe_resets(resets.append)
    for code in ("READX", "IDLEX", "KEPTX"):
        await store.create_room(*new_room(code), NOW)
        await store.watch(code)
    admin = admin_client(redis_target)
    await store.losses.stop()
    await admin.delete(room_key("READX"), log_key("READX"), answers_key("READX"))
    with pytest.raises(NotFound):
        await store.mutate("READX", lambda r: [note(1)], NOW + 1)
    assert resets == ["READX"]
    await store.losses.start()
    await admin.delete(room_key("IDLEX"), log_key("IDLEX"), answers_key("IDLEX"))
    await admin.aclose()
    deadline = time.monotonic() + scaled(5 * VANISH_CHECK_SECONDS)
    while "IDLEX" not in resets and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    with pytest.raises(NotFound):
        await store.read("READX", lambda r: r.code)
    assert resets == ["READX", "IDLEX"] and losses(registry) == 2
    assert await store.read("KEPTX", lambda r: r.code) == "KEPTX"

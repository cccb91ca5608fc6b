"""Per-client limits: how often one client address may create, join, look up and connect, and how many rooms
it may hold.

Why: without them one anonymous client can fill the service (rooms until MAX_ROOMS, sockets until
MAX_CONNECTIONS) or guess room codes at thousands of tries a second. The windows are the `limits` package's
moving windows (its asyncio API), kept where the rooms are: in this process's memory with `memory://`, in
Redis (or the Redis Cluster) of STORE_URL otherwise, so every replica counts against the same window and an
address cannot multiply its quota by spreading requests over replicas. The rooms an address holds (its
MAX_ROOMS_PER_ADDRESS quota) live in the same place: a set per address (`parlor:hosted:{address}` in
Redis, kept as long as a room can live). nginx's `limit_req` and `limit_conn` zones add a layer in front.
The client address is the peer's, or the one named in X-Forwarded-For when the peer is a trusted proxy
(`TRUSTED_PROXIES`, applied by uvicorn's proxy headers middleware in `backend.main`).

Every refusal raises `RateLimited` (429 JSON on REST, close 1013 on a WebSocket) and is counted in
`parlor_limit_refusals_total{limit}`. The quota is checked before a room is created and the room added after:
two creations racing on two replicas may both pass at the last free place (one room over, never more per
concurrent request).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from backend.core.config import Settings
from backend.core.errors import RateLimited
from backend.core.redis_url import parse_url
from backend.metrics import Metrics


class Limit(StrEnum):
    CREATE = "create_rate"
    JOIN = "join_rate"
    SUMMARY = "summary_rate"
    MISS = "miss_rate"
    HANDSHAKE = "handshake_rate"


_MESSAGES = {
    Limit.CREATE: "too many rooms created from your address; try again in a minute",
    Limit.JOIN: "too many joins from your address; try again in a minute",
    Limit.SUMMARY: "too many room look-ups from your address; try again in a minute",
    Limit.MISS: "too many unknown room codes from your address; try again in a minute",
    Limit.HANDSHAKE: "too many connections from your address; try again in a minute",
}


log = logging.getLogger(__name__)
HOSTED_KEY = "parlor:hosted:{address}"


def _redis_url(store_url: str) -> tuple[str, bool] | None:
    """(plain redis URL, cluster?) when STORE_URL names Redis; None for memory://."""
    if store_url.startswith("memory://"):
        return None
    return parse_url(store_url)


def window_storage(store_url: str) -> Storage:
    """The `limits` storage next to the rooms: memory, or the Redis (Cluster) of STORE_URL (redis-py client)."""
    found = _redis_url(store_url)
    if found is None:
        return MemoryStorage()
    url, cluster = found
    if cluster:
        return RedisClusterStorage("async+" + url.replace("redis", "redis+cluster", 1), implementation="redispy")
    return RedisStorage("async+" + url, implementation="redispy", key_prefix="parlor:limits")


class HostedRooms:
    """The codes of the rooms each address created: in memory, or a Redis set per address (shared by replicas)."""

    def __init__(self, store_url: str, ttl_seconds: float) -> None:
        self._memory: dict[str, set[str]] = {}
        self._ttl = max(1, int(ttl_seconds))
        self._redis: Any = None
        found = _redis_url(store_url)
        if found is not None:
            url, cluster = found
            if cluster:
                from redis.asyncio.cluster import RedisCluster

                self._redis = RedisCluster.from_url(url, decode_responses=True)
            else:
                from redis import asyncio as aioredis

                self._redis = aioredis.from_url(url, decode_responses=True)

    # While Redis is away the quota is not enforced (the room itself then fails with the store's 503).

    async def codes(self, address: str) -> set[str]:
        if self._redis is None:
            return set(self._memory.get(address, ()))
        try:
            return set(await self._redis.smembers(HOSTED_KEY.format(address=address)))
        except Exception:
            return set()

    async def add(self, address: str, code: str) -> None:
        if self._redis is None:
            self._memory.setdefault(address, set()).add(code)
            return
        key = HOSTED_KEY.format(address=address)
        with contextlib.suppress(Exception):
            await self._redis.sadd(key, code)
            await self._redis.expire(key, self._ttl)  # an address that stops creating rooms is forgotten with them

    async def forget(self, address: str, gone: set[str]) -> None:
        if not gone:
            return
        if self._redis is None:
            self._memory.get(address, set()).difference_update(gone)
            return
        with contextlib.suppress(Exception):
            await self._redis.srem(HOSTED_KEY.format(address=address), *gone)

    async def reset(self) -> None:
        self._memory.clear()
        if self._redis is not None:
            async for key in self._redis.scan_iter(match=HOSTED_KEY.format(address="*")):
                await self._redis.delete(key)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


class ClientLimits:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.metrics = metrics
        self.max_rooms = settings.max_rooms_per_address
        self._items: dict[Limit, RateLimitItem] = {
            Limit.CREATE: parse(settings.rate_limit_create),
            Limit.JOIN: parse(settings.rate_limit_join),
            Limit.SUMMARY: parse(settings.rate_limit_summary),
            Limit.MISS: parse(settings.rate_limit_miss),
            Limit.HANDSHAKE: parse(settings.rate_limit_handshake),
        }
        self._limiter = MovingWindowRateLimiter(window_storage(settings.store_url))
        # a room lives at most ROOM_IDLE_SECONDS past its last move; the set outlives it by as much again
        self.hosted = HostedRooms(settings.store_url, 2 * settings.room_idle_seconds)
        self._storage_failing = False

    async def hit(self, limit: Limit, address: str) -> None:
        """Count one request against `address`'s window; raise RateLimited (and count it) when it is spent."""
        if not await self._allowed(self._limiter.hit, self._items[limit], limit.value, address):
            self.refuse(limit)

    async def check_misses(self, address: str) -> None:
        """Refuse lookups from an address that already spent its misses (without counting this one)."""
        if not await self._allowed(self._limiter.test, self._items[Limit.MISS], Limit.MISS.value, address):
            self.refuse(Limit.MISS)

    async def miss(self, address: str) -> None:
        await self._allowed(self._limiter.hit, self._items[Limit.MISS], Limit.MISS.value, address)

    async def _allowed(self, check: Callable[..., Awaitable[bool]], *args: Any) -> bool:
        """The window's answer; while Redis is away, yes: the request then meets the store's own 503, and a
        limit must not turn an outage into 500s or refused sockets (said once per outage)."""
        try:
            allowed = await check(*args)
        except Exception as exc:
            if not self._storage_failing:
                log.warning("limits: window storage unavailable (%r); not limiting until it is back", exc)
            self._storage_failing = True
            return True
        self._storage_failing = False
        return allowed

    async def check_room_quota(self, address: str, live_codes: Callable[[], Awaitable[list[str]]]) -> None:
        """One address holds at most MAX_ROOMS_PER_ADDRESS live rooms; rooms gone since are forgotten here."""
        hosted = await self.hosted.codes(address)
        if len(hosted) < self.max_rooms:
            return
        live = hosted & set(await live_codes())
        await self.hosted.forget(address, hosted - live)
        if len(live) >= self.max_rooms:
            self.refuse(
                "room_quota",
                f"your address already holds {len(live)} rooms; close one or wait for it to expire",
                "room_quota",
            )

    def refuse(self, limit: Limit | str, message: str | None = None, code: str = "rate_limited") -> None:
        self.metrics.limit_refusals.labels(str(limit)).inc()
        raise RateLimited(message or _MESSAGES.get(Limit(limit), "too many requests"), code)

    async def reset(self) -> None:
        await self._limiter.storage.reset()
        await self.hosted.reset()

    async def close(self) -> None:
        await self.hosted.close()

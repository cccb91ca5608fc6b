"""The Redis store's checks for silent losses: an evicting maxmemory-policy, and watched rooms gone while every
connection stayed up.

Redis may drop keys while every connection stays open (FLUSHALL, or eviction under `maxmemory`), and no message
says so. A watched room found missing by any read or commit (the store calls `vanished`), or by one EXISTS over
all the watched rooms every VANISH_CHECK_SECONDS (a script per node on a cluster), is reported to the reset
listeners, so its sockets close with 4404 within seconds instead of answering pings until the next resume.
Eviction itself is a configuration mistake reported here (see `eviction_hazard`): Parlor never sets a TTL on any
key, so only an `allkeys-*` maxmemory-policy can evict room keys; `noeviction` and `volatile-*` cannot.

Per process: the check loop's task, and which rooms to check (this process's watched rooms, read from its
`RoomFeeds`); each process checks only the rooms it watches. The eviction gauge is per process too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from backend.metrics import Metrics
from backend.store.redis_feeds import RoomFeeds
from backend.store.redis_shared import CLOSE_TIMEOUT_SECONDS, missing_rooms, room_key

log = logging.getLogger("backend.store.redis")  # the store's one logger, as before the split: log filters stay valid

EVICTING_POLICY_PREFIX = "allkeys-"  # volatile-* evicts only keys with a TTL, and Parlor sets none
# How often the watched rooms' keys are checked for a silent loss (FLUSHALL, eviction): one command on one Redis,
# one script per node on a cluster (docs/benchmarks.md, "Silent-loss checks"); the bound on how long a vanished
# room's sockets stay open.
VANISH_CHECK_SECONDS = 1.0
# How often the maxmemory-policy is read again besides readiness probes, so the gauge (and its alert) follows a
# CONFIG SET even where nothing probes /readyz.
POLICY_CHECK_SECONDS = 30.0

# ARGV: room keys all served by this node (cluster only, so no KEYS: they span slots). Returns the 1-based
# positions of the missing ones. Read-only, and it never touches a key of another node.
_MISSING = """#!lua flags=allow-cross-slot-keys,no-writes
local missing = {}
for i, key in ipairs(ARGV) do
  if redis.call('EXISTS', key) == 0 then missing[#missing + 1] = i end
end
return missing
"""


class LossChecks:
    """The eviction-policy check and the periodic check of the watched rooms' keys, with its loop."""

    def __init__(self, redis: Any, *, cluster: bool, metrics: Metrics, feeds: RoomFeeds) -> None:
        """`redis` is the store's command client; `feeds` knows which rooms are watched and tells their sockets."""
        self._redis = redis
        self.cluster = cluster
        self._metrics = metrics
        self._feeds = feeds
        self._task: asyncio.Task[None] | None = None

    async def eviction_hazard(self) -> str | None:
        """Why Redis may drop rooms on its own (an `allkeys-*` maxmemory-policy on a node), or None.

        Readiness reports it rather than the process refusing to start: the policy can change at run time
        (CONFIG SET), which a start-up check alone would miss, and a process that stays up keeps serving the
        games it holds while the load balancer sends new players nowhere, the metric pages someone, and fixing
        the policy makes every replica ready again without a restart. INFO rather than CONFIG GET: managed
        Redis services often disable CONFIG. A node that cannot be asked counts as no hazard here (ping, the
        other half of readiness, reports an unreachable store).
        """
        try:
            if self.cluster:
                infos = await self._redis.info("memory", target_nodes=RedisCluster.PRIMARIES)
                policies = {str(info.get("maxmemory_policy", "")) for info in infos.values()}
            else:
                policies = {str((await self._redis.info("memory")).get("maxmemory_policy", ""))}
        except (RedisError, RedisClusterException, OSError):
            self._metrics.store_errors.labels("read").inc()
            return None
        evicting = sorted(policy for policy in policies if policy.startswith(EVICTING_POLICY_PREFIX))
        self._metrics.store_eviction_unsafe.set(1 if evicting else 0)
        if not evicting:
            return None
        return f"maxmemory-policy {', '.join(evicting)} can evict room keys; set noeviction"

    async def start(self) -> None:
        hazard = await self.eviction_hazard()
        if hazard is not None:
            log.error("redis store: %s (this process reports not ready until it is fixed)", hazard)
        self._task = asyncio.create_task(self._loop(), name="parlor-redis-vanished")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
            self._task = None

    async def _loop(self) -> None:
        policy_checked = time.monotonic()
        while True:
            await asyncio.sleep(VANISH_CHECK_SECONDS)
            try:
                await self.check_watched_rooms()
                if time.monotonic() - policy_checked >= POLICY_CHECK_SECONDS:
                    policy_checked = time.monotonic()
                    await self.eviction_hazard()
            except (RedisError, RedisClusterException, OSError) as exc:  # Redis away: a catch-up covers it
                log.debug("redis store: watched-room check skipped (%r)", exc)
            except Exception:  # never let one bad round end the checks for the process's life
                log.exception("redis store: watched-room check failed")

    async def check_watched_rooms(self) -> list[str]:
        """Report the watched rooms whose keys are gone (FLUSHALL, eviction) while nothing told us; returns them."""
        codes = self._feeds.watched()  # a room reported once leaves them
        if not codes:
            return []
        suspects = await (self._suspects_in_cluster(codes) if self.cluster else self._suspects_on_one(codes))
        if not suspects:
            return []
        # confirmed key by key through the client's routing: a script may miss a key whose slot is migrating
        gone = await missing_rooms(self._redis, suspects)
        for code in gone:
            self.vanished(code)
        return gone

    async def _suspects_on_one(self, codes: list[str]) -> list[str]:
        """One EXISTS over every key (about 2 ms for 1000 rooms): the common answer, all there, in one command."""
        if await self._redis.exists(*map(room_key, codes)) == len(codes):
            return []
        return codes

    async def _suspects_in_cluster(self, codes: list[str]) -> list[str]:
        """One script per node over the keys it serves (a command per room costs this loop about 0.1 ms each, a
        tenth of it for 1000 rooms); keys of several slots in one call need Redis 7's cross-slot flag."""
        by_node: dict[str, list[str]] = {}
        for code in codes:
            by_node.setdefault(self._feeds.node_name(code), []).append(code)
        suspects = []
        for name, group in by_node.items():
            node = self._redis.get_node(node_name=name)
            missing = await self._redis.execute_command("EVAL", _MISSING, 0, *map(room_key, group), target_nodes=node)
            suspects += [group[int(i) - 1] for i in missing]
        return suspects

    def vanished(self, code: str) -> None:
        """A room found missing: if sockets or long-polls here watch it, the reset listeners close them (4404).

        Once per loss: the room leaves the feeds' watched rooms here, as it does when a delete message or a
        catch-up reports it, so a room deleted on purpose is not counted again when its closing sockets' reads
        miss it."""
        if not self._feeds.forget(code):
            return
        log.warning("redis store: watched room %s vanished without a delete (flushed or evicted)", code)
        self._metrics.store_data_losses.inc()
        self._feeds.reset(code)

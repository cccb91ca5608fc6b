"""The shared store: rooms, logs and wake-ups in Redis (one server or a Redis Cluster), for any number of processes.

Layout (prefix `parlor:`; the part in braces is the hash tag, so a room's keys and channel share one slot):
  {CODE}:room     hash  state (Room JSON), v (version, bumped by every commit), seq (last event id), epoch
                  (the history's name, see Room.epoch), lb (bytes of event JSON in the log)
  {CODE}:log      stream of the room's events, entry id `<event id>-0`, capped at log_size entries and
                  log_bytes bytes (the oldest entries go first)
  {CODE}:answers  hash idempotency slot ("<player id>:<kind>:<key>") -> the move's first answer with its body's
                  fingerprint (JSON, see `keep_answer`), kept for the room's life: beside the room rather than in
                  its state, so commits do not grow with it
  {CODE}:events   sharded pub/sub channel: every commit as {"o": origin, "c": code, "e": [events]}
  {i}:rooms       set of room codes
  {i}:wakeups     zset code -> next wake-up (deadline or bot move)
  {i}:activity    zset code -> the room's last activity, so idle rooms are found without reading any room
  {i}:wakever     hash code -> version of the commit that last wrote the room's wake-up (cluster only)
  {i}:generation  a random token written once into an empty Redis: when it changes, Redis lost its data

A commit is one Lua script on the room's slot: it checks the version read before `fn` ran (optimistic
concurrency: on a conflict `mutate` re-reads and re-runs `fn` on a fresh Room), writes the state, appends the
events, stores an idempotent move's first answer and publishes (SPUBLISH), all atomically; publishing inside
the script makes the channel's order the commit order. An idempotent move reads its slot's answer with the
state (one script) and re-runs only if there is none yet; a racing commit of the same slot bumps the version,
so the loser re-reads and finds the winner's answer. On one server the same script also updates the index
keys. In a cluster the index lives on another slot, so it is written around the commit instead: before it, the
wake-up is only ever lowered (`ZADD LT`: at worst the room is ticked early, and a tick with nothing due changes
nothing); after it, a script on the index slot writes the exact wake-up unless a later version already did. So
the index is never later than the room's real wake-up, even if the process dies between the two writes.

Fan-out (`RoomFeeds`, backend/store/redis_feeds.py) and the checks for rooms lost without a word
(`LossChecks`, backend/store/redis_losses.py) are the store's collaborators: it owns them, hands them its
commits and losses, and delegates `watch`, `subscribe` and the loss checks to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from backend.core.errors import Conflict, NotFound, Unavailable
from backend.core.redis_url import parse_url
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.metrics import Metrics, get_metrics
from backend.store import (
    Answered,
    Listener,
    LogSlice,
    Mutation,
    Once,
    ResetListener,
    keep_answer,
    kept_answer,
    number_events,
)
from backend.store.redis_feeds import RoomFeeds
from backend.store.redis_losses import LossChecks
from backend.store.redis_shared import (
    ACTIVITY_KEY,
    CLOSE_TIMEOUT_SECONDS,
    ROOMS_KEY,
    WAKEUPS_KEY,
    WAKEVER_KEY,
    answers_key,
    channel_of,
    dumps,
    guard,
    log_key,
    missing_rooms,
    parse_entries,
    room_key,
    within,
)

T = TypeVar("T")

MAX_ATTEMPTS = 100
# A claimed wake-up is pushed this far ahead rather than removed: the tick's commit replaces it, and if the
# claiming process dies before committing, another one fires the room once the lease runs out.
CLAIM_LEASE_SECONDS = 5.0
CLAIM_BATCH = 200
# How long a call waits for a free pooled connection when all are busy (a loaded event loop, not Redis down:
# a refused connection fails at once).
POOL_WAIT_SECONDS = 10.0

# KEYS: room, log, answers, then on one server rooms, wakeups, activity. ARGV: expected version ('' to create),
# state, seq, wake-up ('' for none), maxlen, channel, message, code, last activity, epoch, max log bytes,
# idempotency slot ('' for none), its answer, answers carried over from a state written before they moved out
# of it (a JSON object slot -> answer JSON, '' for none), then (stream id, event JSON) pairs. The room hash's
# `lb` field holds the log's bytes; the oldest entries go while the log is over either bound (the newest always
# stays, so the last id can be resumed from). A new room starts without a log or answers left by an old one.
# Returns the new version, -1 on a version conflict (or an existing code on create, or a slot answered already),
# -2 for a deleted room.
_COMMIT = """
local v = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if v then return -1 end
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'lb', 0)
  v = '0'
elseif not v then
  return -2
elseif v ~= ARGV[1] then
  return -1
end
if ARGV[12] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[12]) == 1 then return -1 end
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'v', nv, 'seq', ARGV[3], 'epoch', ARGV[10])
if ARGV[14] ~= '' then
  for slot, answer in pairs(cjson.decode(ARGV[14])) do redis.call('HSETNX', KEYS[3], slot, answer) end
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[3], ARGV[12], ARGV[13]) end
local lb = tonumber(redis.call('HGET', KEYS[1], 'lb') or '0')
for i = 15, #ARGV, 2 do
  redis.call('XADD', KEYS[2], ARGV[i], 'e', ARGV[i + 1])
  lb = lb + #ARGV[i + 1]
end
local maxlen, maxbytes = tonumber(ARGV[5]), tonumber(ARGV[11])
local n = redis.call('XLEN', KEYS[2])
while n > 1 and (n > maxlen or lb > maxbytes) do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  lb = lb - #first[2][2]
  redis.call('XDEL', KEYS[2], first[1])
  n = n - 1
end
redis.call('HSET', KEYS[1], 'lb', lb)
if #KEYS > 3 then
  if ARGV[1] == '' then redis.call('SADD', KEYS[4], ARGV[8]) end
  if ARGV[4] == '' then
    redis.call('ZREM', KEYS[5], ARGV[8])
  else
    redis.call('ZADD', KEYS[5], ARGV[4], ARGV[8])
  end
  redis.call('ZADD', KEYS[6], ARGV[9], ARGV[8])
end
if #ARGV >= 15 then
  redis.call('SPUBLISH', ARGV[6], ARGV[7])
end
return nv
"""

# Cluster only, on the index slot after a commit. KEYS: rooms, wakeups, activity, wakever. ARGV: code, version,
# wake-up ('' for none), last activity. A commit's index write lands only if no later commit's did already.
_INDEX = """
local seen = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= seen then return 0 end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1
"""

# KEYS: wakeups. ARGV: now, lease until, batch. Due rooms are leased in one atomic step, so each is handed to
# exactly one caller.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, code in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], code)
end
return due
"""

# KEYS: room, log. ARGV: first stream id. The last id, the log after it and the epoch, read together.
_EVENTS_AFTER = """
local head = redis.call('HMGET', KEYS[1], 'seq', 'epoch')
if not head[1] then return false end
return {head[1], redis.call('XRANGE', KEYS[2], ARGV[1], '+'), head[2] or ''}
"""

# KEYS: room, answers. ARGV: idempotency slot ('' for none). The state, its version and the slot's answer, read
# together: a move is re-run only on a state that did not answer it yet.
_READ = """
local head = redis.call('HMGET', KEYS[1], 'state', 'v')
if not head[1] then return false end
local answer = false
if ARGV[1] ~= '' then answer = redis.call('HGET', KEYS[2], ARGV[1]) end
return {head[1], head[2], answer}
"""

# KEYS: room, log, answers. ARGV: channel, message. Drops the room with everything kept beside it and tells
# its watchers.
_DELETE = """
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SPUBLISH', ARGV[1], ARGV[2])
return 1
"""


def _rekey(room: Room, expected: str | None) -> list[Event]:
    return room.rekey(secrets.token_hex(6), expected)


class RedisStore:
    """The `Store` on Redis: commits and reads here; the watched rooms' fan-out in `feeds`, the checks for
    silently lost rooms in `losses`. Per process: the two collaborators' state, the connection pool, and the
    origin token that tells this process's commits from others' on the channels."""

    def __init__(
        self,
        url: str,
        *,
        log_size: int = 1000,
        log_bytes: int = 131072,
        metrics: Metrics | None = None,
        socket_timeout: float = 2.0,
        max_connections: int = 64,
    ) -> None:
        self._log_size = log_size
        self._log_bytes = log_bytes
        self._metrics = metrics or get_metrics()
        self._url, self.cluster = parse_url(url)
        self._socket_timeout = socket_timeout
        # No client-side retries: re-sending a commit whose reply was lost would make `mutate` re-run `fn`
        # on a state that already holds its effect. A failed call surfaces as 503 and the caller retries.
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            "retry": Retry(NoBackoff(), 0),
        }
        self._redis: Any
        if self.cluster:
            self._redis = RedisCluster.from_url(self._url, max_connections=max_connections, **options)
        else:
            # A blocking pool: a burst (hundreds of sockets resuming at once) waits for a connection instead of
            # failing with "too many connections".
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS, **options
            )
            self._redis = aioredis.Redis(connection_pool=pool)
        self._commit_script = self._redis.register_script(_COMMIT)
        self._index_script = self._redis.register_script(_INDEX)
        self._claim_script = self._redis.register_script(_CLAIM)
        self._events_script = self._redis.register_script(_EVENTS_AFTER)
        self._delete_script = self._redis.register_script(_DELETE)
        self._read_script = self._redis.register_script(_READ)
        self._origin = secrets.token_hex(8)
        self.feeds = RoomFeeds(
            self._redis,
            url=self._url,
            cluster=self.cluster,
            socket_timeout=socket_timeout,
            origin=self._origin,
            metrics=self._metrics,
            rekey=self._new_epoch,
        )
        self.losses = LossChecks(self._redis, cluster=self.cluster, metrics=self._metrics, feeds=self.feeds)

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to start eagerly: subscriptions open with the first watched room of each node."""
        with contextlib.suppress(RedisError, OSError):
            if self.cluster:
                await self._redis.initialize()
            await self.feeds.check_generation()  # the token a later reconnect compares with
        await self.losses.start()

    async def close(self) -> None:
        await self.losses.stop()
        await self.feeds.close()
        await within(self._redis.aclose(), CLOSE_TIMEOUT_SECONDS)

    async def ping(self) -> bool:
        try:
            if self.cluster:
                return bool(await self._redis.ping(target_nodes=RedisCluster.PRIMARIES))
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            self._metrics.store_errors.labels("read").inc()
            return False

    # ---- rooms -----------------------------------------------------------------------------------------

    async def create_room(self, room: Room, events: list[Event], now: float) -> list[StoredEvent]:
        stored = number_events(room, events, now)
        result = await self._commit(room, stored, None)
        if result == -1:
            raise Conflict("room code already in use", "room_exists")
        self.feeds.deliver(room.code, stored)
        return stored

    async def mutate(self, code: str, fn: Mutation, now: float) -> tuple[Room, list[StoredEvent]]:
        done = await self._mutate(code, fn, now, None)
        return done.room, done.events

    async def mutate_once(self, code: str, fn: Mutation, now: float, once: Once) -> Answered:
        return await self._mutate(code, fn, now, once)

    async def _mutate(self, code: str, fn: Mutation, now: float, once: Once | None) -> Answered:
        slot = "" if once is None else once.slot
        for attempt in range(MAX_ATTEMPTS):
            with self._guard("read"):
                found = await self._read_script(keys=[room_key(code), answers_key(code)], args=[slot])
            if not found:
                raise self._unknown(code)
            state, version, first = found
            raw = json.loads(state)
            # a state written before answers moved beside the room still holds its recent ones: honour them, and
            # the commit below carries them over into the answers hash (the new state no longer has them)
            legacy: dict[str, Any] = raw.pop("answers", None) or {}
            if first is None and slot in legacy:
                first = dumps(legacy[slot])
            room = Room.from_dict(raw)
            if once is not None and first is not None:
                kept, fingerprint = kept_answer(first)
                return Answered(room, [], kept, replayed=True, fingerprint=fingerprint)
            events = fn(room)
            answer = ""
            if once is not None:
                answer = keep_answer(once.answer(room, room.event_seq + len(events)), once.fingerprint)
            stored = number_events(room, events, now)
            carried = dumps({k: dumps(v) for k, v in legacy.items()}) if legacy else ""
            result = await self._commit(room, stored, str(version), slot, answer, carried)
            if result > 0:
                self.feeds.deliver(code, stored)
                if once is None:
                    return Answered(room, stored, {}, replayed=False)
                return Answered(room, stored, kept_answer(answer)[0], replayed=False, fingerprint=once.fingerprint)
            if result == -2:
                raise self._unknown(code)
            self._metrics.store_conflicts.inc()
            # jittered, growing pause so contending writers stop colliding
            await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
        raise Unavailable("the room is too busy right now, try again", "store_contended")

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        with self._guard("read"):
            state = await self._redis.hget(room_key(code), "state")
        if state is None:
            raise self._unknown(code)
        return fn(Room.from_dict(json.loads(state)))

    async def events_after(self, code: str, after: int) -> LogSlice:
        with self._guard("read"):
            found = await self._events_script(keys=[room_key(code), log_key(code)], args=[f"{after + 1}-0"])
        if not found:
            raise self._unknown(code)
        last, epoch = int(found[0]), str(found[2])
        if after >= last:
            # ahead of the log: ids the client holds were lost and will be handed out again
            return LogSlice([], after == last, last, epoch)
        events = parse_entries(found[1])
        # ids are dense: the log reaches back far enough exactly when it starts right after `after`
        complete = bool(events) and events[0].id == after + 1
        return LogSlice(events, complete, last, epoch)

    async def delete_room(self, code: str) -> None:
        self.feeds.forget(code)  # first: a deleted room is not one that vanished (see `LossChecks.vanished`)
        with self._guard("write"):
            message = dumps({"o": self._origin, "c": code, "deleted": True})
            await self._delete_script(
                keys=[room_key(code), log_key(code), answers_key(code)], args=[channel_of(code), message]
            )
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.srem(ROOMS_KEY, code)
                pipe.zrem(WAKEUPS_KEY, code)
                pipe.zrem(ACTIVITY_KEY, code)
                pipe.hdel(WAKEVER_KEY, code)
                await pipe.execute()

    async def room_codes(self) -> list[str]:
        with self._guard("read"):
            return [str(code) for code in await self._redis.smembers(ROOMS_KEY)]

    async def count_rooms(self) -> int:
        with self._guard("read"):
            return int(await self._redis.scard(ROOMS_KEY))

    async def idle_rooms(self, before: float) -> list[str]:
        with self._guard("read"):
            return [str(c) for c in await self._redis.zrangebyscore(ACTIVITY_KEY, "-inf", f"({before!r}")]

    # ---- wake-ups --------------------------------------------------------------------------------------

    async def claim_due(self, now: float) -> list[str]:
        with self._guard("write"):
            claimed = [
                str(c)
                for c in await self._claim_script(
                    keys=[WAKEUPS_KEY], args=[repr(now), repr(now + CLAIM_LEASE_SECONDS), CLAIM_BATCH]
                )
            ]
            if not claimed:
                return []
            # wake-ups of rooms that no longer exist are dropped (in a cluster the room keys live elsewhere)
            gone = await missing_rooms(self._redis, claimed)
            if gone:
                await self._redis.zrem(WAKEUPS_KEY, *gone)
        return [code for code in claimed if code not in gone]

    async def next_wakeup(self) -> float | None:
        with self._guard("read"):
            first = await self._redis.zrange(WAKEUPS_KEY, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # ---- commits ---------------------------------------------------------------------------------------

    async def _commit(
        self,
        room: Room,
        stored: list[StoredEvent],
        version: str | None,
        slot: str = "",
        answer: str = "",
        carried: str = "",
    ) -> int:
        when = room.next_wakeup()
        wake = "" if when is None else repr(when)
        message = dumps({"o": self._origin, "c": room.code, "e": [e.to_dict() for e in stored]})
        args: list[str | int] = [
            "" if version is None else version,
            dumps(room.to_dict()),
            room.event_seq,
            wake,
            self._log_size,
            channel_of(room.code),
            message,
            room.code,
            repr(room.last_activity),
            room.epoch,
            self._log_bytes,
            slot,
            answer,
            carried,
        ]
        for event in stored:
            args += [f"{event.id}-0", dumps(event.to_dict())]
        keys = [room_key(room.code), log_key(room.code), answers_key(room.code)]
        with self._guard("write"):
            if not self.cluster:
                keys += [ROOMS_KEY, WAKEUPS_KEY, ACTIVITY_KEY]
                return int(await self._commit_script(keys=keys, args=args))
            if when is not None:  # never later than the truth, even if we die before the exact write below
                await self._redis.zadd(WAKEUPS_KEY, {room.code: when}, lt=True)
            result = int(await self._commit_script(keys=keys, args=args))
            if result > 0:
                await self._index_script(
                    keys=[ROOMS_KEY, WAKEUPS_KEY, ACTIVITY_KEY, WAKEVER_KEY],
                    args=[room.code, result, wake, repr(room.last_activity)],
                )
        return result

    def _guard(self, op: str) -> contextlib.AbstractContextManager[None]:
        return guard(self._metrics, op)

    def _unknown(self, code: str) -> NotFound:
        """The NotFound for a room missing from Redis; a watched one vanished under its sockets: say so."""
        self.losses.vanished(code)
        return NotFound(f"no room with code {code!r}", "unknown_room")

    async def _new_epoch(self, code: str, expected: str | None) -> None:
        """A new epoch for a room whose last id went backwards (the feeds' catch-up finds it)."""
        await self.mutate(code, functools.partial(_rekey, expected=expected), time.time())

    # ---- delegated: fan-out and loss checks ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self.feeds.subscribe(listener)

    def subscribe_resets(self, listener: ResetListener) -> None:
        self.feeds.subscribe_resets(listener)

    async def watch(self, code: str) -> None:
        await self.feeds.watch(code)

    def unwatch(self, code: str) -> None:
        self.feeds.unwatch(code)

    async def eviction_hazard(self) -> str | None:
        return await self.losses.eviction_hazard()

    async def check_watched_rooms(self) -> list[str]:
        return await self.losses.check_watched_rooms()

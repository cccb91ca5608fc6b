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

Fan-out: local commits reach the listeners right away. Remote commits arrive only for rooms this process
watches (it holds a socket or a long-poll there): `watch` subscribes the room's channel on the node that owns
its slot and returns once Redis confirmed the subscription, so a read made after it cannot miss a commit.
Each watched room's last delivered id makes delivery exactly-once and in order: anything at or below it is
dropped, and a gap (a message lost while a subscription was down) is filled from the stream.

Lost history: after a subscription comes back, each watched room is read again. A room that vanished (Redis
restarted empty, or deleted while we were away) and a room whose last id went backwards (Redis restarted from
an older copy: ids that clients already hold will be handed out again) are reported to the reset listeners; the
latter first gets a new epoch, so clients holding the old ids resync from a snapshot.

Rooms lost with the subscription up: Redis may also drop keys while every connection stays open (FLUSHALL, or
eviction under `maxmemory`), and no message says so. A watched room found missing by any read or commit, or by
one EXISTS over all the watched rooms every VANISH_CHECK_SECONDS (a script per node on a cluster), is reported
to the reset listeners as well, so its sockets close with 4404 within seconds instead of answering pings until
the next resume. Eviction itself is a configuration mistake this store reports (see `eviction_hazard`): Parlor
never sets a TTL on any key, so only an `allkeys-*` maxmemory-policy can evict room keys; `noeviction` and
`volatile-*` cannot.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

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

T = TypeVar("T")
log = logging.getLogger(__name__)

PREFIX = "parlor:"
ROOMS_KEY = PREFIX + "{i}:rooms"
WAKEUPS_KEY = PREFIX + "{i}:wakeups"
ACTIVITY_KEY = PREFIX + "{i}:activity"
WAKEVER_KEY = PREFIX + "{i}:wakever"
GENERATION_KEY = PREFIX + "{i}:generation"
EVICTING_POLICY_PREFIX = "allkeys-"  # volatile-* evicts only keys with a TTL, and Parlor sets none
MAX_ATTEMPTS = 100
# A claimed wake-up is pushed this far ahead rather than removed: the tick's commit replaces it, and if the
# claiming process dies before committing, another one fires the room once the lease runs out.
CLAIM_LEASE_SECONDS = 5.0
CLAIM_BATCH = 200
RECONNECT_MAX_DELAY = 2.0
CLOSE_TIMEOUT_SECONDS = 1.0  # bound on closing a connection that Redis (or the network) already dropped
WATCH_TIMEOUT_SECONDS = 5.0  # a subscription Redis does not confirm by then surfaces as Unavailable
# How long a call waits for a free pooled connection when all are busy (a loaded event loop, not Redis down:
# a refused connection fails at once).
POOL_WAIT_SECONDS = 10.0
# How often the watched rooms' keys are checked for a silent loss (FLUSHALL, eviction): one command on one Redis,
# one script per node on a cluster (docs/benchmarks.md, "Silent-loss checks"); the bound on how long a vanished
# room's sockets stay open.
VANISH_CHECK_SECONDS = 1.0
# How often the maxmemory-policy is read again besides readiness probes, so the gauge (and its alert) follows a
# CONFIG SET even where nothing probes /readyz.
POLICY_CHECK_SECONDS = 30.0

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


# ARGV: room keys all served by this node (cluster only, so no KEYS: they span slots). Returns the 1-based
# positions of the missing ones. Read-only, and it never touches a key of another node.
_MISSING = """#!lua flags=allow-cross-slot-keys,no-writes
local missing = {}
for i, key in ipairs(ARGV) do
  if redis.call('EXISTS', key) == 0 then missing[#missing + 1] = i end
end
return missing
"""


async def _within(cleanup: Awaitable[object], seconds: float) -> None:
    """Run a connection's cleanup for at most `seconds`, its errors ignored. Not `asyncio.wait_for`: on a timeout
    that cancels the call and then waits for it to finish, and redis-py's cleanup of a connection the network
    killed can swallow the cancellation, which hung a store's close() (and a test's teardown) for minutes."""
    task = asyncio.ensure_future(cleanup)
    try:
        await asyncio.wait({task}, timeout=seconds)
    finally:
        if task.done():
            if not task.cancelled():
                task.exception()  # retrieved, so asyncio does not log it as never retrieved
        else:
            task.cancel()  # left to finish on its own; nobody waits for it


def _room_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:room"


def _log_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:log"


def _answers_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:answers"


def _channel(code: str) -> str:
    return f"{PREFIX}{{{code}}}:events"


def _code_of(channel: str) -> str:
    return channel[channel.index("{") + 1 : channel.index("}")]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _rekey(room: Room, expected: str | None) -> list[Event]:
    return room.rekey(secrets.token_hex(6), expected)


def _parse_entries(entries: Any) -> list[StoredEvent]:
    """XRANGE rows: (stream id, {"e": event JSON}) as redis-py parses them, or raw [id, [field, value]]."""
    out = []
    for _id, fields in entries:
        raw = fields["e"] if isinstance(fields, dict) else fields[1]
        out.append(StoredEvent.from_dict(json.loads(raw)))
    return out


class _Feed:
    """One node's sharded subscriptions: a pub/sub connection, its channels, and the reader task.

    Subscribe and unsubscribe requests are sent in the order they are made; each SSUBSCRIBE's confirmation
    resolves the future of that request, so `subscribe` returns only once Redis routes the channel to us."""

    def __init__(self, store: RedisStore, name: str, client: aioredis.Redis) -> None:
        self.store = store
        self.name = name
        self.client = client
        self.pubsub: Any = None
        self.subscribed: set[str] = set()
        self.confirms: dict[str, collections.deque[asyncio.Future[None]]] = {}
        self.lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"parlor-redis-feed-{name}")

    async def sync(self, channel: str) -> asyncio.Future[None] | None:
        """Bring the channel's subscription in line with the store's interest; while it is wanted, the future of
        its SSUBSCRIBE's confirmation (None once confirmed)."""
        async with self.lock:
            want = self.store.interest.get(_code_of(channel), 0) > 0
            if want and channel in self.subscribed:
                # asked for already: a watcher arriving before Redis confirmed it waits for the same confirmation
                queue = self.confirms.get(channel)
                return queue[-1] if queue else None
            if want:
                self.subscribed.add(channel)
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.confirms.setdefault(channel, collections.deque()).append(future)
                if self.pubsub is not None and self.connected.is_set():
                    await self.pubsub.ssubscribe(channel)
                return future  # while disconnected the reconnect subscribes it and confirms
            if not want and channel in self.subscribed:
                self.subscribed.discard(channel)
                if self.pubsub is not None and self.connected.is_set():
                    await self.pubsub.sunsubscribe(channel)
                else:  # never sent, so never confirmed: later confirmations belong to later requests
                    for future in self.confirms.pop(channel, ()):
                        future.cancel()
            return None

    async def _run(self) -> None:
        delay = 0.05
        while True:
            self.pubsub = self.client.pubsub()
            try:
                async with self.lock:
                    channels = sorted(self.subscribed)
                    if channels:
                        # one SSUBSCRIBE per room: a cluster refuses channels of several slots in one command
                        # (CROSSSLOT), and a node serves many rooms' slots; one by one, the confirmations below
                        # still tell when all are back
                        for channel in channels:
                            await self.pubsub.ssubscribe(channel)
                    else:  # an idle connection still needs one command to be opened
                        await self.pubsub.ssubscribe(_channel("-"))
                        await self.pubsub.sunsubscribe(_channel("-"))
                    self.connected.set()
                delay = 0.05
                caught_up = not channels
                pending = set(channels)
                while True:
                    message = await self.pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    kind, channel = message["type"], message.get("channel")
                    if kind == "smessage":
                        await self.store._on_message(channel, message["data"])
                    elif kind == "ssubscribe":
                        queue = self.confirms.get(channel)
                        if queue:
                            future = queue.popleft()
                            if not future.done():
                                future.set_result(None)
                            if not queue:
                                del self.confirms[channel]
                        pending.discard(channel)
                        if not caught_up and not pending:
                            # subscribed again first, then read the logs: nothing committed meanwhile slips through
                            caught_up = True
                            await self.store._catch_up([_code_of(c) for c in channels])
            except (RedisError, OSError, Unavailable) as exc:  # Unavailable: a catch-up read or rekey failed
                self.store._metrics.store_errors.labels("subscribe").inc()
                log.warning("redis store: subscription to %s lost (%r); reconnecting in %.2f s", self.name, exc, delay)
            finally:
                self.connected.clear()
                # a killed connection can leave aclose() waiting forever: never let cleanup hang the loop; a
                # cancellation (close()) arriving here ends the loop instead of being swallowed with the cleanup
                await _within(self.pubsub.aclose(), CLOSE_TIMEOUT_SECONDS)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.wait({self.task}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
        for queue in self.confirms.values():
            for future in queue:
                future.cancel()
        await _within(self.client.aclose(), CLOSE_TIMEOUT_SECONDS)


class RedisStore:
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
        self._listeners: list[Listener] = []
        self._reset_listeners: list[ResetListener] = []
        self._generation: str | None = None  # the token seen in Redis; a different one means Redis lost data
        self.interest: dict[str, int] = {}  # watched room -> local sockets and long-polls in it
        self._delivered: dict[str, int] = {}  # watched room -> last event id handed to the listeners here
        self._feeds: dict[str, _Feed] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._vanish_task: asyncio.Task[None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to start eagerly: subscriptions open with the first watched room of each node."""
        with contextlib.suppress(RedisError, OSError):
            if self.cluster:
                await self._redis.initialize()
            await self._check_generation()  # the token a later reconnect compares with
        await self._start_loss_checks()

    async def close(self) -> None:
        await self._stop_loss_checks()
        for feed in list(self._feeds.values()):
            await feed.close()
        self._feeds.clear()
        await _within(self._redis.aclose(), CLOSE_TIMEOUT_SECONDS)

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
        self._deliver(room.code, stored)
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
                found = await self._read_script(keys=[_room_key(code), _answers_key(code)], args=[slot])
            if not found:
                raise self._unknown(code)
            state, version, first = found
            raw = json.loads(state)
            # a state written before answers moved beside the room still holds its recent ones: honour them, and
            # the commit below carries them over into the answers hash (the new state no longer has them)
            legacy: dict[str, Any] = raw.pop("answers", None) or {}
            if first is None and slot in legacy:
                first = _dumps(legacy[slot])
            room = Room.from_dict(raw)
            if once is not None and first is not None:
                kept, fingerprint = kept_answer(first)
                return Answered(room, [], kept, replayed=True, fingerprint=fingerprint)
            events = fn(room)
            answer = ""
            if once is not None:
                answer = keep_answer(once.answer(room, room.event_seq + len(events)), once.fingerprint)
            stored = number_events(room, events, now)
            carried = _dumps({k: _dumps(v) for k, v in legacy.items()}) if legacy else ""
            result = await self._commit(room, stored, str(version), slot, answer, carried)
            if result > 0:
                self._deliver(code, stored)
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
            state = await self._redis.hget(_room_key(code), "state")
        if state is None:
            raise self._unknown(code)
        return fn(Room.from_dict(json.loads(state)))

    async def events_after(self, code: str, after: int) -> LogSlice:
        with self._guard("read"):
            found = await self._events_script(keys=[_room_key(code), _log_key(code)], args=[f"{after + 1}-0"])
        if not found:
            raise self._unknown(code)
        last, epoch = int(found[0]), str(found[2])
        if after >= last:
            # ahead of the log: ids the client holds were lost and will be handed out again
            return LogSlice([], after == last, last, epoch)
        events = _parse_entries(found[1])
        # ids are dense: the log reaches back far enough exactly when it starts right after `after`
        complete = bool(events) and events[0].id == after + 1
        return LogSlice(events, complete, last, epoch)

    async def delete_room(self, code: str) -> None:
        self._delivered.pop(code, None)  # first: a deleted room is not one that vanished (see `_vanished`)
        with self._guard("write"):
            message = _dumps({"o": self._origin, "c": code, "deleted": True})
            await self._delete_script(
                keys=[_room_key(code), _log_key(code), _answers_key(code)], args=[_channel(code), message]
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
            async with self._redis.pipeline(transaction=False) as pipe:
                for code in claimed:
                    pipe.exists(_room_key(code))
                exists = await pipe.execute()
            gone = [code for code, there in zip(claimed, exists, strict=True) if not there]
            if gone:
                await self._redis.zrem(WAKEUPS_KEY, *gone)
        return [code for code, there in zip(claimed, exists, strict=True) if there]

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
        message = _dumps({"o": self._origin, "c": room.code, "e": [e.to_dict() for e in stored]})
        args: list[str | int] = [
            "" if version is None else version,
            _dumps(room.to_dict()),
            room.event_seq,
            wake,
            self._log_size,
            _channel(room.code),
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
            args += [f"{event.id}-0", _dumps(event.to_dict())]
        keys = [_room_key(room.code), _log_key(room.code), _answers_key(room.code)]
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

    @contextlib.contextmanager
    def _guard(self, op: str) -> Iterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            self._metrics.store_errors.labels(op).inc()
            log.warning("redis store: %s failed: %r", op, exc)
            raise Unavailable("store unavailable", "store_unavailable") from exc

    def _unknown(self, code: str) -> NotFound:
        """The NotFound for a room missing from Redis; a watched one vanished under its sockets: say so."""
        self._vanished(code)
        return NotFound(f"no room with code {code!r}", "unknown_room")

    # ---- fan-out ---------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_resets(self, listener: ResetListener) -> None:
        self._reset_listeners.append(listener)

    def _reset(self, code: str) -> None:
        for listener in self._reset_listeners:
            try:
                listener(code)
            except Exception:
                log.exception("store reset listener failed")

    async def _check_generation(self) -> bool:
        """Write the generation token into an empty Redis; True when the one seen before is gone (data lost)."""
        await self._redis.set(GENERATION_KEY, secrets.token_hex(8), nx=True)
        current = str(await self._redis.get(GENERATION_KEY))
        lost = self._generation is not None and current != self._generation
        self._generation = current
        if lost:
            self._metrics.store_data_losses.inc()
            log.warning("redis store: Redis came back without the data it had (generation changed)")
        return lost

    async def watch(self, code: str) -> None:
        """Receive this room's commits from other processes; returns once the subscription is confirmed."""
        self.interest[code] = self.interest.get(code, 0) + 1
        try:
            feed = self._feed_for(code)
            future = await feed.sync(_channel(code))
            if future is not None:
                await asyncio.wait_for(asyncio.shield(future), WATCH_TIMEOUT_SECONDS)
            if code not in self._delivered:
                # Subscribed: from here every commit reaches us. Earlier ones are the caller's to read, so
                # delivery starts after the last id committed now, unless another watcher or a message that came
                # in meanwhile set the cursor already. Then it is left alone: sockets may be live on it, and
                # raising it to this read's id would drop, for them, the commits that are still on the way (the
                # event missing from one player's stream after a rolling restart).
                seq = await self._redis.hget(_room_key(code), "seq")
                if self.interest.get(code, 0) > 0:
                    self._delivered.setdefault(code, int(seq or 0))
        except (RedisError, OSError, TimeoutError) as exc:
            self.unwatch(code)
            self._metrics.store_errors.labels("subscribe").inc()
            raise Unavailable("store unavailable", "store_unavailable") from exc
        except BaseException:
            self.unwatch(code)
            raise

    def unwatch(self, code: str) -> None:
        """The caller no longer needs the room's remote commits; the last one out unsubscribes."""
        left = self.interest.get(code, 0) - 1
        if left > 0:
            self.interest[code] = left
            return
        self.interest.pop(code, None)
        self._delivered.pop(code, None)
        feed = self._feeds.get(self._node_name(code))
        if feed is not None:
            task = asyncio.get_running_loop().create_task(self._quietly(feed.sync(_channel(code))))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        with contextlib.suppress(RedisError, OSError):
            await call

    def _node_name(self, code: str) -> str:
        if not self.cluster:
            return "redis"
        return str(self._redis.get_node_from_key(_channel(code)).name)

    def _feed_for(self, code: str) -> _Feed:
        name = self._node_name(code)
        feed = self._feeds.get(name)
        if feed is None:
            if self.cluster:
                node = self._redis.get_node_from_key(_channel(code))
                client = aioredis.Redis(
                    host=node.host,
                    port=node.port,
                    decode_responses=True,
                    socket_connect_timeout=self._socket_timeout,
                    retry=Retry(NoBackoff(), 0),
                )
            else:
                client = aioredis.Redis.from_url(
                    self._url,
                    decode_responses=True,
                    socket_connect_timeout=self._socket_timeout,
                    retry=Retry(NoBackoff(), 0),
                )
            feed = self._feeds[name] = _Feed(self, name, client)
        return feed

    def _deliver(self, code: str, events: list[StoredEvent], *, remote: bool = False, skip_gap: bool = False) -> bool:
        """Hand the not-yet-delivered events to the listeners; False (nothing delivered) on a gap."""
        last = self._delivered.get(code)
        if last is None:
            # a room nobody here watches yet (a local commit): nothing to order against, pass it on as it is.
            # Sockets of the room are still in `watch`, their live events held back, and the log read they make
            # after it holds this commit; the hub drops what they got twice and never sends past a hole.
            fresh = events
        else:
            fresh = [e for e in events if e.id > last]
            if not fresh:
                return True
            if fresh[0].id != last + 1 and not skip_gap:
                return False
            self._delivered[code] = fresh[-1].id
        if remote:
            received = time.time()
            for event in fresh:
                self._metrics.cross_process_lag.observe(max(0.0, received - event.ts))
        for listener in self._listeners:
            try:
                listener(code, fresh)
            except Exception:  # one broken listener must not lose the commit for the others
                log.exception("store listener failed")
        return True

    async def _catch_up(self, codes: list[str]) -> None:
        """After a reconnect: deliver from each watched room's stream what was committed while we were away.

        Rooms that vanished are reported to the reset listeners (their sockets close). A room whose last id
        went backwards lost its latest writes (Redis restarted from an older copy): ids below what clients
        hold will be handed out again, so the room gets a new epoch and its sockets resync.
        """
        watched = [code for code in codes if code in self._delivered]
        if not watched:
            return
        await self._check_generation()
        # What had been delivered when the read went out: commits landing while it is in flight (players
        # connecting, clues) raise `_delivered` past the last id it returns, which is no loss. Compared with the
        # live value, they made a healthy room look rewound: a new epoch and every socket of it cut (seen with
        # sockets connecting while a fresh process subscribed).
        seen = {code: self._delivered[code] for code in watched}
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in watched:
                pipe.hmget(_room_key(code), ["seq", "epoch"])
            heads = await pipe.execute()
        for code, (seq, epoch) in zip(watched, heads, strict=True):
            if code not in self._delivered:
                continue  # unwatched meanwhile
            if seq is None:
                self._delivered.pop(code, None)
                self._reset(code)
            elif int(seq) < seen[code]:
                log.warning("redis store: room %s went back from id %s to %s; new epoch", code, seen[code], seq)
                self._metrics.store_data_losses.inc()
                with contextlib.suppress(NotFound):  # deleted meanwhile: nothing left to rekey
                    await self.mutate(code, functools.partial(_rekey, expected=epoch), time.time())
                if code in self._delivered:
                    self._delivered[code] = int(seq)
                self._reset(code)
        watched = [code for code in watched if code in self._delivered]
        if not watched:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in watched:
                pipe.xrange(_log_key(code), f"{self._delivered[code] + 1}-0", "+")
            results = await pipe.execute()
        for code, entries in zip(watched, results, strict=True):
            if entries and code in self._delivered:
                self._deliver(code, _parse_entries(entries), remote=True, skip_gap=True)

    async def _on_message(self, channel: str, data: str) -> None:
        message = json.loads(data)
        code = message["c"]
        if self.interest.get(code, 0) <= 0:
            # already unwatched, its SUNSUBSCRIBE still on the way: work spent on a room nobody here holds
            self._metrics.foreign_events_decoded.inc(len(message.get("e", ())))
            return
        if message.get("deleted"):
            self._delivered.pop(code, None)
            self._reset(code)
            return
        remote = message["o"] != self._origin
        events = [StoredEvent.from_dict(e) for e in message["e"]]
        if code not in self._delivered:
            # subscribed but not seeded yet (watch is reading the last id): these are news, the rest the
            # caller reads itself after watch returns
            self._delivered[code] = events[0].id - 1
        if self._deliver(code, events, remote=remote):
            return
        # a gap: commits we never got (or a local commit that overtook them); read them from the stream
        start = self._delivered.get(code, 0) + 1
        with self._guard("subscribe"):
            entries = await self._redis.xrange(_log_key(code), f"{start}-0", f"{events[-1].id}-0")
        self._deliver(code, _parse_entries(entries), remote=True, skip_gap=True)

    # ---- silent losses: an evicting policy, rooms vanished under live sockets ---------------------------

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

    async def _start_loss_checks(self) -> None:
        hazard = await self.eviction_hazard()
        if hazard is not None:
            log.error("redis store: %s (this process reports not ready until it is fixed)", hazard)
        self._vanish_task = asyncio.create_task(self._vanish_loop(), name="parlor-redis-vanished")

    async def _stop_loss_checks(self) -> None:
        if self._vanish_task is not None:
            self._vanish_task.cancel()
            await asyncio.wait({self._vanish_task}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
            self._vanish_task = None

    async def _vanish_loop(self) -> None:
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
        codes = list(self._delivered)  # watched and seeded; a room reported once leaves it
        if not codes:
            return []
        suspects = await (self._suspects_in_cluster(codes) if self.cluster else self._suspects_on_one(codes))
        if not suspects:
            return []
        # confirmed key by key through the client's routing: a script may miss a key whose slot is migrating
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in suspects:
                pipe.exists(_room_key(code))
            found = await pipe.execute()
        gone = [code for code, there in zip(suspects, found, strict=True) if not there]
        for code in gone:
            self._vanished(code)
        return gone

    async def _suspects_on_one(self, codes: list[str]) -> list[str]:
        """One EXISTS over every key (about 2 ms for 1000 rooms): the common answer, all there, in one command."""
        if await self._redis.exists(*map(_room_key, codes)) == len(codes):
            return []
        return codes

    async def _suspects_in_cluster(self, codes: list[str]) -> list[str]:
        """One script per node over the keys it serves (a command per room costs this loop about 0.1 ms each, a
        tenth of it for 1000 rooms); keys of several slots in one call need Redis 7's cross-slot flag."""
        by_node: dict[str, list[str]] = {}
        for code in codes:
            by_node.setdefault(self._node_name(code), []).append(code)
        suspects = []
        for name, group in by_node.items():
            node = self._redis.get_node(node_name=name)
            missing = await self._redis.execute_command("EVAL", _MISSING, 0, *map(_room_key, group), target_nodes=node)
            suspects += [group[int(i) - 1] for i in missing]
        return suspects

    def _vanished(self, code: str) -> None:
        """A room found missing: if sockets or long-polls here watch it, the reset listeners close them (4404).

        Once per loss: the room leaves `_delivered` here, as it does when a delete message or a catch-up reports
        it, so a room deleted on purpose is not counted again when its closing sockets' reads miss it."""
        if code not in self._delivered:
            return
        log.warning("redis store: watched room %s vanished without a delete (flushed or evicted)", code)
        self._metrics.store_data_losses.inc()
        self._delivered.pop(code, None)
        self._reset(code)

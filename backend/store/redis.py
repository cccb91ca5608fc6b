"""The shared store: rooms, logs and wake-ups in Redis, so any number of backend processes serve one game.

Layout (prefix `parlor:`):
  room:{code}   hash  state (Room JSON), v (version, bumped by every commit), seq (last event id), epoch
  generation    a random token written once into an empty Redis: when it changes or vanishes, Redis lost data
  log:{code}    stream of the room's events, entry id `<event id>-0`, capped at log_size (exact MAXLEN)
  rooms         set of room codes
  wakeups       zset code -> next wake-up (deadline or bot move)
  kv:{key}      JSON values (shared flag state and the like)
  commits       pub/sub channel: every commit as {"o": origin, "c": code, "e": [events]}

A commit is one Lua script: it checks the version read before `fn` ran (optimistic concurrency: on a
conflict `mutate` re-reads and re-runs `fn` on a fresh Room), writes the state, appends the events, sets
the wake-up and publishes, all atomically. Publishing inside the script makes the channel's order the
commit order, so each process sees a room's commits in id order.

Fan-out: local commits reach the listeners right away; the subscriber task delivers everything else. Each
room's last delivered id makes delivery exactly-once and in order per process: anything at or below it is
dropped, and a gap (a message lost while the subscription was down) is filled from the stream. After a
reconnect every room is caught up from its stream before new messages are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from backend.core.errors import Conflict, NotFound, Unavailable
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.metrics import Metrics, get_metrics
from backend.store import Listener, LogSlice, Mutation, ResetListener

T = TypeVar("T")
log = logging.getLogger(__name__)

PREFIX = "parlor:"
ROOMS_KEY = PREFIX + "rooms"
WAKEUPS_KEY = PREFIX + "wakeups"
CHANNEL = PREFIX + "commits"
GENERATION_KEY = PREFIX + "generation"
MAX_ATTEMPTS = 100
# A claimed wake-up is pushed this far ahead rather than removed: the tick's commit replaces it, and if the
# claiming process dies before committing, another one fires the room once the lease runs out.
CLAIM_LEASE_SECONDS = 5.0
CLAIM_BATCH = 200
RECONNECT_MAX_DELAY = 2.0
CLOSE_TIMEOUT_SECONDS = 1.0  # bound on closing a connection that Redis (or the network) already dropped
START_WAIT_SECONDS = 3.0
# How long a call waits for a free pooled connection when all are busy (a loaded event loop, not Redis down:
# a refused connection fails at once).
POOL_WAIT_SECONDS = 10.0

# KEYS: room, log, rooms, wakeups. ARGV: expected version ('' to create), state, seq, wake-up ('' for none),
# maxlen, channel, message, code, epoch, max log bytes, then (stream id, event JSON) pairs. The room hash's
# `lb` field holds the log's bytes; the oldest entries go while the log is over either bound.
# Returns the new version, -1 on a version conflict (or an existing code on create), -2 for a deleted room.
_COMMIT = """
local v = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if v then return -1 end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'lb', 0)
  redis.call('SADD', KEYS[3], ARGV[8])
  v = '0'
elseif not v then
  return -2
elseif v ~= ARGV[1] then
  return -1
end
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'v', nv, 'seq', ARGV[3], 'epoch', ARGV[9])
local lb = tonumber(redis.call('HGET', KEYS[1], 'lb') or '0')
for i = 11, #ARGV, 2 do
  redis.call('XADD', KEYS[2], ARGV[i], 'e', ARGV[i + 1])
  lb = lb + #ARGV[i + 1]
end
local maxlen, maxbytes = tonumber(ARGV[5]), tonumber(ARGV[10])
local n = redis.call('XLEN', KEYS[2])
while n > 1 and (n > maxlen or lb > maxbytes) do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  lb = lb - #first[2][2]
  redis.call('XDEL', KEYS[2], first[1])
  n = n - 1
end
redis.call('HSET', KEYS[1], 'lb', lb)
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[4], ARGV[8])
else
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[8])
end
if #ARGV >= 11 then
  redis.call('PUBLISH', ARGV[6], ARGV[7])
end
return nv
"""

# KEYS: wakeups. ARGV: now, lease until, room key prefix, batch. Due rooms are leased in one atomic step,
# so each is handed to exactly one caller; wake-ups of rooms that no longer exist are dropped.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local claimed = {}
for _, code in ipairs(due) do
  if redis.call('EXISTS', ARGV[3] .. code) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[2], code)
    claimed[#claimed + 1] = code
  else
    redis.call('ZREM', KEYS[1], code)
  end
end
return claimed
"""


def _room_key(code: str) -> str:
    return f"{PREFIX}room:{code}"


def _log_key(code: str) -> str:
    return f"{PREFIX}log:{code}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _rekey(room: Room, expected: str | None) -> list[Event]:
    return room.rekey(secrets.token_hex(6), expected)


def _parse_entries(entries: Any) -> list[StoredEvent]:
    """XRANGE rows: (stream id, {"e": event JSON})."""
    return [StoredEvent.from_dict(json.loads(fields["e"])) for _id, fields in entries]


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
        # No client-side retries: re-sending a commit whose reply was lost would make `mutate` re-run `fn`
        # on a state that already holds its effect. A failed call surfaces as 503 and the caller retries.
        # A blocking pool: a burst (hundreds of sockets resuming at once) waits for a connection instead of
        # failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        self._commit_script = self._redis.register_script(_COMMIT)
        self._claim_script = self._redis.register_script(_CLAIM)
        self._origin = secrets.token_hex(8)
        self._listeners: list[Listener] = []
        self._reset_listeners: list[ResetListener] = []
        self._generation: str | None = None  # the token seen in Redis; a different one means Redis lost data
        self._delivered: dict[str, int] = {}  # room -> last event id handed to the listeners here
        self._subscriber: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the subscriber; wait a little for it, but boot anyway if Redis is down (it keeps retrying)."""
        self._subscriber = asyncio.create_task(self._subscribe_forever(), name="parlor-redis-subscriber")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), START_WAIT_SECONDS)
        if not self._subscribed.is_set():
            log.warning("redis store: not subscribed yet; serving will resume when Redis answers")

    async def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._subscriber, 2 * CLOSE_TIMEOUT_SECONDS)
            self._subscriber = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._redis.aclose(), CLOSE_TIMEOUT_SECONDS)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping()) and self._subscribed.is_set()
        except (RedisError, OSError):
            self._metrics.store_errors.labels("read").inc()
            return False

    # ---- rooms -----------------------------------------------------------------------------------------

    async def create_room(self, room: Room, events: list[Event], now: float) -> list[StoredEvent]:
        stored = self._number(room, events, now)
        result = await self._commit(room, stored, None)
        if result == -1:
            raise Conflict("room code already in use", "room_exists")
        self._deliver(room.code, stored)
        return stored

    async def mutate(self, code: str, fn: Mutation, now: float) -> tuple[Room, list[StoredEvent]]:
        for attempt in range(MAX_ATTEMPTS):
            with self._guard("read"):
                state, version = await self._redis.hmget(_room_key(code), ["state", "v"])
            if state is None:
                raise self._unknown(code)
            room = Room.from_dict(json.loads(state))
            stored = self._number(room, fn(room), now)
            result = await self._commit(room, stored, str(version))
            if result > 0:
                self._deliver(code, stored)
                return room, stored
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
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hmget(_room_key(code), ["seq", "epoch"])
                pipe.xrange(_log_key(code), f"{after + 1}-0", "+")
                (seq, epoch), entries = await pipe.execute()
        if seq is None:
            raise self._unknown(code)
        last = int(seq)
        if after >= last:
            return LogSlice([], after == last, last, epoch or "")
        events = _parse_entries(entries)
        # ids are dense: the log reaches back far enough exactly when it starts right after `after`
        complete = bool(events) and events[0].id == after + 1
        return LogSlice(events, complete, last, epoch or "")

    async def delete_room(self, code: str) -> None:
        with self._guard("write"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(_room_key(code), _log_key(code))
                pipe.srem(ROOMS_KEY, code)
                pipe.zrem(WAKEUPS_KEY, code)
                pipe.publish(CHANNEL, _dumps({"o": self._origin, "c": code, "deleted": True}))
                await pipe.execute()
        self._delivered.pop(code, None)

    async def room_codes(self) -> list[str]:
        with self._guard("read"):
            return [str(code) for code in await self._redis.smembers(ROOMS_KEY)]

    async def count_rooms(self) -> int:
        with self._guard("read"):
            return int(await self._redis.scard(ROOMS_KEY))

    # ---- wake-ups --------------------------------------------------------------------------------------

    async def claim_due(self, now: float) -> list[str]:
        with self._guard("write"):
            claimed = await self._claim_script(
                keys=[WAKEUPS_KEY], args=[repr(now), repr(now + CLAIM_LEASE_SECONDS), PREFIX + "room:", CLAIM_BATCH]
            )
        return list(claimed)

    async def next_wakeup(self) -> float | None:
        with self._guard("read"):
            first = await self._redis.zrange(WAKEUPS_KEY, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # ---- commits ---------------------------------------------------------------------------------------

    def _number(self, room: Room, events: list[Event], now: float) -> list[StoredEvent]:
        stored = []
        for event in events:
            room.event_seq += 1
            stored.append(StoredEvent(room.event_seq, now, event.type, event.data, event.to))
        return stored

    async def _commit(self, room: Room, stored: list[StoredEvent], version: str | None) -> int:
        when = room.next_wakeup()
        message = _dumps({"o": self._origin, "c": room.code, "e": [e.to_dict() for e in stored]})
        args: list[str | int] = [
            "" if version is None else version,
            _dumps(room.to_dict()),
            room.event_seq,
            "" if when is None else repr(when),
            self._log_size,
            CHANNEL,
            message,
            room.code,
            room.epoch,
            self._log_bytes,
        ]
        for event in stored:
            args += [f"{event.id}-0", _dumps(event.to_dict())]
        with self._guard("write"):
            result = await self._commit_script(
                keys=[_room_key(room.code), _log_key(room.code), ROOMS_KEY, WAKEUPS_KEY], args=args
            )
        return int(result)

    @contextlib.contextmanager
    def _guard(self, op: str) -> Iterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            self._metrics.store_errors.labels(op).inc()
            log.warning("redis store: %s failed: %r", op, exc)
            raise Unavailable("store unavailable", "store_unavailable") from exc

    def _unknown(self, code: str) -> NotFound:
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
        token = secrets.token_hex(8)
        await self._redis.set(GENERATION_KEY, token, nx=True)
        current = str(await self._redis.get(GENERATION_KEY))
        lost = self._generation is not None and current != self._generation
        self._generation = current
        if lost:
            self._metrics.store_data_losses.inc()
            log.warning("redis store: Redis came back without the data it had (generation changed)")
        return lost

    def _deliver(self, code: str, events: list[StoredEvent], *, remote: bool = False, skip_gap: bool = False) -> bool:
        """Hand the not-yet-delivered events to the listeners; False (nothing delivered) on a gap."""
        last = self._delivered.get(code, 0)
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

    async def _subscribe_forever(self) -> None:
        delay = 0.05
        seeded = False
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while (await pubsub.get_message(timeout=None) or {}).get("type") != "subscribe":
                    pass
                # subscribed first, then read the logs: nothing committed in between can slip through
                if seeded:
                    await self._catch_up()
                else:
                    await self._seed()
                    seeded = True
                self._subscribed.set()
                delay = 0.05
                log.info("redis store: subscribed to %s", CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message["type"] == "message":
                        await self._on_message(message["data"])
            except (RedisError, OSError) as exc:
                self._metrics.store_errors.labels("subscribe").inc()
                log.warning("redis store: subscription lost (%r); reconnecting in %.2f s", exc, delay)
            finally:
                self._subscribed.clear()
                # a killed connection can leave aclose() waiting forever: never let cleanup hang the loop
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(pubsub.aclose(), CLOSE_TIMEOUT_SECONDS)  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def _seed(self) -> None:
        """On the first subscription: every existing room counts as delivered up to its current last id."""
        await self._check_generation()
        codes = [str(code) for code in await self._redis.smembers(ROOMS_KEY)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.hget(_room_key(code), "seq")
            seqs = await pipe.execute()
        for code, seq in zip(codes, seqs, strict=True):
            if seq is not None:
                self._delivered.setdefault(code, int(seq))

    async def _catch_up(self) -> None:
        """After a reconnect: deliver from each room's stream what was committed while we were away.

        Rooms that vanished are reported to the reset listeners (their sockets close). A room whose last id
        went backwards lost its latest writes (Redis restarted from an older copy): ids below what clients
        hold will be handed out again, so the room gets a new epoch and its sockets resync.
        """
        await self._check_generation()
        codes = {str(code) for code in await self._redis.smembers(ROOMS_KEY)}
        for gone in set(self._delivered) - codes:
            del self._delivered[gone]
            self._reset(gone)
        ordered = sorted(codes)
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in ordered:
                pipe.hmget(_room_key(code), ["seq", "epoch"])
            heads = await pipe.execute()
        for code, (seq, epoch) in zip(ordered, heads, strict=True):
            if seq is not None and int(seq) < self._delivered.get(code, 0):
                log.warning(
                    "redis store: room %s went back from id %s to %s; new epoch", code, self._delivered[code], seq
                )
                self._metrics.store_data_losses.inc()
                await self.mutate(code, functools.partial(_rekey, expected=epoch), time.time())
                self._delivered[code] = int(seq)
                self._reset(code)
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in ordered:
                pipe.xrange(_log_key(code), f"{self._delivered.get(code, 0) + 1}-0", "+")
            results = await pipe.execute()
        for code, entries in zip(ordered, results, strict=True):
            if entries:
                self._deliver(code, _parse_entries(entries), remote=True, skip_gap=True)

    async def _on_message(self, data: str) -> None:
        message = json.loads(data)
        code = message["c"]
        if message.get("deleted"):
            self._delivered.pop(code, None)
            self._reset(code)
            return
        remote = message["o"] != self._origin
        events = [StoredEvent.from_dict(e) for e in message["e"]]
        if self._deliver(code, events, remote=remote):
            return
        # a gap: commits we never got (or a local commit that overtook them); read them from the stream
        start = self._delivered.get(code, 0) + 1
        entries = await self._redis.xrange(_log_key(code), f"{start}-0", f"{events[-1].id}-0")
        self._deliver(code, _parse_entries(entries), remote=True, skip_gap=True)

"""The Redis store's fan-out: commits of the rooms this process watches, from Redis pub/sub to the listeners.

Local commits reach the listeners right away (the store hands them to `deliver`). Remote commits arrive only for
rooms this process watches (it holds a socket or a long-poll there): `watch` subscribes the room's channel on
the node that owns its slot and returns once Redis confirmed the subscription, so a read made after it cannot
miss a commit. Each watched room's last delivered id makes delivery exactly-once and in order: anything at or
below it is dropped, and a gap (a message lost while a subscription was down) is filled from the stream.

Lost history: after a subscription comes back, each watched room is read again. A room that vanished (Redis
restarted empty, or deleted while we were away) and a room whose last id went backwards (Redis restarted from
an older copy: ids that clients already hold will be handed out again) are reported to the reset listeners; the
latter first gets a new epoch, so clients holding the old ids resync from a snapshot.

Per process, all of it: the listeners, each watched room's count of local watchers (`interest`) and last
delivered id, one pub/sub connection and reader task per Redis node, and the generation token last seen. Another
process watching the same room holds its own; nothing here is shared through Redis but the channels.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from backend.core.errors import NotFound, Unavailable
from backend.game.events import StoredEvent
from backend.metrics import Metrics
from backend.store import Listener, ResetListener
from backend.store.redis_shared import (
    CLOSE_TIMEOUT_SECONDS,
    GENERATION_KEY,
    channel_of,
    code_of,
    guard,
    log_key,
    parse_entries,
    room_key,
    within,
)

log = logging.getLogger("backend.store.redis")  # the store's one logger, as before the split: log filters stay valid

RECONNECT_MAX_DELAY = 2.0
WATCH_TIMEOUT_SECONDS = 5.0  # a subscription Redis does not confirm by then surfaces as Unavailable

Rekey = Callable[[str, str | None], Awaitable[object]]  # gives a room a new epoch (see Room.epoch)


class _Feed:
    """One node's sharded subscriptions: a pub/sub connection, its channels, and the reader task.

    Subscribe and unsubscribe requests are sent in the order they are made; each SSUBSCRIBE's confirmation
    resolves the future of that request, so `subscribe` returns only once Redis routes the channel to us."""

    def __init__(self, feeds: RoomFeeds, name: str, client: aioredis.Redis) -> None:
        self.feeds = feeds
        self.name = name
        self.client = client
        self.pubsub: Any = None
        self.subscribed: set[str] = set()
        self.confirms: dict[str, collections.deque[asyncio.Future[None]]] = {}
        self.lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"parlor-redis-feed-{name}")

    async def sync(self, channel: str) -> asyncio.Future[None] | None:
        """Bring the channel's subscription in line with the process's interest; while it is wanted, the future of
        its SSUBSCRIBE's confirmation (None once confirmed)."""
        async with self.lock:
            want = self.feeds.interest.get(code_of(channel), 0) > 0
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
                        await self.pubsub.ssubscribe(channel_of("-"))
                        await self.pubsub.sunsubscribe(channel_of("-"))
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
                        await self.feeds._on_message(channel, message["data"])
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
                            await self.feeds._catch_up([code_of(c) for c in channels])
            except (RedisError, OSError, Unavailable) as exc:  # Unavailable: a catch-up read or rekey failed
                self.feeds._metrics.store_errors.labels("subscribe").inc()
                log.warning("redis store: subscription to %s lost (%r); reconnecting in %.2f s", self.name, exc, delay)
            finally:
                self.connected.clear()
                # a killed connection can leave aclose() waiting forever: never let cleanup hang the loop; a
                # cancellation (close()) arriving here ends the loop instead of being swallowed with the cleanup
                await within(self.pubsub.aclose(), CLOSE_TIMEOUT_SECONDS)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.wait({self.task}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
        for queue in self.confirms.values():
            for future in queue:
                future.cancel()
        await within(self.client.aclose(), CLOSE_TIMEOUT_SECONDS)


class RoomFeeds:
    """The watched rooms' subscriptions, one `_Feed` per Redis node, and the delivery of their commits."""

    def __init__(
        self,
        redis: Any,
        *,
        url: str,
        cluster: bool,
        socket_timeout: float,
        origin: str,
        metrics: Metrics,
        rekey: Rekey,
    ) -> None:
        """`redis` is the store's command client; `origin` marks this process's own commits; `rekey` gives a room
        a new epoch (a commit, so the store's)."""
        self._redis = redis
        self._url = url
        self.cluster = cluster
        self._socket_timeout = socket_timeout
        self._origin = origin
        self._metrics = metrics
        self._rekey = rekey
        self._listeners: list[Listener] = []
        self._reset_listeners: list[ResetListener] = []
        self._generation: str | None = None  # the token seen in Redis; a different one means Redis lost data
        self.interest: dict[str, int] = {}  # watched room -> local sockets and long-polls in it
        self._delivered: dict[str, int] = {}  # watched room -> last event id handed to the listeners here
        self._nodes: dict[str, _Feed] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def close(self) -> None:
        for feed in list(self._nodes.values()):
            await feed.close()
        self._nodes.clear()

    def watched(self) -> list[str]:
        """The rooms watched here whose delivery has started (a room reported lost leaves them)."""
        return list(self._delivered)

    def forget(self, code: str) -> bool:
        """Stop tracking the room's delivery (deleted or lost); False if it was not tracked."""
        return self._delivered.pop(code, None) is not None

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_resets(self, listener: ResetListener) -> None:
        self._reset_listeners.append(listener)

    def reset(self, code: str) -> None:
        for listener in self._reset_listeners:
            try:
                listener(code)
            except Exception:
                log.exception("store reset listener failed")

    async def check_generation(self) -> bool:
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
            future = await feed.sync(channel_of(code))
            if future is not None:
                await asyncio.wait_for(asyncio.shield(future), WATCH_TIMEOUT_SECONDS)
            if code not in self._delivered:
                # Subscribed: from here every commit reaches us. Earlier ones are the caller's to read, so
                # delivery starts after the last id committed now, unless another watcher or a message that came
                # in meanwhile set the cursor already. Then it is left alone: sockets may be live on it, and
                # raising it to this read's id would drop, for them, the commits that are still on the way (the
                # event missing from one player's stream after a rolling restart).
                seq = await self._redis.hget(room_key(code), "seq")
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
        feed = self._nodes.get(self.node_name(code))
        if feed is not None:
            task = asyncio.get_running_loop().create_task(self._quietly(feed.sync(channel_of(code))))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        with contextlib.suppress(RedisError, OSError):
            await call

    def node_name(self, code: str) -> str:
        if not self.cluster:
            return "redis"
        return str(self._redis.get_node_from_key(channel_of(code)).name)

    def _feed_for(self, code: str) -> _Feed:
        name = self.node_name(code)
        feed = self._nodes.get(name)
        if feed is None:
            if self.cluster:
                node = self._redis.get_node_from_key(channel_of(code))
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
            feed = self._nodes[name] = _Feed(self, name, client)
        return feed

    def deliver(self, code: str, events: list[StoredEvent], *, remote: bool = False, skip_gap: bool = False) -> bool:
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
        await self.check_generation()
        # What had been delivered when the read went out: commits landing while it is in flight (players
        # connecting, clues) raise `_delivered` past the last id it returns, which is no loss. Compared with the
        # live value, they made a healthy room look rewound: a new epoch and every socket of it cut (seen with
        # sockets connecting while a fresh process subscribed).
        seen = {code: self._delivered[code] for code in watched}
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in watched:
                pipe.hmget(room_key(code), ["seq", "epoch"])
            heads = await pipe.execute()
        for code, (seq, epoch) in zip(watched, heads, strict=True):
            if code not in self._delivered:
                continue  # unwatched meanwhile
            if seq is None:
                self._delivered.pop(code, None)
                self.reset(code)
            elif int(seq) < seen[code]:
                log.warning("redis store: room %s went back from id %s to %s; new epoch", code, seen[code], seq)
                self._metrics.store_data_losses.inc()
                with contextlib.suppress(NotFound):  # deleted meanwhile: nothing left to rekey
                    await self._rekey(code, epoch)
                if code in self._delivered:
                    self._delivered[code] = int(seq)
                self.reset(code)
        watched = [code for code in watched if code in self._delivered]
        if not watched:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in watched:
                pipe.xrange(log_key(code), f"{self._delivered[code] + 1}-0", "+")
            results = await pipe.execute()
        for code, entries in zip(watched, results, strict=True):
            if entries and code in self._delivered:
                self.deliver(code, parse_entries(entries), remote=True, skip_gap=True)

    async def _on_message(self, channel: str, data: str) -> None:
        message = json.loads(data)
        code = message["c"]
        if self.interest.get(code, 0) <= 0:
            # already unwatched, its SUNSUBSCRIBE still on the way: work spent on a room nobody here holds
            self._metrics.foreign_events_decoded.inc(len(message.get("e", ())))
            return
        if message.get("deleted"):
            self._delivered.pop(code, None)
            self.reset(code)
            return
        remote = message["o"] != self._origin
        events = [StoredEvent.from_dict(e) for e in message["e"]]
        if code not in self._delivered:
            # subscribed but not seeded yet (watch is reading the last id): these are news, the rest the
            # caller reads itself after watch returns
            self._delivered[code] = events[0].id - 1
        if self.deliver(code, events, remote=remote):
            return
        # a gap: commits we never got (or a local commit that overtook them); read them from the stream
        start = self._delivered.get(code, 0) + 1
        with guard(self._metrics, "subscribe"):
            entries = await self._redis.xrange(log_key(code), f"{start}-0", f"{events[-1].id}-0")
        self.deliver(code, parse_entries(entries), remote=True, skip_gap=True)

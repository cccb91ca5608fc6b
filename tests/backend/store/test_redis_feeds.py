"""The Redis store's fan-out (backend/store/redis_feeds.py), through the store as other code uses it: commits
reach other processes' listeners once and in order, only for watched rooms, across lost subscriptions, and
rooms lost or rewound meanwhile are reset."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from backend.metrics import Metrics
from backend.store.redis import RedisStore
from tests.backend.store.conftest import RedisTarget, StoreFactory, flush
from tests.backend.store.test_redis_store import Recorder, errors
from tests.backend.store.test_store import CREATED, NOW, bump, new_room, note

pytestmark = pytest.mark.redis


async def test_listeners_get_remote_commits_once_and_in_order(
    redis_stores: StoreFactory, registry: CollectorRegistry
) -> None:
    """Commits from either process reach the other's listeners exactly once, in id order, lag recorded."""
    a, b = await redis_stores(), await redis_stores()
    heard_a, heard_b = Recorder(), Recorder()
    a.subscribe(heard_a)
    b.subscribe(heard_b)
    await a.create_room(*new_room(), NOW)
    await a.watch("ABCDE")
    await b.watch("ABCDE")
    await asyncio.gather(*(s.mutate("ABCDE", lambda r: [note(0)], time.time()) for _ in range(25) for s in (a, b)))
    last = CREATED + 50
    assert await heard_a.until("ABCDE", last) == list(range(1, last + 1))
    assert await heard_b.until("ABCDE", last) == list(range(CREATED + 1, last + 1))
    await asyncio.sleep(0.1)
    assert heard_a.ids["ABCDE"] == list(range(1, last + 1))
    assert heard_b.ids["ABCDE"] == list(range(CREATED + 1, last + 1))
    # b watched after the creation (that is its resume read's part): it heard a's 25 commits, a heard b's 25
    assert registry.get_sample_value("parlor_cross_process_lag_seconds_count") == 50


async def test_subscriber_catches_up_after_losing_its_connection(
    redis_stores: StoreFactory, redis_target: RedisTarget, registry: CollectorRegistry
) -> None:
    """Commits made while a process's subscription is cut reach its listeners after it reconnects, for every room
    it watches (several rooms on one cluster node are several slots: one SSUBSCRIBE each, or CROSSSLOT)."""
    a, b = await redis_stores(), await redis_stores()
    heard = Recorder()
    a.subscribe(heard)
    codes = ["ABCDE", "FGHJK", "LMNPQ", "RSTUV", "WXYZ2", "34567"]
    for code in codes:
        await b.create_room(*new_room(code), NOW)
        await a.watch(code)
        await b.mutate(code, lambda r: [note(-1)], time.time())
        await heard.until(code, CREATED + 1)
    admins = [aioredis.Redis(host="127.0.0.1", port=port) for port in redis_target.ports]
    before = errors(registry, "subscribe")
    for n in range(5):
        for admin in admins:
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        for code in codes:
            await b.mutate(code, lambda r, n=n: [note(n)], time.time())
    for admin in admins:
        await admin.aclose()
    for code in codes:
        assert await heard.until(code, CREATED + 6) == list(range(CREATED + 1, CREATED + 7)), code
    assert errors(registry, "subscribe") > before
    assert await a.ping()


async def test_a_process_receives_only_the_rooms_it_watches(
    redis_stores: StoreFactory, registry: CollectorRegistry
) -> None:
    """Remote commits arrive only for watched rooms; unwatching stops them; nothing foreign is decoded."""
    a, b = await redis_stores(), await redis_stores()
    heard = Recorder()
    a.subscribe(heard)
    for code in ("WATCH", "OTHER"):
        await b.create_room(*new_room(code), NOW)
    await a.watch("WATCH")
    await a.watch("WATCH")  # a second socket of the same room: counted, one subscription
    for n in range(3):
        await b.mutate("WATCH", lambda r, n=n: [note(n)], time.time())
        await b.mutate("OTHER", lambda r, n=n: [note(n)], time.time())
    assert await heard.until("WATCH", CREATED + 3) == [CREATED + 1, CREATED + 2, CREATED + 3]
    a.unwatch("WATCH")
    await b.mutate("WATCH", lambda r: [note(9)], time.time())
    assert (await heard.until("WATCH", CREATED + 4))[-1] == CREATED + 4  # still one watcher left
    a.unwatch("WATCH")
    await asyncio.sleep(0.1)  # the SUNSUBSCRIBE is on its way
    await b.mutate("WATCH", lambda r: [note(10)], time.time())
    await b.mutate("OTHER", lambda r: [note(10)], time.time())
    await asyncio.sleep(0.2)
    assert "OTHER" not in heard.ids and heard.ids["WATCH"][-1] == CREATED + 4
    assert registry.get_sample_value("parlor_store_foreign_events_decoded_total") == 0


async def test_watch_then_read_misses_no_commit_made_meanwhile(redis_stores: StoreFactory) -> None:
    """Subscribe-then-read under a stream of commits from another process: from the id read, nothing is lost."""
    a, b = await redis_stores(), await redis_stores()
    await b.create_room(*new_room(), NOW)
    stop = asyncio.Event()

    async def commit_forever() -> None:
        while not stop.is_set():
            await b.mutate("ABCDE", lambda r: [note(0)], time.time())

    writer = asyncio.create_task(commit_forever())
    try:
        for _ in range(15):
            heard = Recorder()
            a.subscribe(heard)
            await a.watch("ABCDE")
            seen = await a.read("ABCDE", lambda r: r.event_seq)  # the resume read of a socket
            got = await heard.until("ABCDE", seen + 5)
            after = [i for i in got if i > seen]
            assert after == list(range(seen + 1, after[-1] + 1)), f"lost or reordered after {seen}: {after[:10]}"
            a.unwatch("ABCDE")
            a.feeds._listeners.remove(heard)  # type: ignore[attr-defined]
            await asyncio.sleep(random.uniform(0, 0.02))
    finally:
        stop.set()
        await writer


async def test_rooms_lost_or_rewound_while_a_subscription_was_down_are_reset(
    redis_stores: StoreFactory, redis_target: RedisTarget, registry: CollectorRegistry
) -> None:
    """After its subscription comes back, a process checks the rooms it watches: one whose keys vanished and one
    restored from an older copy (its last id went back) reach the reset listeners; the latter gets a new epoch."""
    from redis.asyncio.cluster import RedisCluster

    from backend.core.redis_url import parse_url
    from backend.store.redis_shared import log_key, room_key

    a, b = await redis_stores(), await redis_stores()
    heard, resets = Recorder(), []
    a.subscribe(heard)
    a.subscribe_resets(resets.append)
    for code in ("GONEX", "BACKX"):
        await b.create_room(*new_room(code), NOW)
        await a.watch(code)
    url, cluster = parse_url(redis_target.url)
    admin = RedisCluster.from_url(url) if cluster else aioredis.Redis.from_url(url)
    saved = {key: await admin.dump(key) for key in (room_key("BACKX"), log_key("BACKX"))}
    epoch = (await a.events_after("BACKX", 0)).epoch
    for n in range(3):
        await b.mutate("BACKX", lambda r, n=n: [note(n)], time.time())
    await heard.until("BACKX", CREATED + 3)
    for key, value in saved.items():  # Redis back from a copy older than what the process delivered
        await admin.restore(key, 0, value, replace=True)
    await admin.delete(room_key("GONEX"), log_key("GONEX"))  # Redis back without this room
    for port in redis_target.ports:
        node = aioredis.Redis(host="127.0.0.1", port=port)
        await node.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await node.aclose()
    deadline = time.monotonic() + 10
    while sorted(set(resets)) != ["BACKX", "GONEX"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await admin.aclose()
    assert sorted(set(resets)) == ["BACKX", "GONEX"]
    after = await a.events_after("BACKX", CREATED + 3)
    assert after.epoch != epoch and after.last_event_id == CREATED and not after.complete
    assert (registry.get_sample_value("parlor_store_data_losses_total") or 0) >= 1


async def test_commits_during_the_catch_up_read_are_not_taken_for_lost_data(
    redis_stores: StoreFactory, registry: CollectorRegistry
) -> None:
    """The catch-up after a (re)subscribe reads each room's last id; commits that land while that read is in
    flight move the delivered id past what it returns. That is no rewind: no reset, no new epoch, no data-loss
    count (seen in loadtest/replicas.py: a fresh process cut every socket of rooms whose players were joining)."""
    a = await redis_stores()
    resets: list[str] = []
    a.subscribe_resets(resets.append)
    await a.create_room(*new_room("RACEX"), NOW)
    await a.watch("RACEX")
    epoch = (await a.events_after("RACEX", 0)).epoch
    real_pipeline = a.feeds._redis.pipeline

    class CommitWhileInFlight:
        """The catch-up's pipeline, with a commit made and delivered between its answer and its use."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.pipe = real_pipeline(*args, **kwargs)

        async def __aenter__(self) -> CommitWhileInFlight:
            await self.pipe.__aenter__()
            return self

        async def __aexit__(self, *exc: object) -> None:
            await self.pipe.__aexit__(*exc)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.pipe, name)

        async def execute(self) -> Any:
            heads = await self.pipe.execute()
            await a.mutate("RACEX", lambda r: [note(0)], time.time())
            return heads

    a.feeds._redis.pipeline = CommitWhileInFlight
    try:
        await a.feeds._catch_up(["RACEX"])
    finally:
        a.feeds._redis.pipeline = real_pipeline
    assert resets == []
    assert (await a.events_after("RACEX", 0)).epoch == epoch
    assert (registry.get_sample_value("parlor_store_data_losses_total") or 0) == 0


# ---- two sockets of one room arriving together (the event missing after a rolling restart) -----------------


class _LateSeqReads:
    """The store's own client, except that the read of a room's last id made by task `slow` waits for `go`."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.slow: asyncio.Task[Any] | None = None
        self.go = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def hget(self, key: str, field: str) -> Any:
        if field == "seq" and asyncio.current_task() is self.slow:
            await self.go.wait()
        return await self._client.hget(key, field)


class _Delayed(RedisStore):
    """A RedisStore with two delays a loaded process shows in its feeds: pub/sub messages handled only while
    `messages` is set, and one task's read of a room's last id held back (`reads`)."""

    def __init__(self, url: str, metrics: Metrics) -> None:
        super().__init__(url, log_size=50, metrics=metrics)
        self.messages = asyncio.Event()
        self.messages.set()
        self.reads = _LateSeqReads(self.feeds._redis)
        self.feeds._redis = self.reads
        handle = self.feeds._on_message

        async def on_message(channel: str, data: str) -> None:
            await self.messages.wait()
            await handle(channel, data)

        self.feeds._on_message = on_message  # type: ignore[method-assign]


async def _two_processes(redis_server: Any, metrics: Metrics) -> tuple[RedisStore, _Delayed]:
    await flush(RedisTarget(redis_server.url, [redis_server.port]))
    other, here = RedisStore(redis_server.url, metrics=metrics), _Delayed(redis_server.url, metrics)
    await other.start()
    await here.start()
    return other, here


async def test_a_second_socket_arriving_never_moves_delivery_past_what_a_live_socket_still_needs(
    redis_server: Any, metrics: Metrics
) -> None:
    """Two sockets of a room watch it at once; the first is live on the log it read when a commit lands, and the
    second's read of the last id comes back after that commit while its message is still on the way: the
    commit still reaches the first (it used to be dropped as "already delivered": one player missed event 30)."""
    other, here = await _two_processes(redis_server, metrics)
    try:
        seen = Recorder()
        here.subscribe(seen)
        await other.create_room(*new_room(), NOW)
        first = asyncio.create_task(here.watch("ABCDE"))
        second = asyncio.create_task(here.watch("ABCDE"))
        here.reads.slow = second
        await asyncio.wait_for(first, 5)
        held = (await here.events_after("ABCDE", 0)).last_event_id  # the first socket's resume read: live from here
        here.messages.clear()
        await other.mutate("ABCDE", bump, NOW)  # its message waits...
        here.reads.go.set()  # ...while the second socket's read of the last id, made before it, lands after it
        await asyncio.wait_for(second, 5)
        here.messages.set()
        await other.mutate("ABCDE", bump, NOW)
        ids = await seen.until("ABCDE", held + 2)
        assert [i for i in ids if i > held] == [held + 1, held + 2]
    finally:
        await here.close()
        await other.close()


async def test_a_second_watch_waits_for_the_subscription_the_first_one_asked_for(
    redis_server: Any, metrics: Metrics
) -> None:
    """`watch` returns only once the room's commits are sure to reach us, for the second caller too (it used to
    return at once while the first caller's SSUBSCRIBE was still unconfirmed)."""
    other, here = await _two_processes(redis_server, metrics)
    try:
        for code in ("ABCDE", "FGHJK"):
            await other.create_room(*new_room(code), NOW)
        await here.watch("FGHJK")
        here.messages.clear()
        await other.mutate("FGHJK", bump, NOW)  # its message holds the reader: the next confirmation waits behind
        first = asyncio.create_task(here.watch("ABCDE"))
        await asyncio.sleep(0)  # the first SSUBSCRIBE goes out
        second = asyncio.create_task(here.watch("ABCDE"))
        done, _ = await asyncio.wait({first, second}, timeout=0.5)
        assert not done, "a watch returned before Redis confirmed the subscription"
        here.messages.set()
        await asyncio.wait_for(asyncio.gather(first, second), 5)
    finally:
        await here.close()
        await other.close()

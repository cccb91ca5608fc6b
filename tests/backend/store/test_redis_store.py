"""What only the shared store has to get right: several processes on one Redis, and Redis going away."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from backend.core.config import Settings
from backend.core.errors import Unavailable
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.metrics import Metrics
from backend.realtime.hub import Hub
from backend.service import RoomService
from backend.store.redis import RedisStore
from launchers.redis import run_redis
from tests.backend.store.conftest import RedisTarget, StoreFactory
from tests.backend.store.test_store import CREATED, NOW, bump, clue_once, new_room, note, with_deadline

pytestmark = pytest.mark.redis


def errors(registry: CollectorRegistry, op: str) -> float:
    return registry.get_sample_value("parlor_store_errors_total", {"op": op}) or 0.0


def admin_client(target: RedisTarget) -> Any:
    """A decoding client on the stores' Redis (one server or the cluster), to look at their keys directly."""
    from redis.asyncio.cluster import RedisCluster

    from backend.core.redis_url import parse_url

    url, cluster = parse_url(target.url)
    if cluster:
        return RedisCluster.from_url(url, decode_responses=True)
    return aioredis.Redis.from_url(url, decode_responses=True)


class Recorder:
    def __init__(self) -> None:
        self.ids: dict[str, list[int]] = {}
        self.changed = asyncio.Event()

    def __call__(self, code: str, events: list[StoredEvent]) -> None:
        self.ids.setdefault(code, []).extend(e.id for e in events)
        self.changed.set()

    async def until(self, code: str, last: int, timeout: float = 5.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while not self.ids.get(code) or self.ids[code][-1] < last:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))
        return self.ids[code]


async def test_concurrent_mutates_from_two_stores_keep_ids_dense(
    redis_stores: StoreFactory, registry: CollectorRegistry
) -> None:
    """Two processes mutating one room at once: every commit lands once, ids dense, conflicts retried."""
    a, b = await redis_stores(), await redis_stores()
    await a.create_room(*new_room(), NOW)
    calls = 0

    def bump(room: Room) -> list[Event]:
        nonlocal calls
        calls += 1
        room.round += 1  # state and events must move together even when fn is re-run
        return [note(room.round)]

    results = await asyncio.gather(*(s.mutate("ABCDE", bump, NOW) for _ in range(40) for s in (a, b)))
    ids = sorted(e.id for _, stored in results for e in stored)
    assert ids == list(range(CREATED + 1, CREATED + 81))
    assert calls > 80 and registry.get_sample_value("parlor_store_conflicts_total") == calls - 80
    assert await b.read("ABCDE", lambda r: (r.round, r.event_seq)) == (80, CREATED + 80)
    for _, stored in results:  # each commit's event carries the round its own fn run produced
        assert stored[0].data["n"] == stored[0].id - CREATED


async def test_claim_due_hands_each_room_to_exactly_one_process(redis_stores: StoreFactory) -> None:
    """Two processes claiming the same due rooms at once: every room is claimed, none twice."""
    a, b = await redis_stores(), await redis_stores()
    codes = [f"R{n:04d}" for n in range(60)]
    for code in codes:
        await a.create_room(*new_room(code), NOW)
        await a.mutate(code, with_deadline(NOW + 1), NOW)  # type: ignore[arg-type]
    claims = await asyncio.gather(*(s.claim_due(NOW + 2) for _ in range(5) for s in (a, b)))
    flat = [code for claimed in claims for code in claimed]
    assert sorted(flat) == codes
    assert await b.claim_due(NOW + 2) == []


async def test_claim_lease_refires_when_the_claimer_never_commits(redis_stores: StoreFactory) -> None:
    """A process that dies after claiming: the room comes due again once the claim's lease runs out."""
    from backend.store.redis import CLAIM_LEASE_SECONDS

    a, b = await redis_stores(), await redis_stores()
    await a.create_room(*new_room(), NOW)
    await a.mutate("ABCDE", with_deadline(NOW + 1), NOW)  # type: ignore[arg-type]
    assert await a.claim_due(NOW + 2) == ["ABCDE"]
    assert await b.claim_due(NOW + 2 + CLAIM_LEASE_SECONDS / 2) == []
    assert await b.claim_due(NOW + 3 + CLAIM_LEASE_SECONDS) == ["ABCDE"]


async def test_redis_down_raises_unavailable_and_recovers(
    tmp_path: Path, metrics: Metrics, registry: CollectorRegistry
) -> None:
    """With Redis gone every call raises Unavailable (counted) and ping is False; it recovers by itself."""
    with run_redis(tmp_path) as server:
        store = RedisStore(server.url, metrics=metrics, socket_timeout=0.5)
        await store.start()
        heard = Recorder()
        store.subscribe(heard)
        await store.create_room(*new_room(), NOW)
        await store.watch("ABCDE")
        server.shutdown_saving()
        with pytest.raises(Unavailable) as info:
            await store.mutate("ABCDE", lambda r: [note(1)], NOW)
        assert info.value.status == 503 and info.value.code == "store_unavailable"
        with pytest.raises(Unavailable):
            await store.claim_due(NOW)
        assert await store.ping() is False
        assert errors(registry, "read") >= 2 and errors(registry, "write") >= 1
        server.start()
        deadline = time.monotonic() + 10
        while not await store.ping():
            assert time.monotonic() < deadline, "store did not recover"
            await asyncio.sleep(0.05)
        _, stored = await store.mutate("ABCDE", lambda r: [note(1)], NOW)
        assert [e.id for e in stored] == [CREATED + 1]
        assert (await heard.until("ABCDE", CREATED + 1))[-1] == CREATED + 1
        await store.close()


async def test_upkeep_of_idle_rooms_costs_no_per_room_command(
    redis_stores: StoreFactory, redis_target: RedisTarget, metrics: Metrics
) -> None:
    """A service's per-second upkeep sends a few commands whatever the number of idle rooms; expiry still works."""
    store = await redis_stores()
    settings = Settings(store_url=redis_target.url, room_idle_seconds=100)
    service = RoomService(settings, store, Hub(metrics), metrics, clock=lambda: NOW + 50)
    for n in range(60):
        await store.create_room(*new_room(f"R{n:04d}"), NOW)
    older = Room.create("OLDER", host_id="p_host", host_name="Host", token_hash="h", now=NOW - 200)
    await store.create_room(*older, NOW - 200)
    admins = [aioredis.Redis(host="127.0.0.1", port=port, decode_responses=True) for port in redis_target.ports]

    async def commands() -> int:
        total = 0
        for admin in admins:
            stats = await admin.info("commandstats")
            total += sum(int(v["calls"]) for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config"))
        return total

    await service.upkeep.sweep()  # expires OLDER
    assert len(await store.room_codes()) == 60 and "OLDER" not in await store.room_codes()
    before = await commands()
    await service.upkeep.sweep()
    spent = await commands() - before
    assert spent <= 3, f"upkeep sent {spent} commands for 60 idle rooms"
    for admin in admins:
        await admin.aclose()


async def test_idempotency_answers_live_beside_the_room_and_share_its_lifetime(
    redis_stores: StoreFactory, redis_target: RedisTarget
) -> None:
    """Answers sit in the room's own hash slot, outside the state every commit rewrites, with the room's expiry
    (none: rooms leave by delete_room); deleting the room deletes them, and a new room never inherits any."""
    from redis.crc import key_slot

    from backend.store.redis_shared import answers_key, room_key

    store = await redis_stores()
    await store.create_room(*new_room(), NOW)
    await store.mutate_once("ABCDE", bump, NOW, clue_once("k"))
    admin = admin_client(redis_target)
    room_key, answers_key = room_key("ABCDE"), answers_key("ABCDE")
    try:
        assert key_slot(answers_key.encode()) == key_slot(room_key.encode())
        kept = '{"fingerprint":"","answer":{"last_event_id":3,"round":1}}'
        assert await admin.hgetall(answers_key) == {"p_host:clue:k": kept}
        assert "answers" not in json.loads(await admin.hget(room_key, "state"))
        assert await admin.ttl(answers_key) == await admin.ttl(room_key) == -1
        await store.delete_room("ABCDE")
        assert await admin.exists(room_key, answers_key) == 0
        await admin.hset(answers_key, "p_host:clue:k", '{"last_event_id":99,"round":9}')  # left by some old room
        await store.create_room(*new_room(), NOW)
        assert not (await store.mutate_once("ABCDE", bump, NOW, clue_once("k"))).replayed
    finally:
        await admin.aclose()


async def test_two_processes_racing_on_one_key_apply_it_once(
    redis_stores: StoreFactory, registry: CollectorRegistry
) -> None:
    """The same key retried at once through two processes (each store a replica) many times over: one applies
    the move, every other call gets that first answer back, whatever the version conflicts in between."""
    a, b = await redis_stores(), await redis_stores()
    await a.create_room(*new_room(), NOW)
    for n in range(20):
        retries = [s.mutate_once("ABCDE", bump, NOW, clue_once(f"race-{n}")) for _ in range(4) for s in (a, b)]
        others = [a.mutate("ABCDE", bump, NOW), b.mutate("ABCDE", bump, NOW)]  # racers lose on versions too
        answered, _ = await asyncio.gather(asyncio.gather(*retries), asyncio.gather(*others))
        assert sum(not r.replayed for r in answered) == 1, f"round {n}"
        assert len({json.dumps(r.answer) for r in answered}) == 1
    assert await b.read("ABCDE", lambda r: (r.round, r.event_seq)) == (60, CREATED + 60)
    assert (registry.get_sample_value("parlor_store_conflicts_total") or 0) > 0  # the race did happen


async def test_rooms_written_before_answers_moved_out_load_and_keep_their_answers(
    redis_stores: StoreFactory, redis_target: RedisTarget
) -> None:
    """A rolling deploy meets rooms whose state still holds `answers` (the previous version's layout): they load,
    a retry of a key answered there gets that answer, and the next commit carries them into the answers hash."""
    from backend.store.redis_shared import answers_key, room_key

    store = await redis_stores()
    await store.create_room(*new_room(), NOW)
    admin = admin_client(redis_target)
    try:
        old = json.loads(await admin.hget(room_key("ABCDE"), "state"))
        old["answers"] = {"p_host:clue:old": {"last_event_id": 2, "round": 0}}
        await admin.hset(room_key("ABCDE"), "state", json.dumps(old))
        assert await store.read("ABCDE", lambda r: r.event_seq) == CREATED
        replay = await store.mutate_once("ABCDE", bump, NOW, clue_once("old"))
        assert replay.replayed and replay.answer == {"last_event_id": 2, "round": 0}
        await store.mutate("ABCDE", bump, NOW)  # any commit writes the new layout
        assert "answers" not in json.loads(await admin.hget(room_key("ABCDE"), "state"))
        assert json.loads(await admin.hget(answers_key("ABCDE"), "p_host:clue:old")) == {
            "last_event_id": 2,
            "round": 0,
        }
        assert (await store.mutate_once("ABCDE", bump, NOW, clue_once("old"))).replayed
        assert await store.read("ABCDE", lambda r: r.round) == 1
    finally:
        await admin.aclose()

"""The Store protocol's contract, pinned down on the memory and the Redis implementation alike."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from backend.core.errors import Conflict, NotFound
from backend.game.engine import Room
from backend.game.events import Event, StoredEvent
from backend.metrics import Metrics
from backend.store import Answer, Once, Store
from backend.store.memory import MemoryStore
from tests.backend.store.conftest import LOG_SIZE, _target, flush

NOW = 1_000_000.0
CREATED = 2  # Room.create emits player_joined and host_changed


def new_room(code: str = "ABCDE") -> tuple[Room, list[Event]]:
    return Room.create(code, host_id="p_host", host_name="Host", token_hash="h", now=NOW)


def note(n: int) -> Event:
    return Event("clue_posted", {"n": n})


def with_deadline(when: float) -> object:
    def fn(room: Room) -> list[Event]:
        room.phase, room.deadline = "discussion", when
        return [Event("phase_changed", {"phase": "discussion"})]

    return fn


async def test_create_mutate_read_and_log(store: Store) -> None:
    """Commits get dense increasing ids; read sees state and last id together; the log returns them."""
    room, events = new_room()
    created = await store.create_room(room, events, NOW)
    assert [e.id for e in created] == [1, 2] == list(range(1, CREATED + 1))
    after, stored = await store.mutate("ABCDE", lambda r: [note(1), note(2)], NOW + 1)
    assert [e.id for e in stored] == [3, 4] and after.event_seq == 4
    assert all(e.ts == NOW + 1 for e in stored)
    assert await store.read("ABCDE", lambda r: (r.event_seq, r.host_id)) == (4, "p_host")
    piece = await store.events_after("ABCDE", 2)
    assert [e.id for e in piece.events] == [3, 4] and piece.complete and piece.last_event_id == 4
    assert piece.events[1] == StoredEvent(4, NOW + 1, "clue_posted", {"n": 2}, prev=3)
    assert [e.type for e in (await store.events_after("ABCDE", 0)).events][:2] == ["player_joined", "host_changed"]
    assert (await store.events_after("ABCDE", 4)).events == []
    assert await store.room_codes() == ["ABCDE"] and await store.count_rooms() == 1


async def test_mutate_without_events_keeps_the_ids(store: Store) -> None:
    """A mutation that emits nothing still persists its state change and assigns no id."""
    await store.create_room(*new_room(), NOW)

    def rename(room: Room) -> list[Event]:
        room.players["p_host"].name = "Renamed"
        return []

    _, stored = await store.mutate("ABCDE", rename, NOW)
    assert stored == []
    assert await store.read("ABCDE", lambda r: (r.players["p_host"].name, r.event_seq)) == ("Renamed", CREATED)


async def test_events_after_says_incomplete_once_the_cap_drops_events(store: Store) -> None:
    """Past log_size events the oldest are gone: resuming from before them is reported incomplete."""
    await store.create_room(*new_room(), NOW)
    for n in range(LOG_SIZE + 5):
        await store.mutate("ABCDE", lambda r, n=n: [note(n)], NOW)
    last = LOG_SIZE + 5 + CREATED
    oldest = last - LOG_SIZE + 1
    whole = await store.events_after("ABCDE", oldest - 1)
    assert whole.complete and [e.id for e in whole.events] == list(range(oldest, last + 1))
    gone = await store.events_after("ABCDE", oldest - 2)
    assert not gone.complete and gone.last_event_id == last
    assert not (await store.events_after("ABCDE", 0)).complete
    tail = await store.events_after("ABCDE", last - 2)
    assert tail.complete and [e.id for e in tail.events] == [last - 1, last]


async def test_unknown_and_taken_codes(store: Store) -> None:
    """An unknown room is NotFound everywhere; a taken code is a Conflict and leaves the room as it was."""
    for call in (
        store.mutate("ZZZZZ", lambda r: [], NOW),
        store.read("ZZZZZ", lambda r: r),
        store.events_after("ZZZZZ", 0),
    ):
        with pytest.raises(NotFound):
            await call
    await store.create_room(*new_room(), NOW)
    with pytest.raises(Conflict):
        await store.create_room(*new_room(), NOW)
    assert await store.read("ABCDE", lambda r: r.event_seq) == CREATED


async def test_domain_errors_of_fn_commit_nothing(store: Store) -> None:
    """An engine error raised by fn (it validates before it changes anything) propagates; nothing is logged."""
    await store.create_room(*new_room(), NOW)

    def refuse(room: Room) -> list[Event]:
        raise Conflict("not now", "wrong_phase")

    with pytest.raises(Conflict):
        await store.mutate("ABCDE", refuse, NOW)
    assert await store.read("ABCDE", lambda r: r.event_seq) == CREATED
    assert (await store.events_after("ABCDE", CREATED)).events == []


async def test_listeners_get_each_local_commit_once_in_order(store: Store) -> None:
    """Every commit reaches every listener once, in id order."""
    seen: list[tuple[str, int]] = []
    store.subscribe(lambda code, events: seen.extend((code, e.id) for e in events))
    await store.create_room(*new_room(), NOW)
    for n in range(3):
        await store.mutate("ABCDE", lambda r, n=n: [note(n)], NOW)
    await asyncio.sleep(0.1)  # a Redis store also hears its own commits back: they must not repeat
    assert seen == [("ABCDE", i) for i in range(1, CREATED + 4)]


async def test_claim_due_and_next_wakeup(store: Store) -> None:
    """A due room is claimed once; a room not yet due is not; the earliest wake-up is reported."""
    await store.create_room(*new_room("AAAAA"), NOW)
    await store.create_room(*new_room("BBBBB"), NOW)
    assert await store.next_wakeup() is None
    await store.mutate("AAAAA", with_deadline(NOW + 10), NOW)  # type: ignore[arg-type]
    await store.mutate("BBBBB", with_deadline(NOW + 30), NOW)  # type: ignore[arg-type]
    assert await store.next_wakeup() == NOW + 10
    assert await store.claim_due(NOW + 5) == []
    assert await store.claim_due(NOW + 11) == ["AAAAA"]
    assert await store.claim_due(NOW + 11) == []
    _, stored = await store.mutate("AAAAA", lambda r: r.tick(NOW + 11, random.Random(1)), NOW + 11)
    assert next(e.type for e in stored) == "phase_changed"
    assert await store.read("AAAAA", Room.next_wakeup) > NOW + 30  # voting now: its deadline is later
    assert await store.next_wakeup() == NOW + 30


async def test_delete_room(store: Store) -> None:
    """A deleted room is gone with its log and its wake-up."""
    await store.create_room(*new_room(), NOW)
    await store.mutate("ABCDE", with_deadline(NOW + 1), NOW)  # type: ignore[arg-type]
    await store.delete_room("ABCDE")
    await store.delete_room("ABCDE")  # idempotent
    assert await store.room_codes() == [] and await store.count_rooms() == 0
    assert await store.next_wakeup() is None and await store.claim_due(NOW + 100) == []
    with pytest.raises(NotFound):
        await store.events_after("ABCDE", 0)
    created = await store.create_room(*new_room(), NOW)  # the code is free again, with a fresh log
    assert [e.id for e in created] == [1, 2]


async def test_ping(store: Store) -> None:
    """ping is True while the store serves."""
    assert await store.ping() is True


async def test_idle_rooms_come_from_the_last_activity(store: Store) -> None:
    """idle_rooms names exactly the rooms whose last activity is older than the bound; deleted ones leave it."""
    await store.create_room(*new_room("QUIET"), NOW)
    await store.create_room(*new_room("BUSYY"), NOW)

    def touch(room: Room) -> list[Event]:
        room.last_activity = NOW + 50
        return []

    await store.mutate("BUSYY", touch, NOW + 50)
    assert await store.idle_rooms(NOW) == []
    assert await store.idle_rooms(NOW + 10) == ["QUIET"]
    assert sorted(await store.idle_rooms(NOW + 60)) == ["BUSYY", "QUIET"]
    await store.delete_room("QUIET")
    assert await store.idle_rooms(NOW + 10) == []


async def test_watch_and_unwatch_are_safe_on_any_store(store: Store) -> None:
    """Watching a room (once per socket) and unwatching it keep local commits flowing to the listeners."""
    await store.create_room(*new_room(), NOW)
    seen: list[int] = []
    store.subscribe(lambda code, events: seen.extend(e.id for e in events))
    await store.watch("ABCDE")
    await store.mutate("ABCDE", lambda r: [note(1)], NOW)
    store.unwatch("ABCDE")
    await store.mutate("ABCDE", lambda r: [note(2)], NOW)
    await asyncio.sleep(0.1)
    assert seen == [CREATED + 1, CREATED + 2]


def clue_once(key: str) -> Once:
    """An idempotent clue of the host's: its answer names the last id and the round it saw."""
    return Once(f"p_host:clue:{key}", lambda room, last: {"last_event_id": last, "round": room.round})


def bump(room: Room) -> list[Event]:
    room.round += 1
    return [note(room.round)]


async def test_an_idempotent_move_answers_its_first_answer_for_the_room_life(store: Store) -> None:
    """A slot replayed after 300 later idempotent moves (more than any per-room window) gets its first answer
    back and changes nothing; the other slots were applied once each."""
    await store.create_room(*new_room(), NOW)
    first = await store.mutate_once("ABCDE", bump, NOW, clue_once("first"))
    expected: Answer = {"last_event_id": CREATED + 1, "round": 1}
    assert not first.replayed and first.answer == expected and [e.id for e in first.events] == [CREATED + 1]
    for n in range(300):
        assert not (await store.mutate_once("ABCDE", bump, NOW, clue_once(f"later-{n}"))).replayed
    again = await store.mutate_once("ABCDE", bump, NOW + 5, clue_once("first"))
    assert again.replayed and again.answer == expected and again.events == []
    assert await store.read("ABCDE", lambda r: (r.round, r.event_seq)) == (301, CREATED + 301)
    other_player = Once("p_other:clue:first", clue_once("first").answer)  # keys are per player
    assert not (await store.mutate_once("ABCDE", bump, NOW, other_player)).replayed


async def test_a_refused_idempotent_move_leaves_its_slot_free(store: Store) -> None:
    """A move the engine refuses stores no answer: the retry runs the move again."""
    await store.create_room(*new_room(), NOW)

    def refuse(room: Room) -> list[Event]:
        raise Conflict("not now", "wrong_phase")

    with pytest.raises(Conflict):
        await store.mutate_once("ABCDE", refuse, NOW, clue_once("k"))
    done = await store.mutate_once("ABCDE", bump, NOW, clue_once("k"))
    assert not done.replayed and done.answer == {"last_event_id": CREATED + 1, "round": 1}
    with pytest.raises(NotFound):
        await store.mutate_once("ZZZZZ", bump, NOW, clue_once("k"))


async def test_idempotency_answers_go_with_the_room(store: Store) -> None:
    """Deleting a room drops its answers: a new room under the same code applies a key the old one had used."""
    await store.create_room(*new_room(), NOW)
    await store.mutate_once("ABCDE", bump, NOW, clue_once("k"))
    await store.delete_room("ABCDE")
    await store.create_room(*new_room(), NOW)
    done = await store.mutate_once("ABCDE", bump, NOW, clue_once("k"))
    assert not done.replayed and done.answer == {"last_event_id": CREATED + 1, "round": 1}


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.redis)]
)
async def small_log_store(request: pytest.FixtureRequest, metrics: Metrics) -> AsyncIterator[Store]:
    """A store whose log holds up to 1000 events but only 4 KiB of them."""
    if request.param == "memory":
        yield MemoryStore(log_size=1000, log_bytes=4096)
        return
    from backend.store.redis import RedisStore

    target = _target(request, request.param)
    await flush(target)
    redis_store = RedisStore(target.url, log_size=1000, log_bytes=4096, metrics=metrics)
    await redis_store.start()
    yield redis_store
    await redis_store.close()


async def test_the_log_keeps_a_byte_budget_besides_its_length(small_log_store: Store) -> None:
    """Events of about 1 KiB: the log keeps the newest that fit in 4 KiB, and a resume from before them
    gets `complete` False (a snapshot) rather than a partial replay."""
    store = small_log_store
    room, events = new_room()
    await store.create_room(room, events, NOW)
    for n in range(20):
        await store.mutate(room.code, lambda r, n=n: [Event("clue_posted", {"n": n, "pad": "x" * 1000})], NOW)
    piece = await store.events_after(room.code, 0)
    assert not piece.complete and piece.last_event_id == CREATED + 20
    recent = await store.events_after(room.code, CREATED + 17)
    assert recent.complete and [e.id for e in recent.events] == [CREATED + 18, CREATED + 19, CREATED + 20]
    kept = await store.events_after(room.code, CREATED + 16)
    assert not kept.complete  # 4 events of ~1 KiB no longer fit


async def test_each_event_names_the_previous_one_its_recipients_may_see(store: Store) -> None:
    """`prev` links every player's view of the log: a private event follows its recipient's last one, and the
    public event after a private block names, for each recipient, their own private event (kept in the log)."""
    room, events = new_room()
    await store.create_room(room, events + room.join("p_ann", "Ann", "h", NOW), NOW)
    await store.mutate("ABCDE", lambda r: [note(1)], NOW)

    def deal(room: Room) -> list[Event]:
        return [Event("your_word", {"word": "tea"}, to="p_host"), Event("your_word", {"word": "tea"}, to="p_ann")]

    await store.mutate("ABCDE", deal, NOW)
    await store.mutate("ABCDE", lambda r: [note(2), Event("your_word", {}, to="p_ann"), note(3)], NOW)
    log = (await store.events_after("ABCDE", 0)).events
    ids = [e.id for e in log]
    for player in ("p_host", "p_ann"):
        mine = [e for e in log if e.visible_to(player)]
        assert [e.prev_for(player) for e in mine] == [0] + [e.id for e in mine[:-1]], player
    clue, dealt = ids[-6], ids[-5:-3]
    after_deal = log[-3]
    assert after_deal.prev == clue and after_deal.prevs == {"p_host": dealt[0], "p_ann": dealt[1]}
    assert log[-1].prevs == {"p_ann": ids[-2]} and log[-1].prev == ids[-3]


async def test_a_room_written_before_the_chain_gives_no_prev_until_its_next_public_event(store: Store) -> None:
    """A room whose state lacks the chain (an older version wrote it): no `prev` (no check) until a public event
    names the chain's start again, and from there every event has one."""
    await store.create_room(*new_room(), NOW)

    def forget(room: Room) -> list[Event]:
        room.last_public_id = None
        return []

    await store.mutate("ABCDE", forget, NOW)
    _, stored = await store.mutate("ABCDE", lambda r: [Event("your_word", {}, to="p_host"), note(1), note(2)], NOW)
    assert [e.prev for e in stored] == [None, None, stored[1].id]


async def test_a_replayed_slot_hands_back_the_first_moves_fingerprint(store: Store) -> None:
    """The fingerprint of the move that answered a slot comes back with every replay, whatever the caller's now,
    so the service can tell a retry from a key reused for another body; an answer kept bare (by an older
    version) has none."""
    await store.create_room(*new_room(), NOW)
    first = Once("p_host:clue:k", lambda room, last: {"last_event_id": last}, "body-a")
    done = await store.mutate_once("ABCDE", bump, NOW, first)
    assert not done.replayed and done.fingerprint == "body-a"
    other = Once("p_host:clue:k", lambda room, last: {"last_event_id": -1}, "body-b")
    again = await store.mutate_once("ABCDE", bump, NOW, other)
    assert again.replayed and again.fingerprint == "body-a" and again.answer == done.answer


async def test_a_key_reused_for_another_body_is_refused_and_a_retry_still_answered(store: Store) -> None:
    """Through the service on each store: the same key with the same clue gets the first answer, with another
    clue a 422 `idempotency_key_reused`, and neither applies anything again."""
    from prometheus_client import CollectorRegistry

    from backend.core.config import Settings
    from backend.core.errors import Invalid
    from backend.realtime.hub import Hub
    from backend.service import RoomService

    metrics = Metrics(CollectorRegistry())
    service = RoomService(Settings(clue_interval_seconds=0), store, Hub(metrics), metrics, clock=lambda: NOW)
    code, alice = await service.create_room("Alice")
    for name in ("Bob", "Cleo"):
        await service.join(code, name)
    await service.start(alice)
    first = await service.post_clue(alice, "warm", key="k1")
    assert await service.post_clue(alice, "warm", key="k1") == first
    with pytest.raises(Invalid) as refused:
        await service.post_clue(alice, "cold", key="k1")
    assert refused.value.code == "idempotency_key_reused" and refused.value.status == 422
    assert await service.read(code, lambda r: ([c["text"] for c in r.clues], r.event_seq)) == (["warm"], first)

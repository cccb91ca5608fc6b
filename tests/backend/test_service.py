"""The service's upkeep: idle rooms expire, silent pollers go offline, deadlines are handed to the timer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from backend.core.config import Settings
from backend.core.errors import NotFound, Unauthorized
from backend.metrics import Metrics
from backend.realtime.hub import Hub
from backend.service import CODE_ALPHABET, RoomService, new_room_code
from backend.store.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make_service(tmp_path: Path, clock: Clock, **overrides: object) -> RoomService:
    settings = Settings(flags_file=tmp_path / "flags.json", **overrides)  # type: ignore[arg-type]
    metrics = Metrics(CollectorRegistry())
    return RoomService(settings, MemoryStore(), Hub(metrics), metrics, clock=clock, rng=random.Random(4))


def test_room_codes_avoid_look_alikes() -> None:
    """Codes are 5 characters from an alphabet without 0/O or 1/I/L."""
    rng = random.Random(0)
    codes = {new_room_code(rng) for _ in range(2000)}
    assert all(len(c) == 5 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set("".join(codes))


async def test_idle_rooms_expire(tmp_path: Path) -> None:
    """A room with no activity for ROOM_IDLE_SECONDS and no sockets is removed by upkeep."""
    clock = Clock()
    service = make_service(tmp_path, clock, room_idle_seconds=60)
    code, _ = await service.create_room("Alice")
    clock.now += 59
    await service.upkeep()
    assert (await service.summary(code))["player_count"] == 1
    clock.now += 2
    await service.upkeep()
    with pytest.raises(NotFound):
        await service.summary(code)
    assert service.metrics.rooms_active._value.get() == 0


async def test_tokens_are_checked(tmp_path: Path) -> None:
    """authenticate accepts the seat's token only, for its own player id."""
    service = make_service(tmp_path, Clock())
    code, alice = await service.create_room("Alice")
    bob = await service.join(code, "Bob")
    assert (await service.authenticate(code, None, bob.token)).player_id == bob.player_id
    with pytest.raises(Unauthorized):
        await service.authenticate(code, alice.player_id, bob.token)
    with pytest.raises(Unauthorized):
        await service.authenticate(code, None, "x" * 32)
    with pytest.raises(NotFound):
        await service.authenticate("ZZZZZ", None, bob.token)


async def test_polling_player_goes_offline_after_presence_timeout(tmp_path: Path) -> None:
    """A player seen only through polling is shown online, then offline once they stop polling."""
    service = make_service(tmp_path, Clock(), presence_timeout_seconds=0.05)
    code, alice = await service.create_room("Alice")
    await service.seen_polling(alice, "polling")
    assert (await service.read(code, lambda r: r.players[alice.player_id].online)) is True
    service.refresh_gauges()
    assert service.metrics.players_connected.labels("polling")._value.get() == 1
    import asyncio

    await asyncio.sleep(0.1)
    await service.upkeep()
    assert (await service.read(code, lambda r: r.players[alice.player_id].online)) is False


async def test_a_socket_closing_soon_after_a_poll_still_ends_offline(tmp_path: Path) -> None:
    """A player who polled (say, before the socket came up), then connected and closed the tab goes offline
    once the poll expires: the closing socket hands presence to the poll instead of keeping it."""
    import asyncio

    service = make_service(tmp_path, Clock(), presence_timeout_seconds=0.05)
    code, alice = await service.create_room("Alice")
    online = lambda r: r.players[alice.player_id].online  # noqa: E731
    await service.seen_polling(alice, "polling")
    await service.connected(alice, "ws-1")
    await service.disconnected(alice, "ws-1")
    assert (await service.read(code, online)) is True  # still polling, for now
    await asyncio.sleep(0.1)
    await service.upkeep()
    assert (await service.read(code, online)) is False


async def test_phase_deadline_is_handed_to_the_timer_once(tmp_path: Path) -> None:
    """After start, the store hands the room to claim_due once its deadline passes, and tick moves the phase."""
    clock = Clock()
    service = make_service(tmp_path, clock)
    code, alice = await service.create_room("Alice")
    for name in ("Bob", "Cleo"):
        await service.join(code, name)
    await service.start(alice)
    assert await service.store.claim_due(clock()) == []
    clock.now += 90
    assert await service.store.claim_due(clock()) == [code]
    assert await service.store.claim_due(clock()) == []
    await service.tick(code)
    assert (await service.read(code, lambda r: r.phase)) == "voting"


def test_allowed_origins_accept_comma_list_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALLOWED_ORIGINS may be a comma-separated list or a JSON array."""
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://a:1, http://b:2")
    assert Settings().allowed_origins == ["http://a:1", "http://b:2"]
    monkeypatch.setenv("ALLOWED_ORIGINS", '["http://c:3"]')
    assert Settings().allowed_origins == ["http://c:3"]


async def test_a_lobby_nobody_is_in_expires_in_minutes(tmp_path: Path) -> None:
    """LOBBY_IDLE_SECONDS: a lobby with no one online goes long before ROOM_IDLE_SECONDS; one with a player stays."""
    clock = Clock()
    service = make_service(tmp_path, clock, lobby_idle_seconds=120)
    deserted, _ = await service.create_room("Alice")
    attended, bob = await service.create_room("Bob")
    await service.connected(bob, "ws:test")
    clock.now += 121
    await service.upkeep()
    with pytest.raises(NotFound):
        await service.summary(deserted)
    assert (await service.summary(attended))["player_count"] == 1


async def test_an_idempotency_key_answers_its_first_answer_for_the_room_life(tmp_path: Path) -> None:
    """A move retried with its key after 300 later keyed moves in the same room (older answers were once
    dropped after 256) gets the first answer back and is not applied again; the replay is counted."""
    service = make_service(tmp_path, Clock())
    code, alice = await service.create_room("Alice")
    first = await service.change_settings(alice, {"discussion_seconds": 30}, key="first")
    for n in range(300):
        await service.change_settings(alice, {"discussion_seconds": 100 + n}, key=f"later-{n}")
    last = await service.read(code, lambda r: r.event_seq)
    again = await service.change_settings(alice, {"discussion_seconds": 30}, key="first")
    assert again == first
    assert await service.read(code, lambda r: (r.event_seq, r.settings.discussion_seconds)) == (last, 399)
    assert service.metrics.idempotent_replays._value.get() == 1

"""Builders for engine tests: rooms with seated players, a fixed word bank and a controllable clock."""

from __future__ import annotations

import random

from backend.game.engine import Room, RoomLimits
from backend.game.events import Event
from backend.game.words import WordBank, WordPair

T0 = 1_700_000_000.0
PAIR = WordPair(
    civilian="coffee",
    undercover="tea",
    hints={"coffee": ("morning cup", "hot drink", "beans"), "tea": ("morning cup", "hot drink", "leaves")},
)
BANK = WordBank([PAIR])


def make_room(humans: int = 3, bots: int = 0, limits: RoomLimits | None = None) -> tuple[Room, list[str]]:
    """A lobby with `humans` humans (the first is host) and `bots` bots; returns the room and player ids."""
    room, _ = Room.create("ABCDE", host_id="h0", host_name="Host", token_hash="t0", now=T0, limits=limits)
    ids = ["h0"]
    for i in range(1, humans):
        room.join(f"h{i}", f"Human {i}", f"t{i}", T0 + i)
        ids.append(f"h{i}")
    for i in range(bots):
        room.add_bot("h0", f"b{i}", T0 + 100 + i)
        ids.append(f"b{i}")
    for pid in ids:
        room.set_presence(pid, True, T0 + 200)
    return room, ids


def started(humans: int = 3, bots: int = 0, seed: int = 1) -> tuple[Room, list[str], random.Random]:
    room, ids = make_room(humans, bots)
    rng = random.Random(seed)
    room.start("h0", T0 + 300, rng, BANK)
    return room, ids, rng


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def undercovers(room: Room) -> list[str]:
    return [p.id for p in room.players.values() if p.role == "undercover"]


def civilians(room: Room) -> list[str]:
    return [p.id for p in room.players.values() if p.role == "civilian"]

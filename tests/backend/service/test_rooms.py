"""The door: room codes, tokens, and a move's Idempotency-Key for the room's life."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from backend.core.errors import NotFound, Unauthorized
from backend.service import CODE_ALPHABET, new_room_code
from tests.backend.service.helpers import Clock, make_service


def test_room_codes_avoid_look_alikes() -> None:
    """Codes are 5 characters from an alphabet without 0/O or 1/I/L."""
    rng = random.Random(0)
    codes = {new_room_code(rng) for _ in range(2000)}
    assert all(len(c) == 5 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set("".join(codes))


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

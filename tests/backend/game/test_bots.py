"""The bots' play on its own: it reads the room and the caller's RNG, never changes the room."""

from __future__ import annotations

import random

from backend.game import bots
from backend.game.vocabulary import Clue, Phase
from tests.backend.game.helpers import T0, started


def test_a_bots_choice_reads_the_room_and_is_fixed_by_the_seed() -> None:
    """`choose` leaves the room as it was, and the same seed gives the same move (the rules apply it)."""
    room, _ids, _rng = started(3, bots=2, seed=7)
    before = room.to_dict()
    moves = {bots.choose(room, room.players["b0"], random.Random(3)) for _ in range(3)}
    assert room.to_dict() == before
    assert len(moves) == 1
    move = moves.pop()
    assert move is not None and move.kind == "clue" and move.value in room.hints[room.players["b0"].word or ""]


def test_a_worded_bot_gives_an_unsaid_hint_then_two_hints_together() -> None:
    """Fresh hints first; once the table said every one, a pair of hints nobody said yet."""
    room, _ids, _rng = started(3, bots=1, seed=1)
    bot = room.players["b0"]
    word = bot.word or ""
    hints = room.hints[word]
    assert bots.worded_clue(room, bot, word) in hints
    room.clues = [Clue(player_id="h0", name="Host", text=h, round=1, ts=T0) for h in hints]
    clue = bots.worded_clue(room, bot, word)
    first, second = clue.split(", ")
    assert {first, second} <= set(hints) and first != second


def test_a_bot_with_nobody_to_vote_for_makes_no_move() -> None:
    """A bot whose only candidate in a revote is itself abstains: it never votes for itself."""
    room, _ids, _rng = started(3, bots=1, seed=1)
    room.phase = Phase.VOTING
    room.revote_candidates = ["b0"]
    assert bots.choose(room, room.players["b0"], random.Random(0)) is None

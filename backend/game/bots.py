"""The bots' play: the clue a bot gives, whom it votes for, and Mr. White's guess.

Pure like the rules: it reads the room through `Table` (never changes it) and draws its chance from the
caller's `random.Random` only, in the order the rules drew it before this module was split out, so a seeded
game plays the same. The rules (`backend.game.engine.Room`) decide when a bot acts and apply its move like any
player's; a stand-in for a dropped human plays through here too.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from backend.game.text import fold
from backend.game.vocabulary import CLUE_MAX, Clue, Phase
from backend.game.words import vague_hints


class Seat(Protocol):
    """What a bot reads of a player."""

    @property
    def id(self) -> str: ...

    @property
    def word(self) -> str | None: ...

    @property
    def bot_hints_used(self) -> int: ...


class TableSettings(Protocol):
    @property
    def language(self) -> str: ...


class Table(Protocol):
    """The room as a bot sees it: what was said and voted, and the pair's (and decoys') hints."""

    @property
    def phase(self) -> Phase: ...

    @property
    def round(self) -> int: ...

    @property
    def settings(self) -> TableSettings: ...

    @property
    def clues(self) -> Sequence[Clue]: ...

    @property
    def votes(self) -> Mapping[str, str]: ...

    @property
    def revote_candidates(self) -> Sequence[str]: ...

    @property
    def hints(self) -> Mapping[str, list[str]]: ...

    @property
    def decoys(self) -> Mapping[str, list[str]]: ...

    def alive(self) -> Sequence[Seat]: ...


@dataclass(frozen=True)
class BotMove:
    """A move the rules apply for the bot: a clue's text, a vote's target id, or Mr. White's guess."""

    kind: Literal["clue", "vote", "guess"]
    value: str


def choose(table: Table, bot: Seat, rng: random.Random) -> BotMove | None:
    """The bot's move in the current phase (None: nobody to vote for)."""
    if table.phase == Phase.GUESS:
        return BotMove("guess", guess(table, bot, rng))
    if table.phase == Phase.DISCUSSION:
        text = mr_white_clue(table, bot, rng) if bot.word is None else worded_clue(table, bot, bot.word)
        return BotMove("clue", text)
    target = vote_target(table, bot, rng)
    return None if target is None else BotMove("vote", target)


def worded_clue(table: Table, bot: Seat, word: str) -> str:
    """A bot's clue for its word that nobody gave yet, as a person would give it.

    First a hint of the word nobody said; once the table has said them all (5 hints go in one round at a
    big table), two hints together, the ones this bot never gave first: a person does not repeat their own
    clue round after round, and echoing someone else's clue word for word is the tell every player (and
    every bot) reads as Mr. White's. Only when every pair was said too does a bot repeat itself.
    """
    hints = [h for h in table.hints.get(word, []) if word.casefold() not in h.casefold()]
    if not hints:
        return "hmm, tricky"
    # each bot starts at its own hint, so bots of one word do not all reach for the same one
    start = sum(map(ord, bot.id)) + bot.bot_hints_used
    turn = [hints[(start + k) % len(hints)] for k in range(len(hints))]
    said = {_norm_text(clue["text"]) for clue in table.clues}
    mine = {_norm_text(clue["text"]) for clue in table.clues if clue["player_id"] == bot.id}
    fresh = next((h for h in turn if _norm_text(h) not in said), None)
    if fresh is not None:
        return fresh
    pairs = [(a, b) for i, a in enumerate(turn) for b in turn[i + 1 :]]
    unsaid = [(a, b) for a, b in pairs if len(f"{a}, {b}") <= CLUE_MAX and _norm_text(f"{a}, {b}") not in said]
    unsaid.sort(key=lambda pair: sum(_norm_text(h) in mine for h in pair))  # stable: the bot's own order
    return "{}, {}".format(*unsaid[0]) if unsaid else turn[0]


def vote_target(table: Table, bot: Seat, rng: random.Random) -> str | None:
    """Suspect whoever echoed someone else's clue (Mr. White's habit), gave none, or strayed from the
    bot's own word; follow the table's votes a little; break ties by chance."""
    candidates = [p.id for p in table.alive() if p.id != bot.id]
    if table.revote_candidates:
        candidates = [pid for pid in candidates if pid in table.revote_candidates]
    if not candidates:
        return None
    mine = _tokens(" ".join(table.hints.get(bot.word, []))) if bot.word else set()
    first_said: dict[str, str] = {}
    for clue in table.clues:
        first_said.setdefault(_norm_text(clue["text"]), clue["player_id"])
    tally = Counter(table.votes.values())
    score: dict[str, float] = {}
    for pid in candidates:
        said = [c for c in table.clues if c["player_id"] == pid]
        points = rng.random() * 0.5 + 0.5 * tally[pid]
        if not any(c["round"] == table.round for c in said):
            points += 1.0
        for clue in said:
            if first_said[_norm_text(clue["text"])] != pid:
                points += 2.0  # repeated what another player said first
            elif mine:
                points += -1.0 if _tokens(clue["text"]) & mine else 1.0
        score[pid] = points
    return max(candidates, key=lambda pid: score[pid])


def guess(table: Table, bot: Seat, rng: random.Random) -> str:
    """Mr. White's guess from the clues it saw: the candidate word whose hints overlap them most."""
    ranked = mr_white_beliefs(table, bot, rng)
    return ranked[0] if ranked else "no idea"


def mr_white_beliefs(table: Table, bot: Seat, rng: random.Random) -> list[str]:
    """Candidate words (the pair and the decoys), the best fit to the clues heard so far first."""
    heard = Counter(t for c in table.clues if c["player_id"] != bot.id for t in _tokens(c["text"]))
    words = {**table.decoys, **table.hints}

    def fit(word: str) -> tuple[int, float]:  # most-repeated clue words first: civilians are the majority
        return sum(heard[t] for t in _tokens(" ".join(words[word]))), rng.random()

    return sorted(words, key=fit, reverse=True)


def mr_white_clue(table: Table, bot: Seat, rng: random.Random) -> str:
    """Blend in with a hint of the word Mr. White believes the civilians hold, never a clue already given.

    Repeating someone word for word is exactly what the civilian bots look for, so a hint anyone already
    posted is skipped; the next-best candidates' hints, then vague words, follow when one word runs out.
    """
    said = {_norm_text(c["text"]) for c in table.clues}
    options = [h for word in mr_white_beliefs(table, bot, rng) for h in _candidate_hints(table, word, rng)]
    options += list(vague_hints(table.settings.language))
    fresh = next((h for h in options if _norm_text(h) not in said), None)
    if fresh is not None:
        return fresh
    n = 2  # every option was said already: a vague word with a count stays unique
    while _norm_text(f"{options[0]} ({n})") in said:
        n += 1
    return f"{options[0]} ({n})"


def _candidate_hints(table: Table, word: str, rng: random.Random) -> list[str]:
    hints = list(table.hints.get(word) or table.decoys.get(word) or [])
    rng.shuffle(hints)
    return hints


def _norm_text(text: str) -> str:
    return " ".join(fold(text).split())


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^\w]+", fold(text)) if len(t) > 2}

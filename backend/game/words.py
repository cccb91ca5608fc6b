"""Word pairs for Undercover: civilians share one word, the undercover holds a close neighbour.

The bundled ``words.json`` is read once, on first use, and checked as it loads, so a bad edit to
the data fails loudly at startup instead of handing a bot a hint that names its own word mid-game.
Every rule breach raises ``ValueError``; asking for the hints of a word the bank does not hold
raises ``KeyError``, because that is a caller bug rather than bad data.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

MIN_HINTS = 3
MAX_HINT_WORDS = 4
MIN_BUNDLED_PAIRS = 150
WORDS_PATH = Path(__file__).with_name("words.json")

# Lowercase letters and single spaces only, so words compare and render the same everywhere.
_WORD_PATTERN = re.compile(r"[a-z]+(?: [a-z]+)*")


@dataclass(frozen=True)
class WordPair:
    """Two related words and the clues a bot may post for each; invalid pairs refuse to exist."""

    civilian: str
    undercover: str
    # Left out of the hash so the pair stays hashable; equal pairs still compare their hints.
    hints: Mapping[str, tuple[str, ...]] = field(hash=False)

    def __post_init__(self) -> None:
        hints = {word: tuple(clues) for word, clues in self.hints.items()}
        object.__setattr__(self, "hints", MappingProxyType(hints))
        _check_pair(self)

    def hints_for(self, word: str) -> tuple[str, ...]:
        """Clues for one side of this pair; raises KeyError for a word outside it."""
        if word not in (self.civilian, self.undercover):
            raise KeyError(word)
        return self.hints[word]

    def swapped(self) -> WordPair:
        """The same pair with the roles reversed, so either word can be the civilians'."""
        return WordPair(civilian=self.undercover, undercover=self.civilian, hints=self.hints)


class WordBank:
    """An immutable, validated set of word pairs to draw games from."""

    def __init__(self, pairs: Sequence[WordPair]) -> None:
        if not pairs:
            raise ValueError("a word bank needs at least one pair")
        index: dict[str, tuple[str, ...]] = {}
        for number, pair in enumerate(pairs):
            for word in (pair.civilian, pair.undercover):
                if word in index:
                    raise ValueError(f"pair {number}: word {word!r} already appears in an earlier pair")
                index[word] = pair.hints[word]
        self._pairs = tuple(pairs)
        self._hints = index

    @classmethod
    def default(cls) -> WordBank:
        """The bundled bank, loaded and validated on first call and shared afterwards."""
        return _default_bank()

    @classmethod
    def from_json(cls, text: str) -> WordBank:
        """Build a bank from ``words.json``-shaped text, rejecting malformed data with ValueError."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"word list is not valid JSON: {exc}") from exc
        return cls(parse_pairs(data))

    def __len__(self) -> int:
        return len(self._pairs)

    @property
    def pairs(self) -> tuple[WordPair, ...]:
        return self._pairs

    def pick(self, rng: random.Random) -> WordPair:
        """A random pair, flipped half the time so both words of a pair serve as the civilians'."""
        pair = rng.choice(self._pairs)
        return pair.swapped() if rng.random() < 0.5 else pair

    def hints_for(self, word: str) -> tuple[str, ...]:
        """Clues for any word in the bank; raises KeyError for a word the bank does not hold."""
        return self._hints[word]


def parse_pairs(data: object) -> tuple[WordPair, ...]:
    """Turn decoded ``{"pairs": [...]}`` data into checked pairs, naming the first bad entry."""
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise ValueError('word list must be an object with a "pairs" list')
    return tuple(_pair_from_record(number, record) for number, record in enumerate(data["pairs"]))


def _pair_from_record(number: int, record: object) -> WordPair:
    if not isinstance(record, dict):
        raise ValueError(f"pair {number}: expected an object, got {type(record).__name__}")
    civilian, undercover, hints = record.get("civilian"), record.get("undercover"), record.get("hints")
    if not isinstance(civilian, str) or not isinstance(undercover, str):
        raise ValueError(f'pair {number}: "civilian" and "undercover" must be strings')
    if not isinstance(hints, dict):
        raise ValueError(f'pair {number}: "hints" must map each word to a list of clues')
    clues: dict[str, tuple[str, ...]] = {}
    for word, word_hints in hints.items():
        if not isinstance(word_hints, list) or not all(isinstance(hint, str) for hint in word_hints):
            raise ValueError(f"pair {number}: hints for {word!r} must be a list of strings")
        clues[word] = tuple(word_hints)
    try:
        return WordPair(civilian=civilian, undercover=undercover, hints=clues)
    except ValueError as exc:
        raise ValueError(f"pair {number}: {exc}") from exc


def _check_pair(pair: WordPair) -> None:
    words = (pair.civilian, pair.undercover)
    for word in words:
        if not _WORD_PATTERN.fullmatch(word):
            raise ValueError(f"word {word!r} must be lowercase letters and single spaces")
    if pair.civilian == pair.undercover:
        raise ValueError(f"word {pair.civilian!r} cannot be paired with itself")
    if set(pair.hints) != set(words):
        raise ValueError(f"hints for {pair.civilian!r}/{pair.undercover!r} must cover exactly those words")
    for word in words:
        _check_hints(word, pair.hints[word], words)


def _check_hints(word: str, hints: Sequence[str], pair_words: Iterable[str]) -> None:
    if len(hints) < MIN_HINTS:
        raise ValueError(f"word {word!r} has {len(hints)} hints, needs at least {MIN_HINTS}")
    if len(set(hints)) != len(hints):
        raise ValueError(f"word {word!r} repeats a hint")
    for hint in hints:
        if not 1 <= len(hint.split()) <= MAX_HINT_WORDS:
            raise ValueError(f"hint {hint!r} for {word!r} must be 1 to {MAX_HINT_WORDS} words")
        # A substring check, not a word check: "cats" or "catnip" still give "cat" away.
        leaked = [other for other in pair_words if other in hint.casefold()]
        if leaked:
            raise ValueError(f"hint {hint!r} for {word!r} gives away {leaked[0]!r}")


@cache
def _default_bank() -> WordBank:
    bank = WordBank.from_json(WORDS_PATH.read_text(encoding="utf-8"))
    if len(bank) < MIN_BUNDLED_PAIRS:
        raise ValueError(f"{WORDS_PATH.name} has {len(bank)} pairs, needs at least {MIN_BUNDLED_PAIRS}")
    return bank

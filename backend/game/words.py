"""Word pairs for Undercover: civilians share one word, the undercover holds a close neighbour.

Bundled packs live in ``packs/*.json``, one file per pack: ``{"id", "language", "theme", "name",
"pairs": [...]}``. They are read once, on first use, and checked as they load (the service loads them
at startup), so a bad edit to the data fails loudly instead of handing a bot a hint that names its own
word mid-game. A table's own pack is pasted (or uploaded) text, one pair a line, checked by
``parse_custom_pack`` with one record per bad line: its number, a reason code and the English sentence.
Every rule breach raises ``ValueError``; asking for the hints of a
word the bank does not hold raises ``KeyError``, because that is a caller bug rather than bad data.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

from backend.game.vocabulary import Language, PackProblem

MIN_HINTS = 3
MAX_HINT_WORDS = 4
MIN_BUNDLED_PAIRS = 150
PACKS_DIR = Path(__file__).with_name("packs")
LANGUAGES = tuple(Language)
CUSTOM_PACK = "custom"
CUSTOM_MAX_LINES = 500
CUSTOM_WORD_MAX = 30
# Bots standing in a custom pack have no written hints: these say nothing about any word.
_VAGUE_HINTS = {
    "en": ("hmm, let me think", "I know this one", "quite common", "seen it before", "hard to describe"),
    "fr": ("hmm, voyons voir", "je connais bien", "assez courant", "déjà vu", "difficile à décrire"),
}

# Lowercase letters (accents welcome) joined by single spaces, apostrophes or hyphens, so words compare
# and render the same everywhere.
_WORD_PATTERN = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")
_SEPARATORS = re.compile(r"\s*[,;\t/]\s*")


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
        """Build a bank from pack-shaped (``{"pairs": [...]}``) text, rejecting malformed data with ValueError."""
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
        if not _WORD_PATTERN.fullmatch(word) or word != word.lower():
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


@dataclass(frozen=True)
class Pack:
    """One bundled pack: its id (the file name), language, theme, display name and bank."""

    id: str
    language: str
    theme: str
    name: str
    bank: WordBank

    def describe(self) -> dict[str, str | int]:
        return {
            "id": self.id,
            "language": self.language,
            "theme": self.theme,
            "name": self.name,
            "pairs": len(self.bank),
        }


class PackLibrary:
    """The bundled packs by id; picks the bank for a room's settings (or its own pasted pairs)."""

    def __init__(self, packs: Sequence[Pack]) -> None:
        if not packs:
            raise ValueError("the library needs at least one pack")
        self._packs = {pack.id: pack for pack in packs}
        if len(self._packs) != len(packs):
            raise ValueError("two packs share an id")
        for language in LANGUAGES:
            if not any(p.language == language for p in packs):
                raise ValueError(f"no pack in language {language!r}")

    @classmethod
    def default(cls) -> PackLibrary:
        """The bundled packs, loaded and validated on first call and shared afterwards."""
        return _default_library()

    def __contains__(self, pack_id: object) -> bool:
        return pack_id in self._packs

    def get(self, pack_id: str) -> Pack:
        return self._packs[pack_id]

    def languages(self) -> dict[str, str]:
        """Pack id -> language, what the engine needs to check a host's choice."""
        return {pid: pack.language for pid, pack in self._packs.items()}

    def default_for(self, language: str) -> Pack:
        return next(p for p in self._packs.values() if p.language == language)

    def catalogue(self) -> list[dict[str, str | int]]:
        return [pack.describe() for pack in self._packs.values()]

    def bank(self, pack_id: str, language: str, custom: Sequence[Sequence[str]] = ()) -> WordBank:
        """The bank a game draws from: the table's own pairs, the chosen pack, or the language's first pack."""
        if pack_id == CUSTOM_PACK and custom:
            return custom_bank(custom, language)
        pack = self._packs.get(pack_id) or self.default_for(language)
        return pack.bank


def load_pack(path: Path) -> Pack:
    """Read and check one pack file; the error names the file and the first bad entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a pack must be a JSON object")
    meta = {key: data.get(key) for key in ("id", "language", "theme", "name")}
    for key, value in meta.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{path.name}: {key!r} must be a non-empty string")
    if meta["id"] != path.stem:
        raise ValueError(f"{path.name}: id {meta['id']!r} must match the file name")
    if meta["language"] not in LANGUAGES:
        raise ValueError(f"{path.name}: language must be one of {', '.join(LANGUAGES)}")
    try:
        bank = WordBank(parse_pairs(data))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from exc
    return Pack(id=meta["id"], language=meta["language"], theme=meta["theme"], name=meta["name"], bank=bank)  # type: ignore[arg-type]


class CustomPackError(ValueError):
    """A pasted pack with bad lines; `problems` holds one record per bad line (see `problem`)."""

    def __init__(self, problems: list[dict[str, str | int]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"line {p['line']}: {p['message']}" for p in problems))


def problem(line: int, reason: PackProblem, message: str, word: str = "", **extra: int) -> dict[str, str | int]:
    """One bad line as the API returns it: the number, a reason code the UI words in any language, the word
    at fault (cut to 40 characters), numbers the sentence needs, and the English sentence for API users."""
    return {"line": line, "reason": reason, "word": word[:40], **extra, "message": message}


def normalize_custom_word(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFC", raw).lower().split()).replace("’", "'")


def parse_custom_pack(text: str) -> list[tuple[str, str]]:
    """One pair a line, the two words separated by a comma (or ; / tab); blank and # lines are skipped.

    Every bad line is reported, not only the first, so a table fixes its list in one go.
    """
    pairs: list[tuple[str, str]] = []
    problems: list[dict[str, str | int]] = []
    seen: dict[str, int] = {}
    lines = text.splitlines()
    if len(lines) > CUSTOM_MAX_LINES:
        message = f"a pack holds at most {CUSTOM_MAX_LINES} lines"
        raise CustomPackError(
            [problem(CUSTOM_MAX_LINES + 1, PackProblem.TOO_MANY_LINES, message, limit=CUSTOM_MAX_LINES)]
        )
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [normalize_custom_word(part) for part in _SEPARATORS.split(stripped)]
        if len(parts) != 2 or not all(parts):
            message = f"{stripped[:40]!r} needs exactly two words separated by a comma"
            problems.append(problem(number, PackProblem.TWO_WORDS, message, stripped))
            continue
        bad = next((w for w in parts if not _WORD_PATTERN.fullmatch(w) or len(w) > CUSTOM_WORD_MAX), None)
        if bad is not None:
            message = f"{bad[:40]!r} must be up to {CUSTOM_WORD_MAX} letters, spaces, apostrophes or hyphens"
            problems.append(problem(number, PackProblem.BAD_WORD, message, bad, limit=CUSTOM_WORD_MAX))
            continue
        if parts[0] == parts[1]:
            problems.append(
                problem(number, PackProblem.SAME_WORD, f"{parts[0]!r} cannot be paired with itself", parts[0])
            )
            continue
        repeated = next((w for w in parts if w in seen), None)
        if repeated is not None:
            message = f"{repeated!r} already appears on line {seen[repeated]}"
            problems.append(problem(number, PackProblem.REPEATED, message, repeated, other=seen[repeated]))
            continue
        for word in parts:
            seen[word] = number
        pairs.append((parts[0], parts[1]))
    if problems:
        raise CustomPackError(problems)
    if not pairs:
        raise CustomPackError([problem(1, PackProblem.EMPTY, "the pack needs at least one pair, like: cat, dog")])
    return pairs


def vague_hints(language: str) -> tuple[str, ...]:
    """Clues that say nothing about any word, in the room's language."""
    return _VAGUE_HINTS.get(language, _VAGUE_HINTS["en"])


def custom_bank(pairs: Sequence[Sequence[str]], language: str) -> WordBank:
    """A bank from a table's checked pairs; bots get vague hints that name no word (emoji pad the list)."""
    vague = vague_hints(language)
    built = []
    for first, second in pairs:
        words = (first, second)
        hints = {
            w: (*tuple(h for h in vague if not any(x in h.casefold() for x in words)), "🤔", "🤷", "👀") for w in words
        }
        built.append(WordPair(civilian=first, undercover=second, hints=hints))
    return WordBank(built)


@cache
def _default_library() -> PackLibrary:
    packs = [load_pack(path) for path in sorted(PACKS_DIR.glob("*.json"))]
    for pack in packs:
        if len(pack.bank) < MIN_BUNDLED_PAIRS and pack.theme == "mixed":
            raise ValueError(f"{pack.id}.json has {len(pack.bank)} pairs, needs at least {MIN_BUNDLED_PAIRS}")
    return PackLibrary(packs)


def _default_bank() -> WordBank:
    return _default_library().get("en-classic").bank

import json
import random
from pathlib import Path

import pytest

from backend.game.words import MIN_HINTS, WordBank, WordPair, parse_pairs


def _pair(civilian: str = "coffee", undercover: str = "tea", **overrides: list[str]) -> WordPair:
    hints = {civilian: ["hot drink", "morning cup", "mug"], undercover: ["hot drink", "leaves", "kettle"]}
    hints.update(overrides)
    return WordPair(civilian=civilian, undercover=undercover, hints=hints)


def _record(civilian: str, undercover: str, civilian_hints: list[str], undercover_hints: list[str]) -> dict:
    return {
        "civilian": civilian,
        "undercover": undercover,
        "hints": {civilian: civilian_hints, undercover: undercover_hints},
    }


def test_bundled_bank_has_at_least_150_pairs() -> None:
    """The shipped list is big enough that repeat games rarely reuse a pair."""
    assert len(WordBank.default()) >= 150


def test_default_bank_is_loaded_once() -> None:
    """Every caller shares the same validated bank instead of rereading the file."""
    assert WordBank.default() is WordBank.default()


def test_bundled_words_are_unique() -> None:
    """No word sits in two pairs, so hints_for never has to guess which pair is meant."""
    words = [word for pair in WordBank.default().pairs for word in (pair.civilian, pair.undercover)]
    assert len(words) == len(set(words))


def test_bundled_words_are_lowercase_letters_and_spaces() -> None:
    """Words render and compare the same everywhere."""
    for pair in WordBank.default().pairs:
        for word in (pair.civilian, pair.undercover):
            assert word == word.lower() and word.replace(" ", "").isalpha(), word


def test_every_bundled_word_has_enough_hints() -> None:
    """A bot can post several distinct clues for any word it is dealt."""
    bank = WordBank.default()
    for pair in bank.pairs:
        for word in (pair.civilian, pair.undercover):
            assert len(bank.hints_for(word)) >= MIN_HINTS, word


def test_no_bundled_hint_names_either_word_of_its_pair() -> None:
    """A bot clue never gives away its own word or the other side's."""
    for pair in WordBank.default().pairs:
        for word in (pair.civilian, pair.undercover):
            for hint in pair.hints_for(word):
                lowered = hint.lower()
                assert pair.civilian not in lowered and pair.undercover not in lowered, (word, hint)


def test_pick_is_deterministic_for_a_seed() -> None:
    """The same seed deals the same pairs, so games can be replayed in tests."""
    bank = WordBank.default()
    first = [bank.pick(random.Random(7)) for _ in range(3)]
    rng_a, rng_b = random.Random(42), random.Random(42)
    assert [bank.pick(rng_a) for _ in range(50)] == [bank.pick(rng_b) for _ in range(50)]
    assert first[0] == first[1] == first[2]


def test_pick_uses_both_orientations_and_carries_hints() -> None:
    """Either word of a pair can be the civilians', and each keeps its own hints when flipped."""
    pair = _pair()
    bank = WordBank([pair])
    rng = random.Random(1)
    drawn = [bank.pick(rng) for _ in range(200)]
    civilians = {d.civilian for d in drawn}
    assert civilians == {"coffee", "tea"}
    for d in drawn:
        assert d.hints_for(d.civilian) == pair.hints_for(d.civilian)
        assert d.hints_for(d.undercover) == pair.hints_for(d.undercover)


def test_pick_spreads_over_many_pairs() -> None:
    """Draws from the bundled bank do not stick to a few pairs."""
    bank = WordBank.default()
    rng = random.Random(3)
    assert len({frozenset((p.civilian, p.undercover)) for p in (bank.pick(rng) for _ in range(300))}) > 100


def test_hints_for_unknown_word_raises_key_error() -> None:
    """Asking about a word outside the bank is a caller bug, reported as KeyError."""
    with pytest.raises(KeyError):
        WordBank.default().hints_for("not a real word")
    with pytest.raises(KeyError):
        _pair().hints_for("milk")


def test_word_pair_is_hashable_and_immutable() -> None:
    """Pairs can be stored in sets and their hints cannot be edited after validation."""
    pair = _pair()
    assert pair in {pair, pair.swapped()}
    with pytest.raises(TypeError):
        pair.hints["coffee"] = ("cheat",)  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"coffee": ["hot drink", "iced coffee", "mug"]}, "gives away 'coffee'"),
        ({"coffee": ["hot drink", "green TEA", "mug"]}, "gives away 'tea'"),
        ({"coffee": ["hot drink", "mug"]}, "at least"),
        ({"coffee": ["hot drink", "mug", "mug"]}, "repeats"),
        ({"coffee": ["hot drink", "mug", "far too many words here"]}, "1 to 4 words"),
        ({"coffee": ["hot drink", "mug", ""]}, "1 to 4 words"),
    ],
)
def test_bad_hints_are_rejected(overrides: dict[str, list[str]], message: str) -> None:
    """Hints that leak a word, are too few, repeat, or are not 1-4 words fail validation."""
    with pytest.raises(ValueError, match=message):
        _pair(**overrides)


@pytest.mark.parametrize(
    ("civilian", "undercover", "message"),
    [
        ("Coffee", "tea", "lowercase"),
        ("ice_cream", "tea", "lowercase"),
        ("ice--cream", "tea", "lowercase"),
        ("tea2", "coffee", "lowercase"),
        ("coffee", "coffee", "itself"),
    ],
)
def test_bad_words_are_rejected(civilian: str, undercover: str, message: str) -> None:
    """Words must be lowercase letters (accents welcome) joined by single spaces, hyphens or apostrophes,
    and differ within a pair."""
    hints = {civilian: ["a", "b", "c"], undercover: ["d", "e", "f"]}
    with pytest.raises(ValueError, match=message):
        WordPair(civilian=civilian, undercover=undercover, hints=hints)


def test_hints_must_cover_exactly_the_two_words() -> None:
    """A pair whose hints are keyed by some other word is rejected."""
    with pytest.raises(ValueError, match="exactly those words"):
        hints = {"coffee": ("a", "b", "c"), "milk": ("d", "e", "f")}
        WordPair(civilian="coffee", undercover="tea", hints=hints)


def test_bank_rejects_a_word_in_two_pairs() -> None:
    """Building a bank where one word appears twice fails with a clear message."""
    with pytest.raises(ValueError, match="'tea' already appears"):
        WordBank([_pair(), _pair("milk", "tea")])


def test_bank_rejects_an_empty_list() -> None:
    """An empty bank could never deal a game."""
    with pytest.raises(ValueError, match="at least one pair"):
        WordBank([])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], '"pairs" list'),
        ({"pairs": "nope"}, '"pairs" list'),
        ({"pairs": ["coffee"]}, "pair 0: expected an object"),
        ({"pairs": [{"civilian": "coffee", "hints": {}}]}, "must be strings"),
        ({"pairs": [{"civilian": "coffee", "undercover": "tea", "hints": []}]}, '"hints" must map'),
        ({"pairs": [_record("coffee", "tea", ["a", "b", 3], ["d", "e", "f"])]}, "list of strings"),
        ({"pairs": [_record("coffee", "tea", ["a", "b", "c"], ["d", "e", "sweet tea"])]}, "pair 0: hint"),
    ],
)
def test_parse_pairs_rejects_malformed_data(data: object, message: str) -> None:
    """Malformed JSON data fails with a ValueError naming the broken entry."""
    with pytest.raises(ValueError, match=message):
        parse_pairs(data)


def test_from_json_round_trips_valid_data_and_rejects_broken_text() -> None:
    """Valid text builds a working bank; text that is not JSON is a ValueError, not a crash."""
    text = json.dumps({"pairs": [_record("coffee", "tea", ["a", "b", "c"], ["d", "e", "f"])]})
    bank = WordBank.from_json(text)
    assert len(bank) == 1 and bank.hints_for("tea") == ("d", "e", "f")
    with pytest.raises(ValueError, match="not valid JSON"):
        WordBank.from_json("{")


def test_bundled_packs_cover_both_languages_with_themes() -> None:
    """English and French each have a long mixed pack (150+ pairs) and a themed one; every id names its file."""
    from backend.game.words import PACKS_DIR, PackLibrary

    library = PackLibrary.default()
    catalogue = {p["id"]: p for p in library.catalogue()}
    assert {p.stem for p in PACKS_DIR.glob("*.json")} == set(catalogue)
    for language in ("en", "fr"):
        mine = [p for p in catalogue.values() if p["language"] == language]
        assert any(p["theme"] == "mixed" and int(p["pairs"]) >= 150 for p in mine)
        assert any(p["theme"] != "mixed" for p in mine)


def test_a_pack_file_with_a_bad_pair_fails_loading_naming_the_file(tmp_path: Path) -> None:
    """A broken pack refuses to load, naming the file and the pair, like the bundled list always did."""
    from backend.game.words import load_pack

    bad = tmp_path / "fr-test.json"
    pair = {"civilian": "Chat", "undercover": "chien", "hints": {"Chat": ["a", "b", "c"], "chien": ["d", "e", "f"]}}
    bad.write_text(json.dumps({"id": "fr-test", "language": "fr", "theme": "x", "name": "X", "pairs": [pair]}))
    with pytest.raises(ValueError, match=r"fr-test.json: pair 0: word 'Chat'"):
        load_pack(bad)
    bad.write_text(json.dumps({"id": "other", "language": "fr", "theme": "x", "name": "X", "pairs": []}))
    with pytest.raises(ValueError, match="must match the file name"):
        load_pack(bad)
    bad.write_text(json.dumps({"id": "fr-test", "language": "de", "theme": "x", "name": "X", "pairs": []}))
    with pytest.raises(ValueError, match="language must be one of"):
        load_pack(bad)

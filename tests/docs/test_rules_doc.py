"""docs/rules.md and docs/rules.fr.md stay true: every worked example in their prose is played through the pure
engine, and a test fails when what the page says and what the game does part ways.

The examples are read from the prose itself (no hidden script beside it), with one small grammar per language:
who is out in which round, what Mr. White guesses, how many civilians are left, who wins; the revote's counts;
the guesses judged right or wrong; the line a refused pack names. A rewording the grammar no longer reads
fails too (each page must yield every kind of example), so prose and test are changed together.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backend.core.errors import Invalid
from backend.game.engine import MR_WHITE, Room
from backend.game.vocabulary import Phase, Winner
from backend.game.words import custom_bank
from tests.backend.game.helpers import T0, make_room

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = {"en": DOCS / "rules.md", "fr": DOCS / "rules.fr.md"}
START = T0 + 300


@dataclass(frozen=True)
class Grammar:
    """The phrases one language's page uses; every pattern is matched case-insensitively on joined lines."""

    heading: str  # "Examples with 5 players (3 civilians, 1 undercover, 1 Mr. White):"
    step: str  # one elimination: groups round, who, guess verdict (optional)
    who: dict[str, str]  # phrase -> role
    right: str  # the verdict phrase of a right guess
    civilians_left: str  # "N civilians"
    goes_on: str
    winners: dict[str, Winner]  # bold text -> winner
    revote: str  # first counts, then the revote's counts or its absence, then who is out
    nobody_votes: str
    guess_right: str  # For the word `w`, `a`, `b` are right; `x` is not.
    two_words: str  # `guess` matches `word`, `other` does not
    pack_line: str  # `word` (line N)
    separator: str = ";"


GRAMMARS = {
    "en": Grammar(
        heading=r"Examples with (\d+) players \((\d+) civilians, (\d+) undercover(?:, (\d+) Mr\. White)?\):",
        step=r"round (\d+) (.+?) is out(?: and guesses (right|wrong))?",
        who={
            "mr. white": MR_WHITE,
            "the undercover": "undercover",
            "a civilian": "civilian",
            "another civilian": "civilian",
        },
        right="right",
        civilians_left=r"(\d+) civilians? (?:are|is) left",
        goes_on="the game goes on",
        winners={
            "civilians win": Winner.CIVILIANS,
            "mr. white wins": Winner.MR_WHITE,
            "the undercover and mr. white win": Winner.UNDERCOVER,
            "the undercover wins": Winner.UNDERCOVER,
        },
        revote=r"Example \(revote[^,]*, (\d+) players\): (.+?)\. (.+?): \*\*(.+?)\*\*([^.]*)\.",
        nobody_votes="nobody votes",
        guess_right=r"For (?:the word )?`([^`]+)`, (.+?) (?:are all|is) right(?:; (.+?) is not)?\.",
        two_words=r"`([^`]+)` matches `([^`]+)`, `([^`]+)` does not",
        pack_line=r"`([^`]+)` \(line (\d+)\)",
    ),
    "fr": Grammar(
        heading=r"Exemples à (\d+) joueurs \((\d+) civils, (\d+) undercover(?:, (\d+) Mr\. White)?\) :",
        step=r"manche (\d+), (.+?) est éliminé(?: et (devine juste|se trompe))?",
        who={"mr. white": MR_WHITE, "l'undercover": "undercover", "un civil": "civilian", "un autre civil": "civilian"},
        right="devine juste",
        civilians_left=r"restent (?:mr\. white et )?(\d+) civils?",
        goes_on="la partie continue",
        winners={
            "les civils gagnent": Winner.CIVILIANS,
            "mr. white gagne": Winner.MR_WHITE,
            "l'undercover et mr. white gagnent": Winner.UNDERCOVER,
            "l'undercover gagne": Winner.UNDERCOVER,
        },
        revote=r"Exemple \(nouveau vote[^,]*, (\d+) joueurs\) : (.+?)\. (.+?) : \*\*(.+?)\*\*([^.]*)\.",
        nobody_votes="personne ne vote",
        guess_right=r"Pour (?:le mot )?`([^`]+)`, (.+?) (?:sont|est) justes? ?(?:; (.+?) ne l'est pas)?\.",
        two_words=r"`([^`]+)` correspond à `([^`]+)`, `([^`]+)` non",
        pack_line=r"`([^`]+)` \(ligne (\d+)\)",
        separator=" ;",
    ),
}


def prose(lang: str) -> str:
    """The page with its lines joined (list items and sentences wrap), code blocks kept as they are."""
    parts = PAGES[lang].read_text(encoding="utf-8").split("```")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\n(?!\n|- |\|)\s*", " ", parts[i])
    return "```".join(parts)


# ---- who wins -----------------------------------------------------------------------------------------------


@dataclass
class Step:
    round: int
    role: str
    guess_right: bool | None
    civilians_left: int | None = None
    goes_on: bool = False


@dataclass
class WinExample:
    text: str
    players: int
    civilians: int
    undercovers: int
    mr_whites: int
    steps: list[Step] = field(default_factory=list)
    winner: Winner | None = None


def win_examples(lang: str) -> list[WinExample]:
    g = GRAMMARS[lang]
    found = []
    for block in re.finditer(g.heading + r"\n\n((?:- .*\n)+)", prose(lang)):
        players, civ, uc, mw = (int(n or 0) for n in block.groups()[:4])
        assert civ + uc + mw == players, block.group(0)
        for line in block.group(5).splitlines():
            example = WinExample(line, players, civ, uc, mw)
            for part in line[2:].split(g.separator):
                step = re.search(g.step, part, re.I)
                assert step, f"no elimination read in {part!r}"
                who = g.who[step.group(2).lower()]
                verdict = None if step.group(3) is None else step.group(3).lower() == g.right
                left = re.search(g.civilians_left, part, re.I)
                example.steps.append(
                    Step(int(step.group(1)), who, verdict, int(left.group(1)) if left else None, g.goes_on in part)
                )
            bold = re.findall(r"\*\*(.+?)\*\*", line)
            assert len(bold) == 1, line
            example.winner = g.winners[bold[0].lower()]
            found.append(example)
    return found


def deal(players: int, mr_white: bool, bank_pairs: list[tuple[str, str]] | None = None) -> tuple[Room, random.Random]:
    """A started game of `players` humans; the pair's first word goes to the civilians."""
    pairs = bank_pairs or [("coffee", "tea")]
    bank = custom_bank(pairs, "en")
    for seed in range(200):
        room, _ = make_room(players)
        room.update_settings("h0", {"mr_white": mr_white, "tie_rule": "revote"}, T0)
        rng = random.Random(seed)
        room.start("h0", START, rng, bank)
        if any(p.role == "civilian" and p.word == pairs[0][0] for p in room.players.values()):
            return room, rng
    raise AssertionError("no seed deals the civilians the first word")


def vote_out(room: Room, target: str, now: float, rng: random.Random) -> None:
    if room.phase == Phase.DISCUSSION:
        room.advance(room.host_id or "h0", now, rng)
    alive = [p.id for p in room.alive()]
    for voter in alive:
        room.vote(voter, target if voter != target else next(x for x in alive if x != target), now, rng)


def play(example: WinExample) -> None:
    room, rng = deal(example.players, example.mr_whites > 0)
    roles = [p.role for p in room.players.values()]
    dealt = (roles.count("civilian"), roles.count("undercover"), roles.count(MR_WHITE))
    assert dealt == (example.civilians, example.undercovers, example.mr_whites), example.text
    now = START
    for index, step in enumerate(example.steps):
        now += 10
        assert room.round == step.round, (example.text, room.round)
        target = next(p.id for p in room.alive() if p.role == step.role)
        vote_out(room, target, now, rng)
        if step.role == MR_WHITE:
            assert room.phase == Phase.GUESS, example.text
            assert step.guess_right is not None, f"the page does not say what Mr. White guessed: {example.text}"
            word = next(p.word for p in room.players.values() if p.role == "civilian")
            room.guess(target, word if step.guess_right else "a wrong guess", now + 1, rng)
        alive = [p.role for p in room.alive()]
        if step.civilians_left is not None:
            assert alive.count("civilian") == step.civilians_left, example.text
        last = index == len(example.steps) - 1
        assert (room.phase == Phase.FINISHED) == last, (example.text, step, room.phase)
        assert not step.goes_on or not last, example.text
    assert room.winner == example.winner, (example.text, room.winner)


@pytest.mark.parametrize("lang", PAGES)
def test_who_wins_examples_play_out_as_written(lang: str) -> None:
    """Each "Examples with N players" bullet, round by round: the eliminations happen in those rounds, the
    civilians left are as many as written, the game goes on until the last step, and the winner is the bold one."""
    examples = win_examples(lang)
    assert len(examples) >= 6 and {e.players for e in examples} == {4, 5}
    for example in examples:
        play(example)


# ---- tie rule -------------------------------------------------------------------------------------------------

NAMES = {"en": ["Ann", "Ben", "Cleo", "Dan", "Eve"], "fr": ["Anne", "Benoît", "Clara", "Dan", "Eve"]}


def counts(text: str) -> dict[str, int]:
    """ "Ann and Ben get 2 votes each, Cleo 1" / "Ben gets 3 votes, Ann 2" (and the French) as name -> votes."""
    found: dict[str, int] = {}
    each = re.search(r"(\w+) (?:and|et) (\w+) (?:get|ont) (\d+) (?:votes|voix) (?:each|chacun)", text)
    if each:
        found[each.group(1)] = found[each.group(2)] = int(each.group(3))
        text = text[each.end() :]
    for name, n in re.findall(r"(\w+)(?: gets| reçoit)? (\d+)(?: votes?| voix)?", text):
        found[name] = int(n)
    return found


def ballots(names: list[str], wanted: dict[str, int]) -> dict[str, str]:
    """Who votes for whom so the counts are `wanted` (nobody for themself): the most-voted are served first."""
    voters, plan = list(names), {}
    for target, n in sorted(wanted.items(), key=lambda kv: -kv[1]):
        for _ in range(n):
            voter = next(v for v in voters if v != target)
            voters.remove(voter)
            plan[voter] = target
    return plan


@pytest.mark.parametrize("lang", PAGES)
def test_revote_examples_play_out_as_written(lang: str) -> None:
    """Under the revote rule: the first counts tie the two named players; the revote's counts put the bold
    player out, and a revote nobody votes in puts nobody out and starts round 2 (no second revote)."""
    g = GRAMMARS[lang]
    examples = re.findall(g.revote, prose(lang))
    assert len(examples) == 2, examples
    outcomes = set()
    for players, first, second, result, after in examples:
        room, _ = make_room(int(players))
        ids = {name: pid for name, pid in zip(NAMES[lang], room.players, strict=False)}
        for name, pid in ids.items():
            room.players[pid].name = name
        room.update_settings("h0", {"tie_rule": "revote"}, T0)
        rng = random.Random(1)
        room.start("h0", START, rng, custom_bank([("coffee", "tea")], "en"))
        room.advance("h0", START + 1, rng)
        wanted = counts(first)
        for voter, target in ballots(list(ids), wanted).items():
            room.vote(ids[voter], ids[target], START + 2, rng)
        tied = sorted(name for name, n in wanted.items() if n == max(wanted.values()))
        assert room.phase == Phase.VOTING and sorted(room.revote_candidates) == sorted(ids[n] for n in tied)
        if g.nobody_votes in second.lower():
            events = room.advance("h0", START + 3, rng)
            tie = next(e for e in events if e.type == "vote_tied")
            assert tie.data["revote"] is False and all(p.alive for p in room.players.values())
            assert (room.phase, room.round) == (Phase.DISCUSSION, 2)
            assert re.search(r"(?:round|manche) 2", after, re.I), after
            outcomes.add("nobody")
        else:
            revote = counts(second.split(";" if lang == "en" else " ;")[-1])
            for voter, target in ballots(list(ids), revote).items():
                room.vote(ids[voter], ids[target], START + 3, rng)
            out = [name for name, pid in ids.items() if not room.players[pid].alive]
            assert out == [max(revote, key=lambda n: revote[n])] and out[0] in result
            outcomes.add("out")
    assert outcomes == {"nobody", "out"}


# ---- Mr. White's guess ----------------------------------------------------------------------------------------


def guess_examples(lang: str) -> list[tuple[str, str, bool]]:
    """(word, guess, judged right?) from the guess paragraph."""
    g, text = GRAMMARS[lang], prose(lang)
    found = []
    for word, right, wrong in re.findall(g.guess_right, text):
        found += [(word, guess, True) for guess in re.findall(r"`([^`]+)`", right)]
        found += [(word, guess, False) for guess in re.findall(r"`([^`]+)`", wrong)]
    for guess, word, other in re.findall(g.two_words, text):
        found += [(word, guess, True), (word, other, False)]
    return found


@pytest.mark.parametrize("lang", PAGES)
def test_guess_examples_are_judged_as_written(lang: str) -> None:
    """Each word's right and wrong guesses, typed by a voted-out Mr. White, win or do not win the game."""
    examples = guess_examples(lang)
    assert len(examples) >= 8 and {right for _, _, right in examples} == {True, False}
    for word, guess, right in examples:
        room, rng = deal(5, True, [(word, "zebra")])
        mr_white = next(p.id for p in room.players.values() if p.role == MR_WHITE)
        vote_out(room, mr_white, START + 10, rng)
        events = room.guess(mr_white, guess, START + 11, rng)
        made = next(e for e in events if e.type == "guess_made")
        assert made.data["correct"] is right, (word, guess)
        assert (room.winner == Winner.MR_WHITE) is right, (word, guess)


# ---- pasted packs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", PAGES)
def test_the_refused_pack_example_names_the_line_written(lang: str) -> None:
    """The pasted pack shown with a bad line is refused naming that line, counted with blank and # lines."""
    text = prose(lang)
    word, line = re.findall(GRAMMARS[lang].pack_line, text)[0]
    block = next(b.strip("\n") for b in text.split("```")[1::2] if word in b)
    room, _ = make_room(3)
    with pytest.raises(Invalid) as refused:
        room.set_custom_pack("h0", block, T0)
    assert [(p["line"], p["word"]) for p in refused.value.lines] == [(int(line), word)]

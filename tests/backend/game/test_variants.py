"""Mr. White, house rules, stand-in bots, word packs and the story, through the pure engine and an injected clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from backend.core.errors import Conflict, Forbidden, Invalid
from backend.game.engine import MR_WHITE, Room, RoomLimits, same_word
from backend.game.events import Event
from backend.game.words import PackLibrary, vague_hints
from tests.backend.game.helpers import BANK, T0, make_room, types

START = T0 + 300


def deal(
    humans: int,
    bots: int = 0,
    *,
    want: Callable[[Room], bool] = lambda r: True,
    limits: RoomLimits | None = None,
    **settings: Any,
) -> tuple[Room, random.Random, list[Event]]:
    """A started game with these settings, from the first seed whose deal satisfies `want`."""
    for seed in range(500):
        room, _ = make_room(humans, bots, limits=limits)
        room.update_settings("h0", settings, T0)
        rng = random.Random(seed)
        events = room.start("h0", START, rng, BANK)
        if want(room):
            return room, rng, events
    raise AssertionError("no seed deals the wanted roles")


def role_of(room: Room, role: str) -> list[str]:
    return [p.id for p in room.players.values() if p.role == role]


def vote_all(room: Room, target: str, now: float, rng: random.Random) -> list[Event]:
    """Every alive player votes for `target` (the target for someone else); the last vote resolves."""
    if room.phase == "discussion":
        room.advance(room.host_id or "h0", now, rng)
    events: list[Event] = []
    alive = [p.id for p in room.alive()]
    for voter in alive:
        choice = target if voter != target else next(x for x in alive if x != target)
        events += room.vote(voter, choice, now, rng)
    return events


def mr_white(room: Room) -> str:
    return role_of(room, MR_WHITE)[0]


def human_mr_white(room: Room) -> bool:
    found = role_of(room, MR_WHITE)
    return bool(found) and found[0].startswith("h")


# ---- Mr. White -------------------------------------------------------------------------------------------


def test_mr_white_is_off_by_default_and_needs_five_players() -> None:
    """No Mr. White unless the host turns it on; with it on, a table of 4 cannot start."""
    room, _, _ = deal(5)
    assert role_of(room, MR_WHITE) == []
    room, _ = make_room(4)
    room.update_settings("h0", {"mr_white": True}, T0)
    with pytest.raises(Conflict, match="at least 5"):
        room.start("h0", START, random.Random(1), BANK)


def test_mr_white_gets_no_word_and_knows_it() -> None:
    """One Mr. White with no word: the private deal says so, the snapshot shows no word; others see nothing."""
    room, _, events = deal(5, mr_white=True, want=human_mr_white)
    mw = mr_white(room)
    assert room.players[mw].word is None and len(role_of(room, "undercover")) == 1
    mine = next(e for e in events if e.type == "your_word" and e.to == mw)
    assert mine.data == {"word": None, "game": 1, "mr_white": True}
    assert next(e for e in events if e.type == "game_started").data["mr_white_count"] == 1
    snap = room.snapshot(mw)
    assert snap["you"]["word"] is None and snap["you"]["mr_white"] is True
    other = next(p for p in room.players if p != mw)
    assert room.snapshot(other)["you"]["mr_white"] is False
    assert all("role" not in p for p in room.snapshot(other)["players"])


def test_mr_white_may_give_any_clue() -> None:
    """With no word, no clue of Mr. White's can contain it."""
    room, rng, _ = deal(5, mr_white=True, want=human_mr_white)
    assert types(room.post_clue(mr_white(room), "coffee tea", START + 1, rng)) == ["clue_posted"]


@pytest.mark.parametrize("guess", ["coffee", "  COFFEE ", "Coffées", "cöffee", "coffee   "])
def test_voted_out_first_mr_white_guessing_right_wins_alone(guess: str) -> None:
    """Out in round 1: a guess phase everyone sees; a right guess (case, accents, spaces, plural aside) wins
    for Mr. White alone though the undercover is still in."""
    room, rng, _ = deal(5, mr_white=True, want=human_mr_white)
    mw = mr_white(room)
    events = vote_all(room, mw, START + 5, rng)
    assert types(events)[-3:] == ["player_eliminated", "phase_changed", "guess_started"]
    assert events[-3].data["role"] == MR_WHITE
    assert room.phase == "guess" and room.deadline == START + 5 + room.settings.guess_seconds
    started = events[-1]
    assert started.to is None and started.data["player_id"] == mw and started.data["deadline"] == room.deadline
    others = [p for p in room.players if p != mw]
    with pytest.raises(Forbidden):
        room.guess(others[0], "coffee", START + 6, rng)
    with pytest.raises(Conflict):
        room.post_clue(others[0], "hello", START + 6, rng)
    events = room.guess(mw, guess, START + 7, rng)
    assert types(events) == ["guess_made", "phase_changed", "game_over"]
    assert events[0].data == {"player_id": mw, "name": room.players[mw].name, "guess": guess.strip(),
                              "correct": True, "round": 1}  # fmt: skip
    assert events[-1].data["winner"] == MR_WHITE and events[-1].data["winners"] == [mw]
    assert role_of(room, "undercover")[0] in [p.id for p in room.alive()]


def test_wrong_guess_plays_on_and_a_second_guess_is_refused() -> None:
    """A wrong guess is revealed to all and the game goes on to the next round; Mr. White cannot guess again."""
    room, rng, _ = deal(6, mr_white=True, want=human_mr_white)
    mw = mr_white(room)
    vote_all(room, mw, START + 5, rng)
    events = room.guess(mw, "tea", START + 6, rng)
    assert types(events) == ["guess_made", "phase_changed"]
    assert events[0].data["correct"] is False and events[0].data["guess"] == "tea"
    assert room.phase == "discussion" and room.round == 2
    with pytest.raises(Conflict):
        room.guess(mw, "coffee", START + 7, rng)


def test_undercover_out_then_mr_white_wrong_guess_civilians_win() -> None:
    """Undercover out first, Mr. White out next with a wrong guess: nobody is left against the civilians."""
    room, rng, _ = deal(6, mr_white=True, want=human_mr_white)
    mw, uc = mr_white(room), role_of(room, "undercover")[0]
    vote_all(room, uc, START + 5, rng)
    assert room.phase == "discussion"
    vote_all(room, mw, START + 10, rng)
    events = room.guess(mw, "latte", START + 11, rng)
    assert events[-1].type == "game_over" and events[-1].data["winner"] == "civilians"


def test_undercover_out_then_mr_white_right_guess_wins() -> None:
    """Mr. White out last among the infiltrators still wins with the right word."""
    room, rng, _ = deal(6, mr_white=True, want=human_mr_white)
    mw, uc = mr_white(room), role_of(room, "undercover")[0]
    vote_all(room, uc, START + 5, rng)
    vote_all(room, mw, START + 10, rng)
    assert room.guess(mw, "Coffee", START + 11, rng)[-1].data["winner"] == MR_WHITE


def test_guess_times_out_on_the_injected_clock() -> None:
    """No guess before the guess deadline: nothing at deadline - 1, a null wrong guess at the deadline."""
    room, rng, _ = deal(6, mr_white=True, want=human_mr_white)
    mw = mr_white(room)
    vote_all(room, mw, START + 5, rng)
    deadline = room.deadline
    assert deadline is not None and room.next_wakeup() == deadline
    assert room.tick(deadline - 1, rng) == []
    events = room.tick(deadline, rng)
    assert events[0].type == "guess_made" and events[0].data["guess"] is None and not events[0].data["correct"]
    assert room.phase == "discussion"


def test_mr_white_leaving_during_the_guess_ends_it() -> None:
    """The guesser leaving counts as no guess; the game goes on."""
    room, rng, _ = deal(6, mr_white=True, want=human_mr_white)
    mw = mr_white(room)
    vote_all(room, mw, START + 5, rng)
    events = room.remove_player(mw, mw, START + 6, rng)
    assert "guess_made" in types(events) and room.phase == "discussion"


def test_mr_white_surviving_to_parity_without_undercover_wins() -> None:
    """With the undercover out, Mr. White alone at least as many as the civilians left wins."""
    room, rng, _ = deal(5, mr_white=True, want=human_mr_white)
    mw, uc = mr_white(room), role_of(room, "undercover")[0]
    vote_all(room, uc, START + 5, rng)
    civilians = role_of(room, "civilian")
    vote_all(room, civilians[0], START + 10, rng)
    events = vote_all(room, civilians[1], START + 15, rng)
    assert events[-1].data["winner"] == MR_WHITE and events[-1].data["winners"] == [mw]


def test_undercover_and_mr_white_win_together_at_parity() -> None:
    """Civilians outnumbered: the undercover's side wins, Mr. White (still in) with them."""
    room, rng, _ = deal(5, mr_white=True, want=human_mr_white)
    mw, uc = mr_white(room), role_of(room, "undercover")[0]
    civilians = role_of(room, "civilian")
    events = vote_all(room, civilians[0], START + 5, rng)
    over = events[-1].data
    assert over["winner"] == "undercover" and set(over["winners"]) == {mw, uc}


def test_bot_mr_white_guesses_from_the_clues_it_heard() -> None:
    """A bot Mr. White, voted out, guesses the word the clues it heard point to most."""
    limits = RoomLimits(bot_min_delay_seconds=1, bot_max_delay_seconds=2)
    room, rng, _ = deal(5, 1, mr_white=True, limits=limits, want=lambda r: r.players["b0"].role == MR_WHITE)
    civilian_hints = room.hints[room.civilian_word or ""]
    for n, pid in enumerate(p for p in room.players if p.startswith("h")):
        room.post_clue(pid, civilian_hints[n % len(civilian_hints)], START + 1, rng)
    room.players["b0"].bot_action_at = None
    vote_all(room, "b0", START + 5, rng)
    assert room.phase == "guess"
    events = room.tick(START + 5 + limits.bot_max_delay_seconds, rng)
    made = next(e for e in events if e.type == "guess_made")
    assert made.data["guess"] == room.civilian_word and made.data["correct"]


def test_bot_mr_white_never_echoes_a_clue_and_still_guesses() -> None:
    """Over many seeded bot games from the bundled packs, a bot Mr. White never repeats a clue word for word
    (the tell the civilian bots look for); its clues come from the pack's hints, and voted out it still guesses."""
    limits = RoomLimits(bot_min_delay_seconds=1, bot_max_delay_seconds=4)
    library = PackLibrary.default()
    guesses, right, clues_checked = 0, 0, 0
    for seed in range(40):
        room, _ = make_room(1, 5, limits=limits)
        language = ("en", "fr")[seed % 2]
        room.update_settings("h0", {"mr_white": True, "language": language, "discussion_seconds": 30}, T0)
        rng = random.Random(seed)
        room.start("h0", START, rng, library)
        white = mr_white(room)
        if white == "h0":
            continue
        pack_hints = {h for word_hints in [*room.hints.values(), *room.decoys.values()] for h in word_hints}
        pack_hints.update(vague_hints(language))  # once a long game (ties, rounds on end) used up every hint
        now = START
        while room.phase != "finished" and now < START + 2000:
            now += 1
            for event in room.tick(now, rng):
                if event.type == "guess_made":
                    assert event.data["guess"], f"seed {seed}: an empty guess"
                    guesses += 1
                    right += bool(event.data["correct"])
        said: set[str] = set()
        for clue in room.clues:
            text = " ".join(clue["text"].casefold().split())
            if clue["player_id"] == white:
                assert text not in said, f"seed {seed}: Mr. White echoed {clue['text']!r}"
                assert clue["text"] in pack_hints, f"seed {seed}: {clue['text']!r} is not a hint from the pack"
                clues_checked += 1
            said.add(text)
    assert clues_checked >= 40 and guesses >= 3, (clues_checked, guesses, right)


def test_bots_on_one_word_do_not_echo_each_other() -> None:
    """Bots sharing a word give different clues while the word has a hint nobody said: an echo is the tell
    players and bots read as Mr. White's (seen in play: two civilian bots both said "wear" for "cap")."""
    limits = RoomLimits(bot_min_delay_seconds=1, bot_max_delay_seconds=4)
    library = PackLibrary.default()
    checked = 0
    for seed in range(40):
        room, _ = make_room(1, 5, limits=limits)
        room.update_settings("h0", {"language": ("en", "fr")[seed % 2], "discussion_seconds": 30}, T0)
        rng = random.Random(seed)
        room.start("h0", START, rng, library)
        now = START
        while room.phase == "discussion" and now < START + 30:
            now += 1
            room.tick(now, rng)
        said: set[str] = set()
        for clue in room.clues:
            player, text = room.players[clue["player_id"]], same_text(clue["text"])
            if player.is_bot and player.word is not None:
                own = [h for h in room.hints[player.word] if player.word.casefold() not in h.casefold()]
                if any(same_text(h) not in said for h in own):
                    assert text not in said, f"seed {seed}: {player.name} echoed {clue['text']!r}"
                    checked += 1
            said.add(text)
    assert checked >= 100, checked


def same_text(text: str) -> str:
    return " ".join(text.casefold().split())


def test_bots_vote_against_the_player_who_echoes_clues() -> None:
    """Civilian bots suspect the player who repeats a clue someone else gave first (Mr. White's habit)."""
    limits = RoomLimits(bot_min_delay_seconds=1, bot_max_delay_seconds=2)
    room, rng, _ = deal(
        2, 4, mr_white=True, limits=limits,
        want=lambda r: r.players["h1"].role == MR_WHITE and r.players["h0"].role == "civilian",
    )  # fmt: skip
    room.tick(START + 3, rng)  # the bots give their clues
    echo = next(c["text"] for c in room.clues if c["player_id"] != "h1")
    room.post_clue("h1", echo, START + 4, rng)
    room.post_clue("h0", "hot drink", START + 4, rng)
    room.advance("h0", START + 5, rng)
    room.tick(START + 8, rng)
    civilian_bots = [p.id for p in room.players.values() if p.is_bot and p.role == "civilian"]
    assert civilian_bots and all(room.votes[b] == "h1" for b in civilian_bots)


@pytest.mark.parametrize(
    ("guess", "word", "right"),
    [
        ("Crème", "creme", True),
        ("  ÉCOLE  ", "école", True),
        ("glasses", "glass", True),
        ("chevaux", "chevau", True),
        ("ice  cream", "ice cream", True),
        ("coffees", "coffee", True),
        ("tea", "coffee", False),
        ("cof fee", "coffee", False),
        ("", "coffee", False),
    ],
)
def test_guess_judging_normalizes_case_accents_spaces_and_plural(guess: str, word: str, right: bool) -> None:
    """The judging ignores case, accents, surrounding (and doubled) spaces and a trailing plural, nothing more."""
    assert same_word(guess, word) is right


# ---- house rules -----------------------------------------------------------------------------------------


def tie(room: Room, a: str, b: str, now: float, rng: random.Random) -> list[Event]:
    """Split the vote evenly between a and b (4 voters: two each)."""
    if room.phase == "discussion":
        room.advance("h0", now, rng)
    voters = [p.id for p in room.alive() if p.id not in (a, b)]
    events = room.vote(a, b, now, rng) + room.vote(b, a, now, rng)
    for n, voter in enumerate(voters):
        events += room.vote(voter, a if n % 2 else b, now, rng)
    return events


def test_tie_with_nobody_out_rule_goes_to_the_next_round() -> None:
    """Default tie rule: nobody is out, no revote, next round."""
    room, rng, _ = deal(4)
    events = tie(room, "h1", "h2", START + 5, rng)
    tied = next(e for e in events if e.type == "vote_tied")
    assert tied.data["revote"] is False and sorted(tied.data["candidates"]) == ["h1", "h2"]
    assert room.phase == "discussion" and room.round == 2 and len(room.alive()) == 4


def test_tie_with_revote_rule_votes_again_among_the_tied_then_nobody_out() -> None:
    """Revote rule: one more vote, only for the tied players; a second tie puts nobody out."""
    room, rng, _ = deal(4, tie_rule="revote")
    events = tie(room, "h1", "h2", START + 5, rng)
    assert types(events)[-2:] == ["vote_tied", "phase_changed"]
    assert events[-2].data["revote"] is True and events[-1].data["phase"] == "voting" and room.round == 1
    assert room.snapshot("h0")["revote_candidates"] == ["h1", "h2"]
    with pytest.raises(Invalid, match="tied"):
        room.vote("h0", "h3", START + 6, rng)
    events = tie(room, "h1", "h2", START + 6, rng)
    assert next(e for e in events if e.type == "vote_tied").data["revote"] is False
    assert room.phase == "discussion" and room.round == 2 and room.revote_candidates == []


def test_revote_with_a_leader_puts_them_out() -> None:
    """A revote that finds one leader eliminates them."""
    room, rng, _ = deal(4, tie_rule="revote", want=lambda r: r.players["h1"].role == "civilian")
    tie(room, "h1", "h2", START + 5, rng)
    for voter in ("h0", "h2", "h3"):
        room.vote(voter, "h1", START + 6, rng)
    events = room.vote("h1", "h2", START + 6, rng)
    assert next(e for e in events if e.type == "player_eliminated").data["player_id"] == "h1"


def test_counts_only_reveal_never_says_who_voted_for_whom() -> None:
    """Under counts-only, no event and no snapshot pairs a voter with a target; under names, the result does."""
    room, rng, _ = deal(4, vote_reveal="counts")
    events = vote_all(room, "h1", START + 5, rng)
    for event in events:
        assert event.data.get("ballots") is None
        assert "target_id" not in event.data
    out = next(e for e in events if e.type == "player_eliminated")
    assert out.data["votes"] == {"h1": 3, "h0": 1}
    room, rng, _ = deal(4, vote_reveal="names")
    events = vote_all(room, "h1", START + 5, rng)
    out = next(e for e in events if e.type == "player_eliminated")
    assert out.data["ballots"] == {"h0": "h1", "h1": "h0", "h2": "h1", "h3": "h1"}


def test_house_rule_settings_are_checked() -> None:
    """Unknown values are refused with a message naming the setting and what it accepts."""
    room, _ = make_room(3)
    for change, text in (
        ({"tie_rule": "coin_flip"}, "tie_rule must be one of"),
        ({"vote_reveal": "secret"}, "vote_reveal must be one of"),
        ({"mr_white": 1}, "mr_white must be true or false"),
        ({"grace_seconds": 1}, "grace_seconds must be an integer from 2"),
        ({"language": "de"}, "language must be one of"),
        ({"custom_pack_size": 3}, "unknown setting"),
    ):
        with pytest.raises(Invalid, match=text):
            room.update_settings("h0", change, T0)


# ---- stand-in bots ---------------------------------------------------------------------------------------


def test_dropped_player_gets_a_stand_in_after_the_grace_period_and_the_seat_back() -> None:
    """Offline mid-game: nothing until grace ends, then a stand-in plays (a clue from the seat's word, a vote);
    back online, the player has the seat again."""
    limits = RoomLimits(bot_min_delay_seconds=1, bot_max_delay_seconds=2)
    room, _ = make_room(4, limits=limits)
    room.update_settings("h0", {"grace_seconds": 20}, T0)
    rng = random.Random(3)
    room.start("h0", START, rng, BANK)
    assert types(room.set_presence("h2", False, START + 10)) == ["presence_changed"]
    assert room.next_wakeup() == START + 30
    assert room.tick(START + 29, rng) == []
    events = room.tick(START + 30, rng)
    assert types(events)[0] == "stand_in_started" and events[0].data == {"player_id": "h2", "name": "Human 2"}
    assert room.snapshot("h0")["players"][2]["stand_in"] is True
    events = room.tick(START + 32, rng)
    clue = next(e for e in events if e.type == "clue_posted")
    assert clue.data["player_id"] == "h2" and clue.data["text"] in room.hints[room.players["h2"].word or ""]
    room.advance("h0", START + 33, rng)
    room.tick(START + 36, rng)
    assert "h2" in room.votes
    events = room.set_presence("h2", True, START + 37)
    assert types(events) == ["presence_changed", "stand_in_ended"]
    assert room.players["h2"].stand_in is False and room.players["h2"].bot_action_at is None


def test_a_player_back_within_the_grace_period_never_gets_a_stand_in() -> None:
    """Reconnecting before the grace period ends cancels it."""
    room, rng, _ = deal(4, grace_seconds=20)
    room.set_presence("h1", False, START + 1)
    room.set_presence("h1", True, START + 15)
    assert room.tick(START + 25, rng) == [] and not room.players["h1"].stand_in


def test_a_player_away_at_the_start_gets_a_stand_in_after_the_grace_period() -> None:
    """Offline when the game starts: the grace period starts with the game."""
    room, _ = make_room(4)
    room.update_settings("h0", {"grace_seconds": 5}, T0)
    room.set_presence("h3", False, T0 + 250)
    rng = random.Random(1)
    room.start("h0", START, rng, BANK)
    assert "stand_in_started" in types(room.tick(START + 5, rng))


def test_the_game_never_waits_on_an_absent_player_beyond_the_phase_timer() -> None:
    """With a long grace period, the discussion still ends at its deadline."""
    room, rng, _ = deal(4, grace_seconds=600)
    room.set_presence("h1", False, START + 1)
    events = room.tick(START + room.settings.discussion_seconds, rng)
    assert events[-1].data["phase"] == "voting"


# ---- packs and the story ---------------------------------------------------------------------------------


def test_french_room_plays_french_words_and_language_moves_the_pack() -> None:
    """Choosing French picks the French pack; words come from it; a pack in another language is refused."""
    library = PackLibrary.default()
    room, _ = make_room(3)
    room.update_settings("h0", {"language": "fr"}, T0, library.languages())
    assert room.settings.pack == "fr-classique"
    room.start("h0", START, random.Random(5), library)
    french = {w for pair in library.get("fr-classique").bank.pairs for w in (pair.civilian, pair.undercover)}
    assert room.civilian_word in french and room.undercover_word in french
    with pytest.raises(Invalid, match="not in language"):
        make_room(3)[0].update_settings("h0", {"language": "fr", "pack": "en-classic"}, T0, library.languages())
    with pytest.raises(Invalid, match="unknown pack"):
        make_room(3)[0].update_settings("h0", {"pack": "klingon"}, T0, library.languages())


def test_civilian_side_of_a_pair_is_random_per_game() -> None:
    """Over games, both words of the one pair serve as the civilians' word."""
    seen = set()
    room, _ = make_room(3)
    rng = random.Random(7)
    for n in range(20):
        room.start("h0", START + n * 1000, rng, BANK)
        seen.add(room.civilian_word)
        room.phase = "finished"
    assert seen == {"coffee", "tea"}


def test_custom_pack_names_every_bad_line_and_is_played_from() -> None:
    """A pasted pack with bad lines is refused naming each; a good one is kept with the room and dealt."""
    room, _ = make_room(3)
    bad = "cat, dog\npizza\n\n# a comment\nsun, sun\nsea; sk8\ncat, mouse"
    with pytest.raises(Invalid) as err:
        room.set_custom_pack("h0", bad, T0)
    message = err.value.message
    for line in ("line 2:", "line 5:", "line 6:", "line 7:"):
        assert line in message
    assert "line 1:" not in message and err.value.code == "invalid_pack"
    assert [(p["line"], p["reason"], p["word"]) for p in err.value.lines] == [
        (2, "two_words", "pizza"),
        (5, "same_word", "sun"),
        (6, "bad_word", "sk8"),
        (7, "repeated", "cat"),
    ]
    assert err.value.lines[3]["other"] == 1 and err.value.lines[2]["limit"] == 30
    with pytest.raises(Forbidden):
        room.set_custom_pack("h1", "cat, dog", T0)
    events = room.set_custom_pack("h0", "Chat, Chien\nthé / café", T0)
    assert events[0].data["settings"]["pack"] == "custom" and room.settings.custom_pack_size == 2
    assert "chat" not in str(room.snapshot("h1"))
    restored = Room.from_dict(room.to_dict())
    restored.start("h0", START, random.Random(2), PackLibrary.default())
    assert {restored.civilian_word, restored.undercover_word} in ({"chat", "chien"}, {"thé", "café"})


def test_game_over_tells_the_story() -> None:
    """Each round's clues and votes (with ballots under the names rule), eliminations in order with roles."""
    room, rng, _ = deal(4, want=lambda r: r.players["h3"].role == "undercover")
    room.post_clue("h1", "warm", START + 1, rng)
    vote_all(room, "h1", START + 5, rng)
    room.post_clue("h2", "daily", START + 6, rng)
    events = vote_all(room, "h3", START + 10, rng)
    story = events[-1].data["story"]
    assert [r["round"] for r in story["rounds"]] == [1, 2]
    assert story["rounds"][0]["clues"] == [{"player_id": "h1", "name": "Human 1", "text": "warm"}]
    assert story["rounds"][0]["votes"][0]["ballots"]["h0"] == "h1"
    assert [(e["player_id"], e["role"], e["how"]) for e in story["eliminations"]] == [
        ("h1", "civilian", "voted"),
        ("h3", "undercover", "voted"),
    ]
    assert story["eliminations"][1]["word"] == room.undercover_word


def test_play_again_keeps_settings_and_the_pasted_pack() -> None:
    """A second game deals from the same pasted pack with the same house rules."""
    room, _ = make_room(6)
    room.update_settings("h0", {"mr_white": True, "tie_rule": "revote", "vote_reveal": "counts"}, T0)
    room.set_custom_pack("h0", "chat, chien", T0)
    rng = random.Random(4)
    room.start("h0", START, rng, PackLibrary.default())
    mw, uc = mr_white(room), role_of(room, "undercover")[0]
    vote_all(room, mw, START + 5, rng)
    room.guess(mw, "lapin", START + 6, rng)
    vote_all(room, uc, START + 10, rng)
    assert room.phase == "finished"
    room.start("h0", START + 20, rng, PackLibrary.default())
    assert {room.civilian_word, room.undercover_word} == {"chat", "chien"}
    assert room.settings.tie_rule == "revote" and room.settings.vote_reveal == "counts" and role_of(room, MR_WHITE)

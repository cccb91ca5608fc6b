"""Every rule of Undercover, driven through the pure engine with an injected clock (no sleeping)."""

from __future__ import annotations

import random

import pytest

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from backend.game.engine import Room, RoomLimits
from backend.game.vocabulary import MAX_PLAYERS, Phase
from backend.game.words import PackLibrary
from tests.backend.game.helpers import BANK, T0, civilians, make_room, started, types, undercovers

RNG = random.Random(0)  # for commands that take chance but never use it in these cases

# ---- lobby ---------------------------------------------------------------------------------------------------


def test_creator_is_host_and_joins_emit_events() -> None:
    """The creator becomes host; each join is a public player_joined event."""
    room, events = Room.create("ABCDE", host_id="a", host_name="Ann", token_hash="x", now=T0)
    assert room.host_id == "a"
    assert types(events) == ["player_joined", "host_changed"]
    assert types(room.join("b", "Bob", "y", T0)) == ["player_joined"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 25, "bad\x00name", "tab\there", "zero\u200bwidth"])
def test_invalid_names_are_refused(name: str) -> None:
    """Names must be 1-24 characters after trimming, without control characters."""
    room, _ = make_room(1)
    with pytest.raises(Invalid):
        room.join("z", name, "t", T0)


def test_names_are_trimmed_and_unique_ignoring_case() -> None:
    """'  alice ' is stored as 'alice'; 'ALICE' is then taken."""
    room, _ = make_room(1)
    room.join("a", "  alice ", "t", T0)
    assert room.players["a"].name == "alice"
    with pytest.raises(Conflict) as err:
        room.join("b", "ALICE", "t", T0)
    assert err.value.code == "name_taken"


def test_room_holds_at_most_twelve() -> None:
    """The 13th seat is refused with room_full."""
    room, _ = make_room(MAX_PLAYERS)
    with pytest.raises(Conflict) as err:
        room.join("late", "Late", "t", T0)
    assert err.value.code == "room_full"
    with pytest.raises(Conflict):
        room.add_bot("h0", "b", T0)


def test_only_host_adds_and_removes_bots() -> None:
    """Bots are the host's to add or remove; others get Forbidden."""
    room, _ = make_room(2)
    with pytest.raises(Forbidden):
        room.add_bot("h1", "b1", T0)
    room.add_bot("h0", "b1", T0)
    assert room.players["b1"].is_bot and room.players["b1"].online
    with pytest.raises(Forbidden):
        room.remove_player("h1", "b1", T0, RNG)
    assert types(room.remove_player("h0", "b1", T0, RNG)) == ["player_left"]
    assert "b1" not in room.players


def test_host_leaving_passes_to_longest_present_connected_human() -> None:
    """On leave, the earliest-joined human who is online becomes host (offline ones are skipped)."""
    room, _ = make_room(4)
    room.set_presence("h1", False, T0)
    events = room.remove_player("h0", "h0", T0, RNG)
    assert types(events) == ["player_left", "host_changed"]
    assert room.host_id == "h2"
    assert events[1].data == {"player_id": "h2"}


def test_settings_ranges_and_host_only() -> None:
    """discussion 10-600, voting 5-300, undercover count auto/1/2; only the host, only between games."""
    room, _ = make_room(3)
    assert types(room.update_settings("h0", {"discussion_seconds": 10, "voting_seconds": 300}, T0)) == [
        "settings_changed"
    ]
    for bad in ({"discussion_seconds": 9}, {"discussion_seconds": 601}, {"voting_seconds": 4}, {"undercover_count": 3}):
        with pytest.raises(Invalid):
            room.update_settings("h0", bad, T0)
    with pytest.raises(Invalid):
        room.update_settings("h0", {"bogus": 1}, T0)
    with pytest.raises(Forbidden):
        room.update_settings("h1", {"voting_seconds": 30}, T0)
    room.start("h0", T0, random.Random(1), BANK)
    with pytest.raises(Conflict):
        room.update_settings("h0", {"voting_seconds": 30}, T0)


def test_start_needs_three_players_and_the_host() -> None:
    """Two seated players cannot start; a non-host cannot start."""
    room, _ = make_room(2)
    with pytest.raises(Conflict) as err:
        room.start("h0", T0, random.Random(1), BANK)
    assert err.value.code == "not_enough_players"
    room.join("h2", "Third", "t", T0)
    with pytest.raises(Forbidden):
        room.start("h1", T0, random.Random(1), BANK)


@pytest.mark.parametrize(("seated", "expected"), [(3, 1), (6, 1), (7, 2), (12, 2)])
def test_undercover_count_follows_table(seated: int, expected: int) -> None:
    """1 undercover for up to 6 players, 2 for 7-12."""
    room, _ = make_room(seated)
    room.start("h0", T0, random.Random(seated), BANK)
    assert len(undercovers(room)) == expected


def test_two_undercovers_need_seven_players() -> None:
    """An explicit 2-undercover setting with 6 players is refused at start."""
    room, _ = make_room(6)
    room.update_settings("h0", {"undercover_count": 2}, T0)
    with pytest.raises(Conflict):
        room.start("h0", T0, random.Random(1), BANK)


def test_start_deals_words_privately() -> None:
    """Each human gets one private your_word; undercovers hold the other word and are not told their role."""
    room, ids, _ = started(4)
    words = {p.id: p.word for p in room.players.values()}
    assert set(words.values()) == {"coffee", "tea"}
    uc = undercovers(room)[0]
    assert all(words[pid] != words[uc] for pid in ids if pid != uc)
    snap = room.snapshot(uc)
    assert snap["you"]["word"] == words[uc]
    assert "role" not in snap["you"]
    assert all("role" not in p for p in snap["players"])
    assert "coffee" not in str([p for p in snap["players"]]) and "tea" not in str(snap["players"])


def test_start_events_and_deadline() -> None:
    """game_started, one private your_word per human, then phase_changed(discussion) with its deadline."""
    room, _ = make_room(3, bots=1)
    events = room.start("h0", T0, random.Random(3), BANK)
    assert types(events) == ["game_started", "your_word", "your_word", "your_word", "phase_changed"]
    private = [e for e in events if e.type == "your_word"]
    assert {e.to for e in private} == {"h0", "h1", "h2"}
    phase = events[-1].data
    assert phase["phase"] == "discussion" and phase["round"] == 1
    assert phase["deadline"] == T0 + room.settings.discussion_seconds


# ---- discussion ----------------------------------------------------------------------------------------------


def test_clue_rules() -> None:
    """Clues: 1-120 characters, never the player's own word (any case), 1 per 2 s, alive players only."""
    room, _, _rng = started(4)
    h1 = room.players["h1"]
    with pytest.raises(Invalid):
        room.post_clue("h1", "", T0 + 301, RNG)
    with pytest.raises(Invalid):
        room.post_clue("h1", "x" * 121, T0 + 301, RNG)
    with pytest.raises(Invalid) as err:
        room.post_clue("h1", f"I love {h1.word.upper()}!", T0 + 301, RNG)
    assert err.value.code == "clue_contains_word"
    assert types(room.post_clue("h1", "warm", T0 + 301, RNG)) == ["clue_posted"]
    with pytest.raises(RateLimited):
        room.post_clue("h1", "again", T0 + 302, RNG)
    assert types(room.post_clue("h1", "again", T0 + 303.01, RNG)) == ["clue_posted"]


def test_clue_cap_per_round() -> None:
    """A player may post at most max_clues_per_round clues in one round."""
    room, _ = make_room(3, limits=RoomLimits(clue_interval_seconds=0, max_clues_per_round=2))
    room.start("h0", T0, random.Random(1), BANK)
    room.post_clue("h1", "one", T0, RNG)
    room.post_clue("h1", "two", T0, RNG)
    with pytest.raises(RateLimited):
        room.post_clue("h1", "three", T0, RNG)


def test_actions_in_the_wrong_phase_conflict() -> None:
    """Votes during discussion, clues during voting, and ready in the lobby are refused with 409."""
    room, _ = make_room(3)
    with pytest.raises(Conflict):
        room.mark_ready("h1", T0, RNG)
    room.start("h0", T0, random.Random(1), BANK)
    with pytest.raises(Conflict) as err:
        room.vote("h1", "h2", T0, RNG)
    assert err.value.code == "wrong_phase"
    room.advance("h0", T0, random.Random(1))
    with pytest.raises(Conflict):
        room.post_clue("h1", "late", T0, RNG)


def test_discussion_ends_when_all_alive_humans_posted_and_ready() -> None:
    """The last human's ready (after everyone posted) moves to voting at once."""
    room, _ids, rng = started(3, bots=1)
    now = T0 + 301
    for pid in ("h0", "h1"):
        room.post_clue(pid, "hmm", now, rng)
        assert room.mark_ready(pid, now, rng)[-1].type == "player_ready"
    room.mark_ready("h2", now, rng)
    assert room.phase == "discussion", "ready without a clue does not end the phase"
    events = room.post_clue("h2", "hmm", now, rng)
    assert types(events) == ["clue_posted", "phase_changed"]
    assert events[-1].data["phase"] == "voting"
    assert events[-1].data["deadline"] == now + room.settings.voting_seconds


def test_discussion_ends_at_deadline_and_ready_is_idempotent() -> None:
    """tick() after the deadline moves to voting; a second ready produces nothing."""
    room, _, rng = started(3)
    room.post_clue("h1", "hmm", T0 + 301, rng)
    room.mark_ready("h1", T0 + 301, rng)
    assert room.mark_ready("h1", T0 + 302, rng) == []
    assert room.tick(T0 + 300 + 89, rng) == []
    events = room.tick(T0 + 300 + 90, rng)
    assert types(events) == ["phase_changed"] and room.phase == "voting"


def test_host_advances_discussion_and_voting() -> None:
    """The host can end discussion and voting early; others cannot."""
    room, _, rng = started(4)
    with pytest.raises(Forbidden):
        room.advance("h1", T0, rng)
    assert room.advance("h0", T0, rng)[-1].data["phase"] == "voting"
    events = room.advance("h0", T0, rng)
    assert types(events)[0] == "vote_tied"  # nobody voted: a tie of zero votes eliminates nobody
    assert room.phase == "discussion" and room.round == 2


def test_an_advance_for_a_phase_already_over_changes_nothing() -> None:
    """The host's "End discussion" that lands after everyone got ready (voting already began) is refused: it
    must not count the votes nobody has cast yet. The same for a round that is over."""
    room, _, rng = started(4)
    room.advance("h0", T0, rng, phase=Phase.DISCUSSION, round_=1)
    assert room.phase == "voting"
    with pytest.raises(Conflict) as stale:
        room.advance("h0", T0, rng, phase=Phase.DISCUSSION, round_=1)
    assert stale.value.code == "wrong_phase" and room.phase == "voting" and not room.votes
    room.advance("h0", T0, rng, phase=Phase.VOTING, round_=1)  # counts the votes: a tie, round 2
    assert room.phase == "discussion" and room.round == 2
    with pytest.raises(Conflict):
        room.advance("h0", T0, rng, phase=Phase.DISCUSSION, round_=1)
    assert room.phase == "discussion" and room.round == 2


# ---- voting --------------------------------------------------------------------------------------------------


def to_voting(humans: int = 4, seed: int = 1) -> tuple[Room, random.Random]:
    room, _, rng = started(humans, seed=seed)
    room.advance("h0", T0 + 301, rng)
    return room, rng


def test_vote_rules_and_changes() -> None:
    """Vote another alive player; voting for yourself or a stranger is refused; changing is allowed."""
    room, rng = to_voting()
    with pytest.raises(Invalid):
        room.vote("h1", "h1", T0, rng)
    with pytest.raises(Invalid):
        room.vote("h1", "nobody", T0, rng)
    first = room.vote("h1", "h2", T0, rng)
    assert first[0].data == {"player_id": "h1", "round": 1, "changed": False}
    assert "target" not in str(first[0].data) and "h2" not in first[0].data.values()
    assert room.vote("h1", "h2", T0, rng) == []
    assert room.vote("h1", "h3", T0, rng)[0].data["changed"] is True


def test_most_votes_is_eliminated_and_role_revealed() -> None:
    """When all alive voted, the player with most votes is out and their role is public."""
    room, rng = to_voting(5)
    uc = undercovers(room)[0]
    civ = [c for c in civilians(room)]
    target = civ[0]
    voters = [p for p in room.players if p != target]
    events = []
    for v in voters:
        events += room.vote(v, target, T0, rng)
    events += room.vote(target, voters[0], T0, rng)
    elim = next(e for e in events if e.type == "player_eliminated")
    assert elim.data["player_id"] == target and elim.data["role"] == "civilian"
    assert not room.players[target].alive
    snap = room.snapshot(uc)
    revealed = {p["id"]: p.get("role") for p in snap["players"]}
    assert revealed[target] == "civilian" and "role" not in [k for p in snap["players"] if p["id"] == uc for k in p]
    assert room.phase == "discussion" and room.round == 2


def test_tie_eliminates_nobody() -> None:
    """Two players with equal top votes: vote_tied, everyone survives."""
    room, rng = to_voting(4)
    room.vote("h0", "h1", T0, rng)
    room.vote("h1", "h0", T0, rng)
    room.vote("h2", "h0", T0, rng)
    events = room.vote("h3", "h1", T0, rng)
    tied = next(e for e in events if e.type == "vote_tied")
    assert tied.data["candidates"] == ["h0", "h1"]
    assert all(p.alive for p in room.players.values())


def test_voting_deadline_resolves() -> None:
    """At the voting deadline, the votes cast so far decide."""
    room, rng = to_voting(4)
    target = civilians(room)[0]
    room.vote("h0" if target != "h0" else "h1", target, T0 + 301, rng)
    events = room.tick(T0 + 301 + room.settings.voting_seconds, rng)
    assert types(events)[0] == "player_eliminated"


def test_dead_players_cannot_act() -> None:
    """An eliminated player can neither post clues nor vote."""
    room, rng = to_voting(5)
    target = civilians(room)[0]
    for v in room.players:
        if v != target:
            room.vote(v, target, T0, rng)
    room.vote(target, next(p for p in room.players if p != target), T0, rng)
    with pytest.raises(Forbidden):
        room.post_clue(target, "ghost", T0 + 10, rng)


# ---- winning -------------------------------------------------------------------------------------------------


def eliminate(room: Room, target: str, rng: random.Random) -> list:
    events = []
    alive = [p.id for p in room.alive()]
    if room.phase == "discussion":
        events += room.advance("h0" if room.host_id == "h0" else room.host_id, T0, rng)
    for v in alive:
        if v != target:
            events += room.vote(v, target, T0, rng)
    if room.phase == "voting":
        events += room.vote(target, next(a for a in alive if a != target), T0, rng)
    return events


def test_civilians_win_when_no_undercover_alive() -> None:
    """Voting out the only undercover ends the game for the civilians, revealing roles and words."""
    room, _, rng = started(4)
    events = eliminate(room, undercovers(room)[0], rng)
    over = events[-1]
    assert over.type == "game_over" and over.data["winner"] == "civilians"
    assert over.data["words"] == {"civilian": room.civilian_word, "undercover": room.undercover_word}
    assert set(over.data["roles"]) == set(room.players)
    assert types(events)[-2] == "phase_changed" and events[-2].data["phase"] == "finished"


def test_undercover_wins_at_parity() -> None:
    """With 3 players, voting out a civilian leaves 1 undercover vs 1 civilian: the undercover wins."""
    room, _, rng = started(3)
    events = eliminate(room, civilians(room)[0], rng)
    assert events[-1].type == "game_over" and events[-1].data["winner"] == "undercover"
    snap = room.snapshot("h1")
    assert snap["game_over"]["winner"] == "undercover"
    assert all("role" in p for p in snap["players"])


def test_host_can_start_a_new_game_and_spectators_get_seats() -> None:
    """A mid-game joiner watches as spectator, then plays in the next game in the same room."""
    room, _, rng = started(3)
    room.join("late", "Late", "t", T0)
    assert room.players["late"].spectator and not room.players["late"].alive
    with pytest.raises(Forbidden):
        room.post_clue("late", "hi there", T0, rng)
    eliminate(room, undercovers(room)[0], rng)
    assert room.phase == "finished"
    events = room.start("h0", T0 + 1000, rng, BANK)
    assert events[0].data["game"] == 2
    assert room.players["late"].alive and not room.players["late"].spectator
    assert room.round == 1


def test_leaving_mid_game_can_end_it() -> None:
    """The undercover leaving mid-game hands the civilians the win."""
    room, _, _rng = started(4)
    uc = undercovers(room)[0]
    events = room.remove_player(uc, uc, T0, RNG)
    assert events[-1].type == "game_over" and events[-1].data["winner"] == "civilians"
    assert uc in events[-1].data["roles"]


# ---- bots and timers -----------------------------------------------------------------------------------------


def test_bots_post_a_hint_then_vote() -> None:
    """Bots act by themselves within each phase: a clue from their word's hints, then a vote."""
    room, _ids, rng = started(3, bots=2, seed=7)
    now = room.next_wakeup()
    assert now is not None and now <= T0 + 300 + room.limits.bot_max_delay_seconds
    events = room.tick(T0 + 300 + room.limits.bot_max_delay_seconds, rng)
    clues = [e for e in events if e.type == "clue_posted"]
    assert {c.data["player_id"] for c in clues} == {"b0", "b1"}
    for c in clues:
        word = room.players[c.data["player_id"]].word
        assert c.data["text"] in BANK.hints_for(word)
    room.advance("h0", T0 + 310, rng)
    events = room.tick(T0 + 310 + room.limits.bot_max_delay_seconds, rng)
    assert {e.data["player_id"] for e in events if e.type == "vote_cast"} == {"b0", "b1"}


def play_bots_to_the_end(seed: int, bots: int) -> Room:
    """A game of a silent human host and `bots` bots on the bundled English pack, ticked until it ends."""
    room, _ = make_room(1, bots)
    rng = random.Random(seed)
    room.start("h0", T0 + 300, rng, PackLibrary.default())
    for _ in range(5000):
        when = room.next_wakeup()
        if room.phase == Phase.FINISHED or when is None:
            break
        room.tick(when, rng)
    return room


@pytest.mark.parametrize("seed", range(12))
def test_civilian_bots_never_repeat_their_own_clue_while_fresh_ones_remain(seed: int) -> None:
    """Round after round a civilian bot gives a clue it has not given: a hint nobody said, then two hints
    together; it repeats itself, or echoes another player word for word, only once every hint and pair was said."""
    room = play_bots_to_the_end(seed, bots=7)
    assert room.phase == Phase.FINISHED
    for index, clue in enumerate(room.clues):
        bot = room.players[clue["player_id"]]
        if not bot.is_bot or bot.role != "civilian":
            continue
        before = room.clues[:index]
        said = {c["text"] for c in before}
        hints = room.hints[bot.word]
        fresh = [h for h in hints if h not in said]
        fresh += [f"{a}, {b}" for i, a in enumerate(hints) for b in hints[i + 1 :] if f"{a}, {b}" not in said]
        if clue["text"] in said:
            assert not fresh, (clue, fresh)
        else:
            assert clue["text"] in hints or clue["text"].split(", ", 1)[1] in hints, clue


def test_every_phase_event_carries_deadline() -> None:
    """phase_changed always has phase, round and deadline (None only when finished)."""
    room, _, rng = started(3)
    events = eliminate(room, undercovers(room)[0], rng)
    for e in [e for e in events if e.type == "phase_changed"]:
        assert {"phase", "round", "deadline"} <= set(e.data)
        assert (e.data["deadline"] is None) == (e.data["phase"] == "finished")


def test_presence_changes_only_on_transition() -> None:
    """presence_changed is emitted when a player's online flag flips, not on repeats."""
    room, _ = make_room(3)
    assert room.set_presence("h1", True, T0) == []
    assert types(room.set_presence("h1", False, T0)) == ["presence_changed"]


def test_unknown_player_is_not_found() -> None:
    """Commands naming a player outside the room raise NotFound."""
    room, _ = make_room(3)
    with pytest.raises(NotFound):
        room.remove_player("h0", "ghost", T0, RNG)


def test_room_round_trips_through_dict() -> None:
    """A room survives serialisation (the Redis store keeps rooms as JSON)."""
    room, _, _ = started(4, bots=1)
    again = Room.from_dict(room.to_dict())
    assert again.to_dict() == room.to_dict()
    assert again.snapshot("h1") == room.snapshot("h1")


def test_a_room_serialised_with_answers_inside_still_loads() -> None:
    """Rooms written before idempotency answers moved beside the room carry an `answers` field: they load, and
    the field is not written back (the room's JSON no longer grows with its moves)."""
    room, _, _ = started(4, bots=1)
    old = {**room.to_dict(), "answers": {"h0:clue:k": {"last_event_id": 7}}}
    again = Room.from_dict(old)
    assert again.to_dict() == room.to_dict() and "answers" not in again.to_dict()


def test_presence_belongs_to_the_newest_session() -> None:
    """A socket closing after its player reconnected elsewhere does not take them offline."""
    room, _ = make_room(3)
    room.set_presence("h1", True, T0, session="old")
    room.set_presence("h1", True, T0, session="new")
    assert room.set_presence("h1", False, T0, session="old") == []
    assert room.players["h1"].online
    assert types(room.set_presence("h1", False, T0, session="new")) == ["presence_changed"]

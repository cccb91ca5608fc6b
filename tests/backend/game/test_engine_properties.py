"""Property tests: random command sequences never break the engine's invariants."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from backend.core.errors import ParlorError
from backend.game.engine import LEGAL_TRANSITIONS, MR_WHITE, TIE_RULES, VOTE_REVEALS, Room, RoomLimits
from backend.game.events import Event
from tests.backend.game.helpers import BANK, T0

COMMANDS = (
    "join", "bot", "leave", "kick", "settings", "rules", "start", "clue", "ready", "vote", "advance", "tick",
    "presence", "guess",
)  # fmt: skip
LEGAL_ORDER = ("lobby", "discussion", "voting", "guess", "finished")
CLUES = ("warm", "round", "morning", "daily", "brown", "fresh")
GUESSES = ("latte", "Coffee", "TEA", "chai")

command = st.tuples(st.sampled_from(COMMANDS), st.integers(0, 15), st.integers(0, 15), st.floats(0, 120))


def visible(event: Event, player_id: str) -> bool:
    return event.to is None or event.to == player_id


def check_privacy(room: Room, delivered: list[tuple[int, Event]], guesses: list[str]) -> None:
    """No event or snapshot a player receives carries a word that is not theirs (Mr. White has none), an
    unrevealed role, a guess before its `guess_made`, or (under counts-only) who voted for whom."""
    if room.civilian_word is None:
        return
    starts = [n for n, (_, e) in enumerate(delivered) if e.type == "game_started"]
    current = delivered[starts[-1] :] if starts else delivered  # words of earlier games are no secret now
    revealed = {e.data["guess"] for _, e in delivered if e.type == "guess_made"}
    for guess in set(guesses) - revealed:  # a guess the engine refused or that is not yet made leaks nowhere
        for _, event in current:
            assert f'"{guess}"' not in json.dumps(event.data), event
    for _, event in current:
        if room.settings.vote_reveal == "counts" and event.type in ("player_eliminated", "vote_tied"):
            assert event.data["ballots"] is None
        assert "target_id" not in event.data
    if room.phase == "finished":
        return
    for pid, player in room.players.items():
        if not player.seated:
            continue
        secret = {room.civilian_word, room.undercover_word} - {player.word}
        for other in secret:
            assert other is not None
            for _, event in current:
                if visible(event, pid) and event.type not in ("game_over", "guess_made"):
                    assert other not in json.dumps(event.data), (pid, event)
            blob = json.dumps(room.snapshot(pid))
            assert f'"{other}"' not in blob
        snap = room.snapshot(pid)
        for entry in snap["players"]:
            if "role" in entry:
                seat = room.players[entry["id"]]
                assert seat.seated and not seat.alive, "a role is shown only once its holder is out"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=1, max_size=80), st.integers(0, 2**16), st.integers(2, 9), st.integers(0, 3))
def test_random_sequences_keep_invariants(
    commands: list[tuple[str, int, int, float]], seed: int, humans: int, bots: int
) -> None:
    """Ids strictly increase, phases follow legal transitions, one word per seated player, nothing leaks."""
    rng = random.Random(seed)
    limits = RoomLimits(clue_interval_seconds=0.5, bot_min_delay_seconds=0.5, bot_max_delay_seconds=2)
    room, first = Room.create("ABCDE", host_id="p0", host_name="P0", token_hash="t", now=T0, limits=limits)
    now = T0
    seq = 0
    log: list[tuple[int, Event]] = []
    phase = room.phase
    counter = 1
    guesses: list[str] = []

    def commit(events: list[Event]) -> None:
        nonlocal seq, phase
        for event in events:
            seq += 1
            log.append((seq, event))
            if event.type == "phase_changed":
                new = event.data["phase"]
                assert new in LEGAL_TRANSITIONS[phase], f"{phase} -> {new}"
                phase = new

    commit(first)
    setup = [("join", 0, 0, 0.0)] * humans + [("bot", 0, 0, 0.0)] * bots + [("rules", 1, seed % 2, 0.0)]
    setup += [("start", 0, 0, 0.0)]
    for kind, a, b, dt in setup + commands:
        now += dt / 10
        ids = list(room.players)
        pa = ids[a % len(ids)] if ids else "nobody"
        pb = ids[b % len(ids)] if ids else "nobody"
        host = room.host_id or "nobody"
        try:
            if kind == "join":
                commit(room.join(f"p{counter}", f"Player {counter}", "t", now))
                counter += 1
            elif kind == "bot":
                commit(room.add_bot(host, f"b{counter}", now))
                counter += 1
            elif kind == "leave":
                commit(room.remove_player(pa, pa, now, rng))
            elif kind == "kick":
                commit(room.remove_player(host, pb, now, rng))
            elif kind == "settings":
                commit(room.update_settings(host, {"discussion_seconds": 10 + a, "voting_seconds": 5 + b}, now))
            elif kind == "rules":
                rules = {
                    "mr_white": bool(a % 2),
                    "tie_rule": TIE_RULES[b % 2],
                    "vote_reveal": VOTE_REVEALS[a % 2],
                    "grace_seconds": 2 + b,
                }
                commit(room.update_settings(host, rules, now))
            elif kind == "start":
                commit(room.start(host, now, rng, BANK))
            elif kind == "clue":
                commit(room.post_clue(pa, CLUES[b % len(CLUES)], now, rng))
            elif kind == "ready":
                commit(room.mark_ready(pa, now, rng))
            elif kind == "vote":
                commit(room.vote(pa, pb, now, rng))
            elif kind == "advance":
                commit(room.advance(host if a % 3 else pa, now, rng))
            elif kind == "tick":
                now += dt
                commit(room.tick(now, rng))
            elif kind == "presence":
                commit(room.set_presence(pa, bool(b % 2), now))
            elif kind == "guess":
                guess = GUESSES[b % len(GUESSES)] + str(a)
                guesses.append(guess)
                commit(room.guess(room.guesser_id if b % 2 and room.guesser_id else pa, guess, now, rng))
        except ParlorError:
            pass
        assert room.phase == phase
        if not room.players:
            break
        if room.in_game:
            for p in room.players.values():
                if p.seated:
                    assert p.word in (room.civilian_word, room.undercover_word, None)
                    assert (p.word == room.undercover_word) == (p.role == "undercover")
                    assert (p.word is None) == (p.role == MR_WHITE)
                else:
                    assert p.word is None and not p.alive
        check_privacy(room, log, guesses)
    note_event(
        f"reached {max((LEGAL_ORDER.index(e.data['phase']) for _, e in log if e.type == 'phase_changed'), default=0)}"
    )
    note_event(f"guess phase: {any(e.type == 'guess_made' for _, e in log)}")
    note_event(f"stand-in: {any(e.type == 'stand_in_started' for _, e in log)}")
    ids_seen = [i for i, _ in log]
    assert ids_seen == sorted(set(ids_seen))

"""The Undercover rules: a pure, synchronous state machine.

No I/O, no clock reads, no asyncio: every command takes the caller's `now` (epoch seconds) and, where chance
may be involved, a `random.Random` (required: the engine never makes its own); it validates first, then
mutates and returns the events it produced, or raises a `backend.core.errors.ParlorError` and leaves the
room untouched. The store assigns event ids.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound, ParlorError, RateLimited
from backend.game.events import Event
from backend.game.text import clean_name, clean_text, contains_word, looks_alike
from backend.game.vocabulary import (
    CLUE_MAX,
    MAX_PLAYERS,
    MIN_PLAYERS,
    NAME_MAX,
    Clue,
    EventType,
    GameLimits,
    Phase,
    PlayerView,
    Range,
    Role,
    RoomSummary,
    SettingsView,
    Snapshot,
    Winner,
    YouView,
)
from backend.game.words import WordBank

LEGAL_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.LOBBY: frozenset({Phase.DISCUSSION}),
    Phase.DISCUSSION: frozenset({Phase.VOTING, Phase.FINISHED}),
    Phase.VOTING: frozenset({Phase.DISCUSSION, Phase.FINISHED}),
    Phase.FINISHED: frozenset({Phase.DISCUSSION}),
}
BOT_NAMES = (
    "Ada", "Turing", "Hopper", "Lovelace", "Knuth", "Dijkstra", "Liskov", "Ritchie", "Hamilton", "Shannon",
    "Noether", "Curie", "Euler", "Gauss",
)  # fmt: skip


@dataclass
class RoomSettings:
    discussion_seconds: int = 90
    voting_seconds: int = 30
    undercover_count: int | None = None  # None: 1 for up to 6 players, 2 for 7-12

    LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "discussion_seconds": (10, 600),
        "voting_seconds": (5, 300),
        "undercover_count": (1, 2),
    }

    def view(self) -> SettingsView:
        return SettingsView(
            discussion_seconds=self.discussion_seconds,
            voting_seconds=self.voting_seconds,
            undercover_count=self.undercover_count,
        )


def game_limits() -> GameLimits:
    """The rules' bounds as clients see them (the snapshot's `limits`), from the one place each is defined."""

    def span(key: str) -> Range:
        low, high = RoomSettings.LIMITS[key]
        return Range(min=low, max=high)

    return GameLimits(
        min_players=MIN_PLAYERS,
        max_players=MAX_PLAYERS,
        name_max=NAME_MAX,
        clue_max=CLUE_MAX,
        discussion_seconds=span("discussion_seconds"),
        voting_seconds=span("voting_seconds"),
        undercover_count=span("undercover_count"),
    )


@dataclass
class RoomLimits:
    """Server-side limits copied into each room so a room behaves the same on every process."""

    clue_interval_seconds: float = 2.0
    max_clues_per_round: int = 10
    bot_min_delay_seconds: float = 1.0
    bot_max_delay_seconds: float = 4.0


@dataclass
class Player:
    id: str
    name: str
    is_bot: bool
    token_hash: str
    joined_at: float
    online: bool = False
    spectator: bool = False
    alive: bool = False
    seated: bool = False
    role: Role | None = None
    word: str | None = None
    ready: bool = False
    clues_this_round: int = 0
    last_clue_at: float | None = None
    bot_action_at: float | None = None
    bot_hints_used: int = 0
    presence_session: str | None = None  # the connection that last brought this player online
    address_hash: str = ""  # the client address it joined from, hashed (a kick bans it from the room)

    def public(self, *, reveal_role: bool, host_id: str | None, voted: bool) -> PlayerView:
        view: PlayerView = {
            "id": self.id,
            "name": self.name,
            "is_bot": self.is_bot,
            "is_host": self.id == host_id,
            "online": self.online,
            "spectator": self.spectator,
            "alive": self.alive,
            "ready": self.ready,
            "clues_this_round": self.clues_this_round,
            "has_voted": voted,
        }
        if reveal_role:
            view["role"] = self.role
        return view


def _opt(kind: type[Any], value: object) -> Any:
    return None if value is None else kind(value)


@dataclass
class Room:
    code: str
    created_at: float
    limits: RoomLimits = field(default_factory=RoomLimits)
    settings: RoomSettings = field(default_factory=RoomSettings)
    players: dict[str, Player] = field(default_factory=dict)
    host_id: str | None = None
    phase: Phase = Phase.LOBBY
    round: int = 0
    game: int = 0
    deadline: float | None = None
    phase_started_at: float | None = None
    civilian_word: str | None = None
    undercover_word: str | None = None
    clues: list[Clue] = field(default_factory=list)
    votes: dict[str, str] = field(default_factory=dict)
    roster: dict[str, dict[str, Any]] = field(default_factory=dict)
    hints: dict[str, list[str]] = field(default_factory=dict)  # the pair's bot hints, kept with the room
    winner: Winner | None = None
    last_activity: float = 0.0
    event_seq: int = 0
    # Names this room's history: changed whenever the log may have been lost or rewritten (a store restored
    # from an older copy), so a client holding ids from another history resyncs from a snapshot.
    epoch: str = ""
    banned_names: list[str] = field(default_factory=list)
    banned_addresses: list[str] = field(default_factory=list)
    # Idempotency-Key -> the first answer, for the room's most recent moves (bounded: the state is rewritten
    # on every commit). Keys are per player: "<player id>:<key>".
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    # ---- lifecycle -------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        code: str,
        *,
        host_id: str,
        host_name: str,
        token_hash: str,
        now: float,
        limits: RoomLimits | None = None,
        epoch: str = "",
        address_hash: str = "",
    ) -> tuple[Room, list[Event]]:
        room = cls(code=code, created_at=now, limits=limits or RoomLimits(), last_activity=now, epoch=epoch)
        events = room.join(host_id, host_name, token_hash, now, address_hash=address_hash)
        return room, events

    def remember_answer(self, key: str, answer: dict[str, Any], keep: int = 256) -> None:
        self.answers[key] = answer
        while len(self.answers) > keep:
            del self.answers[next(iter(self.answers))]

    def rekey(self, epoch: str, expected: str | None = None) -> list[Event]:
        """Start a new history (the store found its log rewritten); `expected` guards against a second rekey."""
        if expected is None or self.epoch == expected:
            self.epoch = epoch
        return []

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["players"] = [asdict(p) for p in self.players.values()]
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Room:
        data = dict(raw)
        data["limits"] = RoomLimits(**data["limits"])
        data["settings"] = RoomSettings(**data["settings"])
        data["players"] = {p["id"]: Player(**{**p, "role": _opt(Role, p["role"])}) for p in data["players"]}
        data["phase"] = Phase(data["phase"])
        data["winner"] = _opt(Winner, data["winner"])
        return cls(**data)

    # ---- queries ---------------------------------------------------------------------------------------

    @property
    def in_game(self) -> bool:
        return self.phase in (Phase.DISCUSSION, Phase.VOTING)

    def humans(self) -> list[Player]:
        return [p for p in self.players.values() if not p.is_bot]

    def alive(self) -> list[Player]:
        return [p for p in self.players.values() if p.alive]

    def player(self, player_id: str) -> Player:
        try:
            return self.players[player_id]
        except KeyError:
            raise NotFound("no such player in this room", "unknown_player") from None

    def joinable(self) -> bool:
        return len(self.players) < MAX_PLAYERS

    def summary(self) -> RoomSummary:
        return {
            "room_code": self.code,
            "phase": self.phase,
            "round": self.round,
            "player_count": len(self.players),
            "max_players": MAX_PLAYERS,
            "joinable": self.joinable(),
            "host_name": self.players[self.host_id].name if self.host_id in self.players else None,
        }

    def next_wakeup(self) -> float | None:
        """The earliest time `tick` has something to do: a phase deadline or a bot's planned move."""
        if not self.in_game:
            return None
        times = [p.bot_action_at for p in self.players.values() if p.bot_action_at is not None]
        if self.deadline is not None:
            times.append(self.deadline)
        return min(times) if times else None

    def snapshot(self, viewer_id: str) -> Snapshot:
        """Everything one player may know now; never another player's word or unrevealed role."""
        finished = self.phase == Phase.FINISHED
        viewer = self.players.get(viewer_id)
        players = [
            p.public(reveal_role=finished or (p.seated and not p.alive), host_id=self.host_id, voted=p.id in self.votes)
            for p in self.players.values()
        ]
        you: YouView = {"player_id": viewer_id}
        if viewer is not None:
            you.update(
                {
                    "name": viewer.name,
                    "word": viewer.word if viewer.seated else None,
                    "spectator": viewer.spectator,
                    "alive": viewer.alive,
                    "ready": viewer.ready,
                    "voted_for": self.votes.get(viewer_id),
                    "is_host": viewer_id == self.host_id,
                }
            )
        return {
            "room_code": self.code,
            "phase": self.phase,
            "round": self.round,
            "game": self.game,
            "deadline": self.deadline,
            "host_id": self.host_id,
            "settings": self.settings.view(),
            "limits": game_limits(),
            "players": players,
            "clues": list(self.clues),
            "votes_cast": sorted(self.votes),
            "you": you,
            "game_over": self._game_over_data() if finished else None,
            "last_event_id": self.event_seq,
            "epoch": self.epoch,
        }

    # ---- lobby -----------------------------------------------------------------------------------------

    def join(
        self, player_id: str, name: str, token_hash: str, now: float, *, is_bot: bool = False, address_hash: str = ""
    ) -> list[Event]:
        name = clean_name(name, max_len=NAME_MAX)
        if any(looks_alike(name, banned) for banned in self.banned_names) or (
            address_hash and address_hash in self.banned_addresses
        ):
            raise Forbidden("the host removed you from this room", "banned")
        if not self.joinable():
            raise Conflict(f"the room is full ({MAX_PLAYERS} players)", "room_full")
        if any(looks_alike(p.name, name) for p in self.players.values()):
            raise Conflict(f"the name {name!r} is taken in this room", "name_taken")
        player = Player(
            id=player_id,
            name=name,
            is_bot=is_bot,
            token_hash=token_hash,
            address_hash=address_hash,
            joined_at=now,
            online=is_bot,
            spectator=self.in_game,
        )
        self.players[player_id] = player
        self.last_activity = now
        events = [Event(EventType.PLAYER_JOINED, {"player": self._public(player)})]
        if self.host_id is None and not is_bot:
            self.host_id = player_id
            events.append(Event(EventType.HOST_CHANGED, {"player_id": player_id}))
        return events

    def add_bot(self, actor_id: str, bot_id: str, now: float) -> list[Event]:
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("bots can only be added between games", "wrong_phase")
        taken = {p.name.casefold() for p in self.players.values()}
        name = next((f"Bot {n}" for n in BOT_NAMES if f"bot {n}".casefold() not in taken), None)
        if name is None:
            raise Conflict("no bot names left", "room_full")
        return self.join(bot_id, name, "", now, is_bot=True)

    def remove_player(self, actor_id: str, target_id: str, now: float, rng: random.Random) -> list[Event]:
        """A player leaves (actor == target) or the host removes someone (a bot or a human)."""
        self.player(actor_id)
        target = self.player(target_id)
        if actor_id != target_id:
            self._require_host(actor_id)
        reason = "left" if actor_id == target_id else "kicked"
        if reason == "kicked" and not target.is_bot:
            # banned for the rest of the room's life: by name (look-alikes too) and by address
            self.banned_names.append(target.name)
            if target.address_hash:
                self.banned_addresses.append(target.address_hash)
        del self.players[target_id]
        self.votes.pop(target_id, None)
        self.votes = {voter: t for voter, t in self.votes.items() if t != target_id}
        self.last_activity = now
        events = [Event(EventType.PLAYER_LEFT, {"player_id": target_id, "name": target.name, "reason": reason})]
        if self.host_id == target_id:
            self.host_id = self._next_host()
            if self.host_id is not None:
                events.append(Event(EventType.HOST_CHANGED, {"player_id": self.host_id}))
        if self.in_game and target.alive:
            events += self._after_roster_change(now, rng)
        return events

    def set_presence(
        self, player_id: str, online: bool, now: float, session: str | None = None, *, weak: bool = False
    ) -> list[Event]:
        """Online/offline; with sessions, only the session that brought a player online can take them offline,
        so a socket that closes after its player reconnected elsewhere (another process) changes nothing.

        A `weak` session (a poll) brings an offline player online but never takes the player over from the
        live session that holds them (a socket on any process): the socket owns presence while it lives."""
        player = self.players.get(player_id)
        if player is None:
            return []
        if online and weak and player.online and player.presence_session is not None:
            return []
        if online and session is not None:
            player.presence_session = session
        if not online and session is not None and player.presence_session not in (None, session):
            return []
        if player.online == online:
            return []
        player.online = online
        self.last_activity = now
        return [Event(EventType.PRESENCE_CHANGED, {"player_id": player_id, "online": online})]

    def update_settings(self, actor_id: str, changes: dict[str, int | None], now: float) -> list[Event]:
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("settings can only change between games", "wrong_phase")
        for key, value in changes.items():
            if key not in RoomSettings.LIMITS:
                raise Invalid(f"unknown setting {key!r}", "invalid_settings")
            low, high = RoomSettings.LIMITS[key]
            if value is None and key == "undercover_count":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise Invalid(f"{key} must be an integer from {low} to {high}", "invalid_settings")
        for key, value in changes.items():
            setattr(self.settings, key, value)
        self.last_activity = now
        return [Event(EventType.SETTINGS_CHANGED, {"settings": self.settings.view()})]

    def start(self, actor_id: str, now: float, rng: random.Random, words: WordBank) -> list[Event]:
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("a game is already running", "wrong_phase")
        seated = list(self.players.values())
        if len(seated) < MIN_PLAYERS:
            raise Conflict(f"at least {MIN_PLAYERS} players are needed to start", "not_enough_players")
        undercovers = self.settings.undercover_count or (1 if len(seated) <= 6 else 2)
        if undercovers == 2 and len(seated) < 7:
            raise Conflict("2 undercovers need at least 7 players", "invalid_settings")
        pair = words.pick(rng)
        undercover_ids = set(rng.sample([p.id for p in seated], undercovers))
        self.game += 1
        self.round = 0
        self.civilian_word, self.undercover_word = pair.civilian, pair.undercover
        self.hints = {w: list(pair.hints_for(w)) for w in (pair.civilian, pair.undercover)}
        self.clues, self.votes, self.winner, self.roster = [], {}, None, {}
        events: list[Event] = []
        for p in seated:
            p.seated, p.alive, p.spectator = True, True, False
            p.role = Role.UNDERCOVER if p.id in undercover_ids else Role.CIVILIAN
            p.word = pair.undercover if p.role == Role.UNDERCOVER else pair.civilian
            p.bot_hints_used = 0
            self.roster[p.id] = {"name": p.name, "role": p.role, "word": p.word, "is_bot": p.is_bot}
        events.append(
            Event(
                EventType.GAME_STARTED,
                {"game": self.game, "players": [p.id for p in seated], "undercover_count": undercovers},
            )
        )
        events += [
            Event(EventType.YOUR_WORD, {"word": p.word, "game": self.game}, to=p.id) for p in seated if not p.is_bot
        ]
        events += self._enter(Phase.DISCUSSION, now, rng, next_round=True)
        return events

    # ---- play ------------------------------------------------------------------------------------------

    def post_clue(self, actor_id: str, text: str, now: float, rng: random.Random) -> list[Event]:
        player = self._require_alive(actor_id, Phase.DISCUSSION)
        text = clean_text(text, field_name="clue", max_len=CLUE_MAX)
        assert player.word is not None
        if contains_word(text, player.word):
            raise Invalid("a clue must not contain your own word", "clue_contains_word")
        if player.clues_this_round >= self.limits.max_clues_per_round:
            raise RateLimited("you have posted the most clues allowed this round", "too_many_clues")
        if (
            not player.is_bot
            and player.last_clue_at is not None
            and now - player.last_clue_at < self.limits.clue_interval_seconds
        ):
            wait = self.limits.clue_interval_seconds - (now - player.last_clue_at)
            raise RateLimited(f"one clue per {self.limits.clue_interval_seconds:g} s; wait {wait:.1f} s")
        player.clues_this_round += 1
        player.last_clue_at = now
        clue = Clue(round=self.round, player_id=player.id, name=player.name, text=text, ts=now)
        self.clues.append(clue)
        self.last_activity = now
        events = [Event(EventType.CLUE_POSTED, dict(clue))]
        return events + self._maybe_end_discussion(now, rng)

    def mark_ready(self, actor_id: str, now: float, rng: random.Random) -> list[Event]:
        player = self._require_alive(actor_id, Phase.DISCUSSION)
        if player.ready:
            return []
        player.ready = True
        self.last_activity = now
        ready = Event(EventType.PLAYER_READY, {"player_id": player.id, "round": self.round})
        return [ready, *self._maybe_end_discussion(now, rng)]

    def vote(self, actor_id: str, target_id: str, now: float, rng: random.Random) -> list[Event]:
        voter = self._require_alive(actor_id, Phase.VOTING)
        target = self.players.get(target_id)
        if target is None or not target.alive:
            raise Invalid("you can only vote for a player still in the game", "invalid_vote")
        if target_id == voter.id:
            raise Invalid("you cannot vote for yourself", "invalid_vote")
        previous = self.votes.get(voter.id)
        if previous == target_id:
            return []
        self.votes[voter.id] = target_id
        self.last_activity = now
        events = [
            Event(EventType.VOTE_CAST, {"player_id": voter.id, "round": self.round, "changed": previous is not None})
        ]
        if all(p.id in self.votes for p in self.alive()):
            events += self._resolve_votes(now, rng)
        return events

    def advance(self, actor_id: str, now: float, rng: random.Random) -> list[Event]:
        self._require_host(actor_id)
        if self.phase == Phase.DISCUSSION:
            return self._enter(Phase.VOTING, now, rng)
        if self.phase == Phase.VOTING:
            return self._resolve_votes(now, rng)
        raise Conflict("there is no phase to advance", "wrong_phase")

    def tick(self, now: float, rng: random.Random) -> list[Event]:
        """Fire what is due: bot moves, then phase deadlines. Safe to call often; idempotent when idle."""
        events: list[Event] = []
        for _ in range(4 * MAX_PLAYERS + 4):  # each pass makes progress; the bound only guards a bug
            step = self._tick_once(now, rng)
            if not step:
                break
            events += step
        return events

    # ---- internals -------------------------------------------------------------------------------------

    def _tick_once(self, now: float, rng: random.Random) -> list[Event]:
        if not self.in_game:
            return []
        for bot in self.players.values():
            if bot.is_bot and bot.alive and bot.bot_action_at is not None and bot.bot_action_at <= now:
                bot.bot_action_at = None
                try:
                    return self._bot_move(bot, now, rng)
                except ParlorError:
                    continue  # a bot's move that the rules refuse is skipped, never fatal
        if self.deadline is not None and self.deadline <= now:
            if self.phase == Phase.DISCUSSION:
                return self._enter(Phase.VOTING, now, rng)
            return self._resolve_votes(now, rng)
        return []

    def _bot_move(self, bot: Player, now: float, rng: random.Random) -> list[Event]:
        if self.phase == Phase.DISCUSSION:
            assert bot.word is not None
            hints = [h for h in self._hints(bot.word) if bot.word.casefold() not in h.casefold()]
            text = hints[bot.bot_hints_used % len(hints)] if hints else "hmm, tricky"
            bot.bot_hints_used += 1
            return self.post_clue(bot.id, text, now, rng)
        candidates = [p.id for p in self.alive() if p.id != bot.id]
        if not candidates:
            return []
        return self.vote(bot.id, rng.choice(candidates), now, rng)

    def _hints(self, word: str) -> list[str]:
        return self.hints.get(word, [])

    def _enter(self, phase: Phase, now: float, rng: random.Random, *, next_round: bool = False) -> list[Event]:
        if phase not in LEGAL_TRANSITIONS[self.phase]:
            raise AssertionError(f"illegal transition {self.phase} -> {phase}")  # an engine bug, not user input
        self.phase = phase
        self.phase_started_at = now
        if next_round:
            self.round += 1
        seconds = self.settings.discussion_seconds if phase == Phase.DISCUSSION else self.settings.voting_seconds
        self.deadline = now + seconds
        for p in self.players.values():
            p.bot_action_at = None
            if phase == Phase.DISCUSSION:
                p.ready = False
                p.clues_this_round = 0
            if p.is_bot and p.alive:
                low, high = self.limits.bot_min_delay_seconds, self.limits.bot_max_delay_seconds
                p.bot_action_at = now + min(rng.uniform(low, max(low, high)), seconds * 0.8)
        if phase == Phase.DISCUSSION:
            self.votes = {}
        return [
            Event(
                EventType.PHASE_CHANGED,
                {"phase": phase, "round": self.round, "deadline": self.deadline, "started_at": now},
            )
        ]

    def _maybe_end_discussion(self, now: float, rng: random.Random) -> list[Event]:
        if self.phase != Phase.DISCUSSION:
            return []
        alive = self.alive()
        humans = [p for p in alive if not p.is_bot]
        waiting_on = humans or alive  # with no human left alive, the bots' clues end the phase
        if all(p.clues_this_round > 0 and (p.ready or p.is_bot) for p in waiting_on):
            return self._enter(Phase.VOTING, now, rng)
        return []

    def _resolve_votes(self, now: float, rng: random.Random) -> list[Event]:
        tally = Counter(self.votes.values())
        votes = dict(tally)
        top = max(tally.values(), default=0)
        leaders = sorted(pid for pid, n in tally.items() if n == top)
        events: list[Event] = []
        if top > 0 and len(leaders) == 1:
            out = self.players[leaders[0]]
            out.alive = False
            out.bot_action_at = None
            events.append(
                Event(
                    EventType.PLAYER_ELIMINATED,
                    {"player_id": out.id, "name": out.name, "role": out.role, "round": self.round, "votes": votes},
                )
            )
        else:
            events.append(Event(EventType.VOTE_TIED, {"round": self.round, "candidates": leaders, "votes": votes}))
        self.votes = {}
        winner = self._winner()
        if winner:
            return events + self._finish(winner, now)
        return events + self._enter(Phase.DISCUSSION, now, rng, next_round=True)

    def _after_roster_change(self, now: float, rng: random.Random) -> list[Event]:
        winner = self._winner()
        if winner:
            return self._finish(winner, now)
        if self.phase == Phase.DISCUSSION:
            return self._maybe_end_discussion(now, rng)
        if self.phase == Phase.VOTING and self.alive() and all(p.id in self.votes for p in self.alive()):
            return self._resolve_votes(now, rng)
        return []

    def _winner(self) -> Winner | None:
        alive = self.alive()
        undercover = sum(1 for p in alive if p.role == Role.UNDERCOVER)
        civilians = len(alive) - undercover
        if undercover == 0:
            return Winner.CIVILIANS
        if undercover >= civilians:
            return Winner.UNDERCOVER
        return None

    def _finish(self, winner: Winner, now: float) -> list[Event]:
        self.winner = winner
        self.phase = Phase.FINISHED
        self.deadline = None
        self.phase_started_at = now
        for p in self.players.values():
            p.bot_action_at = None
            p.ready = False
        return [
            Event(
                EventType.PHASE_CHANGED,
                {"phase": Phase.FINISHED, "round": self.round, "deadline": None, "started_at": now},
            ),
            Event(EventType.GAME_OVER, self._game_over_data()),
        ]

    def _game_over_data(self) -> dict[str, Any]:
        return {
            "winner": self.winner,
            "words": {"civilian": self.civilian_word, "undercover": self.undercover_word},
            "roles": {pid: info["role"] for pid, info in self.roster.items()},
            "players": [{"id": pid, **info} for pid, info in self.roster.items()],
            "game": self.game,
        }

    def _public(self, player: Player) -> PlayerView:
        return player.public(reveal_role=False, host_id=self.host_id, voted=False)

    def _next_host(self) -> str | None:
        humans = sorted(self.humans(), key=lambda p: (not p.online, p.joined_at))
        return humans[0].id if humans else None

    def _require_host(self, actor_id: str) -> Player:
        player = self.player(actor_id)
        if actor_id != self.host_id:
            raise Forbidden("only the host can do that", "not_host")
        return player

    def _require_alive(self, actor_id: str, phase: Phase) -> Player:
        player = self.player(actor_id)
        if self.phase != phase:
            raise Conflict(f"that is only possible during {phase} (now: {self.phase})", "wrong_phase")
        if not player.alive:
            raise Forbidden("only players still in the game can do that", "not_in_game")
        return player

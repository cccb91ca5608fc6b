"""The Undercover rules: a pure, synchronous state machine.

No I/O, no clock reads, no asyncio: every command takes the caller's `now` (epoch seconds) and, where chance
may be involved, a `random.Random` (required: the engine never makes its own); it validates first, then
mutates and returns the events it produced, or raises a `backend.core.errors.ParlorError` and leaves the
room untouched. The store assigns event ids. What a bot says and votes is `backend.game.bots`; when it acts,
and how its move is applied, is decided here.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound, ParlorError, RateLimited
from backend.game import bots
from backend.game.events import Event
from backend.game.text import clean_name, clean_text, contains_word, fold, looks_alike
from backend.game.vocabulary import (
    CLUE_MAX,
    GUESS_MAX,
    MAX_PLAYERS,
    MIN_PLAYERS,
    NAME_MAX,
    Clue,
    EventType,
    GameLimits,
    Language,
    Phase,
    PlayerView,
    Range,
    Role,
    RoomSummary,
    SettingsView,
    Snapshot,
    TieRule,
    VoteReveal,
    Winner,
    YouView,
)
from backend.game.words import (
    CUSTOM_PACK,
    LANGUAGES,
    CustomPackError,
    PackLibrary,
    WordBank,
    custom_bank,
    parse_custom_pack,
)

MIN_PLAYERS_MR_WHITE = 5
MR_WHITE = Role.MR_WHITE
MR_WHITE_DECOYS = 8  # other pack words a bot Mr. White weighs its guess against
TIE_RULES = tuple(TieRule)
VOTE_REVEALS = tuple(VoteReveal)
LEGAL_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.LOBBY: frozenset({Phase.DISCUSSION}),
    Phase.DISCUSSION: frozenset({Phase.VOTING, Phase.FINISHED}),
    # voting -> voting: a revote among the tied; voting -> guess: Mr. White was voted out
    Phase.VOTING: frozenset({Phase.DISCUSSION, Phase.VOTING, Phase.GUESS, Phase.FINISHED}),
    Phase.GUESS: frozenset({Phase.DISCUSSION, Phase.FINISHED}),
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
    mr_white: bool = False
    guess_seconds: int = 30
    tie_rule: TieRule = TieRule.NOBODY_OUT
    vote_reveal: VoteReveal = VoteReveal.NAMES
    grace_seconds: int = 60  # how long a dropped player's seat waits before a bot stands in
    language: str = "en"
    pack: str = "en-classic"
    custom_pack_size: int = 0  # read-only: set by pasting a pack, never by a settings change

    LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "discussion_seconds": (10, 600),
        "voting_seconds": (5, 300),
        "undercover_count": (1, 2),
        "guess_seconds": (10, 120),
        "grace_seconds": (2, 600),
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "tie_rule": TIE_RULES,
        "vote_reveal": VOTE_REVEALS,
        "language": LANGUAGES,
    }
    FLAGS: ClassVar[tuple[str, ...]] = ("mr_white",)
    ENUMS: ClassVar[dict[str, type[StrEnum]]] = {"tie_rule": TieRule, "vote_reveal": VoteReveal}

    def __setattr__(self, name: str, value: Any) -> None:
        # a stored room and a settings change carry plain strings: kept as the enum, as the fields are typed
        kind = self.ENUMS.get(name)
        super().__setattr__(name, kind(value) if kind is not None else value)

    def view(self) -> SettingsView:
        return SettingsView(
            discussion_seconds=self.discussion_seconds,
            voting_seconds=self.voting_seconds,
            undercover_count=self.undercover_count,
            mr_white=self.mr_white,
            guess_seconds=self.guess_seconds,
            tie_rule=self.tie_rule,
            vote_reveal=self.vote_reveal,
            grace_seconds=self.grace_seconds,
            language=Language(self.language),
            pack=self.pack,
            custom_pack_size=self.custom_pack_size,
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
        guess_max=GUESS_MAX,
        discussion_seconds=span("discussion_seconds"),
        voting_seconds=span("voting_seconds"),
        undercover_count=span("undercover_count"),
        guess_seconds=span("guess_seconds"),
        grace_seconds=span("grace_seconds"),
        min_players_mr_white=MIN_PLAYERS_MR_WHITE,
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
    dropped_at: float | None = None  # when a seated human lost their last connection mid-game
    stand_in: bool = False  # a bot plays this human's seat until they are back

    @property
    def automated(self) -> bool:
        """Moves are made by the engine: a bot, or a bot standing in for a dropped human."""
        return self.is_bot or self.stand_in

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
            "stand_in": self.stand_in,
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
    decoys: dict[str, list[str]] = field(default_factory=dict)  # other words a bot Mr. White weighs
    custom_pack: list[list[str]] = field(default_factory=list)  # the table's own pairs; never in a snapshot
    revote_candidates: list[str] = field(default_factory=list)
    guesser_id: str | None = None
    votes_log: list[dict[str, Any]] = field(default_factory=list)  # every count, for the story at game over
    guesses: list[dict[str, Any]] = field(default_factory=list)
    eliminations: list[dict[str, Any]] = field(default_factory=list)
    winner: Winner | None = None
    winners: list[str] = field(default_factory=list)
    last_activity: float = 0.0
    event_seq: int = 0
    # The chain behind each event's `prev` (see backend.store.number_events): the last public event id (None in
    # a room written before it was kept: unknown until the next public event) and, per player, their own last
    # private event id while it is newer than that.
    last_public_id: int | None = None
    last_private_ids: dict[str, int] = field(default_factory=dict)
    # Names this room's history: changed whenever the log may have been lost or rewritten (a store restored
    # from an older copy), so a client holding ids from another history resyncs from a snapshot.
    epoch: str = ""
    banned_names: list[str] = field(default_factory=list)
    banned_addresses: list[str] = field(default_factory=list)

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
        language: str | None = None,
        packs: Mapping[str, str] | None = None,
    ) -> tuple[Room, list[Event]]:
        """A lobby with its host; `language` (with `packs`, as `update_settings` takes them) sets the room's
        language and that language's pack from the start, with no settings event: nothing was changed."""
        room = cls(
            code=code, created_at=now, limits=limits or RoomLimits(), last_activity=now, epoch=epoch, last_public_id=0
        )
        events = room.join(host_id, host_name, token_hash, now, address_hash=address_hash)
        if language is not None:
            room.update_settings(host_id, {"language": language}, now, packs)
        return room, events

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
        # idempotency answers once lived here; they are kept beside the room now (see backend.store), and a
        # room written by that older version must still load
        data.pop("answers", None)
        data["limits"] = RoomLimits(**data["limits"])
        data["settings"] = RoomSettings(**data["settings"])
        data["players"] = {p["id"]: Player(**{**p, "role": _opt(Role, p["role"])}) for p in data["players"]}
        data["phase"] = Phase(data["phase"])
        data["winner"] = _opt(Winner, data["winner"])
        return cls(**data)

    # ---- queries ---------------------------------------------------------------------------------------

    @property
    def in_game(self) -> bool:
        return self.phase in (Phase.DISCUSSION, Phase.VOTING, Phase.GUESS)

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
        times += [due for p in self.players.values() if (due := self._stand_in_due(p)) is not None]
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
                    "mr_white": viewer.seated and viewer.role == MR_WHITE,
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
            "revote_candidates": list(self.revote_candidates),
            "guesser_id": self.guesser_id,
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
            self.eliminations.append(
                {
                    "player_id": target.id,
                    "name": target.name,
                    "role": target.role,
                    "word": target.word,
                    "round": self.round,
                    "how": "left",
                }
            )
            events += self._after_roster_change(now, rng)
        if self.phase == Phase.GUESS and target_id == self.guesser_id:
            events += self._end_guess(None, now, rng)
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
        events = [Event(EventType.PRESENCE_CHANGED, {"player_id": player_id, "online": online})]
        if online:
            player.dropped_at = None
            if player.stand_in:
                player.stand_in = False
                player.bot_action_at = None
                events.append(Event(EventType.STAND_IN_ENDED, {"player_id": player.id, "name": player.name}))
        elif self.in_game and player.seated and not player.is_bot:
            player.dropped_at = now
        return events

    def update_settings(
        self, actor_id: str, changes: Mapping[str, Any], now: float, packs: Mapping[str, str] | None = None
    ) -> list[Event]:
        """Change lobby settings; `packs` (pack id -> language) lets the host pick a bundled pack.

        A language change without a pack moves to that language's first pack, so the words match the UI.
        """
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("settings can only change between games", "wrong_phase")
        for key, value in changes.items():
            _check_setting(key, value, packs, has_custom=bool(self.custom_pack))
        language = changes.get("language", self.settings.language)
        pack = changes.get("pack")
        if packs is not None and pack is not None and pack != CUSTOM_PACK and packs[pack] != language:
            raise Invalid(f"pack {pack!r} is not in language {language!r}", "invalid_settings")
        for key, value in changes.items():
            setattr(self.settings, key, value)
        if pack is None and "language" in changes and packs is not None:
            current = self.settings.pack
            if current != CUSTOM_PACK and packs.get(current) != language:
                self.settings.pack = next(pid for pid, lang in packs.items() if lang == language)
        self.last_activity = now
        return [Event(EventType.SETTINGS_CHANGED, {"settings": self.settings.view()})]

    def set_custom_pack(self, actor_id: str, text: str, now: float) -> list[Event]:
        """Keep the table's own pairs with the room (so every replica has them) and play from them."""
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("the pack can only change between games", "wrong_phase")
        try:
            pairs = parse_custom_pack(text)
        except CustomPackError as exc:
            raise Invalid(f"the pack has bad lines: {exc}", "invalid_pack", lines=exc.problems) from None
        self.custom_pack = [list(pair) for pair in pairs]
        self.settings.pack = CUSTOM_PACK
        self.settings.custom_pack_size = len(pairs)
        self.last_activity = now
        return [Event(EventType.SETTINGS_CHANGED, {"settings": self.settings.view()})]

    def start(self, actor_id: str, now: float, rng: random.Random, words: WordBank | PackLibrary) -> list[Event]:
        """Deal roles and words. `words` is a bank, or the library the room's pack setting picks from."""
        self._require_host(actor_id)
        if self.in_game:
            raise Conflict("a game is already running", "wrong_phase")
        seated = list(self.players.values())
        if len(seated) < MIN_PLAYERS:
            raise Conflict(f"at least {MIN_PLAYERS} players are needed to start", "not_enough_players")
        undercovers = self.settings.undercover_count or (1 if len(seated) <= 6 else 2)
        if undercovers == 2 and len(seated) < 7:
            raise Conflict("2 undercovers need at least 7 players", "invalid_settings")
        mr_whites = 1 if self.settings.mr_white else 0
        if mr_whites and len(seated) < MIN_PLAYERS_MR_WHITE:
            raise Conflict(f"Mr. White needs at least {MIN_PLAYERS_MR_WHITE} players", "not_enough_players")
        bank = self._bank(words)
        pair = bank.pick(rng)
        picked = rng.sample([p.id for p in seated], undercovers + mr_whites)
        undercover_ids, mr_white_ids = set(picked[:undercovers]), set(picked[undercovers:])
        self.game += 1
        self.round = 0
        self.civilian_word, self.undercover_word = pair.civilian, pair.undercover
        self.hints = {w: list(pair.hints_for(w)) for w in (pair.civilian, pair.undercover)}
        self.decoys = {}
        if mr_whites:
            others = [p for p in bank.pairs if p.civilian not in self.hints]
            for decoy in rng.sample(others, min(MR_WHITE_DECOYS // 2, len(others))):
                self.decoys.update({w: list(decoy.hints_for(w)) for w in (decoy.civilian, decoy.undercover)})
        self.clues, self.votes, self.winner, self.winners, self.roster = [], {}, None, [], {}
        self.revote_candidates, self.guesser_id = [], None
        self.votes_log, self.guesses, self.eliminations = [], [], []
        events: list[Event] = []
        for p in seated:
            p.seated, p.alive, p.spectator = True, True, False
            p.role = Role.UNDERCOVER if p.id in undercover_ids else MR_WHITE if p.id in mr_white_ids else Role.CIVILIAN
            p.word = {Role.UNDERCOVER: pair.undercover, Role.CIVILIAN: pair.civilian}.get(p.role)
            p.bot_hints_used = 0
            p.stand_in = False
            p.dropped_at = None if p.is_bot or p.online else now  # still away: the grace period starts now
            self.roster[p.id] = {"name": p.name, "role": p.role, "word": p.word, "is_bot": p.is_bot}
        events.append(
            Event(
                EventType.GAME_STARTED,
                {
                    "game": self.game,
                    "players": [p.id for p in seated],
                    "undercover_count": undercovers,
                    "mr_white_count": mr_whites,
                },
            )
        )
        events += [
            Event(EventType.YOUR_WORD, {"word": p.word, "game": self.game, "mr_white": p.role == MR_WHITE}, to=p.id)
            for p in seated
            if not p.is_bot
        ]
        events += self._enter(Phase.DISCUSSION, now, rng, next_round=True)
        return events

    # ---- play ------------------------------------------------------------------------------------------

    def post_clue(self, actor_id: str, text: str, now: float, rng: random.Random) -> list[Event]:
        player = self._require_alive(actor_id, Phase.DISCUSSION)
        text = clean_text(text, field_name="clue", max_len=CLUE_MAX)
        if player.word is not None and contains_word(text, player.word):
            raise Invalid("a clue must not contain your own word", "clue_contains_word")
        if player.clues_this_round >= self.limits.max_clues_per_round:
            raise RateLimited("you have posted the most clues allowed this round", "too_many_clues")
        if (
            not player.automated
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
        if self.revote_candidates and target_id not in self.revote_candidates:
            raise Invalid("in the revote you can only vote for one of the tied players", "invalid_vote")
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

    def guess(self, actor_id: str, text: str, now: float, rng: random.Random) -> list[Event]:
        """Mr. White, just voted out, names the civilians' word; only they can, only once."""
        self.player(actor_id)
        if self.phase != Phase.GUESS:
            raise Conflict(f"there is no guess to make now (now: {self.phase})", "wrong_phase")
        if actor_id != self.guesser_id:
            raise Forbidden("only Mr. White, just voted out, can guess now", "not_guesser")
        text = clean_text(text, field_name="guess", max_len=GUESS_MAX)
        return self._end_guess(text, now, rng)

    def advance(
        self,
        actor_id: str,
        now: float,
        rng: random.Random,
        *,
        phase: Phase | None = None,
        round_: int | None = None,
    ) -> list[Event]:
        """The host ends the discussion or counts the votes now. `phase` and `round_` name the one the host saw
        end: a tap on "End discussion" that lands after the table got ready would otherwise count a vote nobody
        has cast yet."""
        self._require_host(actor_id)
        if (phase is not None and phase != self.phase) or (round_ is not None and round_ != self.round):
            raise Conflict("that phase is already over; the game has moved on", "wrong_phase")
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
        for p in self.players.values():
            due = self._stand_in_due(p)
            if due is not None and due <= now:
                return self._start_stand_in(p, now, rng)
        for bot in self.players.values():
            acting = bot.alive or bot.id == self.guesser_id
            if bot.automated and acting and bot.bot_action_at is not None and bot.bot_action_at <= now:
                bot.bot_action_at = None
                try:
                    return self._bot_move(bot, now, rng)
                except ParlorError:
                    continue  # a bot's move that the rules refuse is skipped, never fatal
        if self.deadline is not None and self.deadline <= now:
            if self.phase == Phase.DISCUSSION:
                return self._enter(Phase.VOTING, now, rng)
            if self.phase == Phase.GUESS:
                return self._end_guess(None, now, rng)
            return self._resolve_votes(now, rng)
        return []

    def _stand_in_due(self, p: Player) -> float | None:
        """When a dropped human's grace period ends (None: nothing to wait for)."""
        if p.is_bot or p.stand_in or p.online or p.dropped_at is None or not self.in_game:
            return None
        if not (p.alive or p.id == self.guesser_id):
            return None
        return p.dropped_at + self.settings.grace_seconds

    def _start_stand_in(self, p: Player, now: float, rng: random.Random) -> list[Event]:
        p.stand_in = True
        p.bot_action_at = now + self._bot_delay(rng, self.deadline - now if self.deadline else 10.0)
        events = [Event(EventType.STAND_IN_STARTED, {"player_id": p.id, "name": p.name})]
        if self.phase == Phase.DISCUSSION and p.clues_this_round > 0:
            p.bot_action_at = None  # they had their say this round; the stand-in only waits for the vote
            events += self._maybe_end_discussion(now, rng)
        return events

    def _bot_delay(self, rng: random.Random, phase_seconds: float) -> float:
        low, high = self.limits.bot_min_delay_seconds, self.limits.bot_max_delay_seconds
        return min(rng.uniform(low, max(low, high)), max(phase_seconds, 0.0) * 0.8)

    def _bot_move(self, bot: Player, now: float, rng: random.Random) -> list[Event]:
        move = bots.choose(self, bot, rng)
        if move is None:
            return []
        if move.kind == "guess":
            return self._end_guess(move.value, now, rng)
        if move.kind == "clue":
            bot.bot_hints_used += 1
            return self.post_clue(bot.id, move.value, now, rng)
        return self.vote(bot.id, move.value, now, rng)

    def _enter(self, phase: Phase, now: float, rng: random.Random, *, next_round: bool = False) -> list[Event]:
        if phase not in LEGAL_TRANSITIONS[self.phase]:
            raise AssertionError(f"illegal transition {self.phase} -> {phase}")  # an engine bug, not user input
        self.phase = phase
        self.phase_started_at = now
        if next_round:
            self.round += 1
        seconds = {
            Phase.DISCUSSION: self.settings.discussion_seconds,
            Phase.VOTING: self.settings.voting_seconds,
            Phase.GUESS: self.settings.guess_seconds,
        }[phase]
        self.deadline = now + seconds
        for p in self.players.values():
            p.bot_action_at = None
            if phase == Phase.DISCUSSION:
                p.ready = False
                p.clues_this_round = 0
            acting = p.id == self.guesser_id if phase == Phase.GUESS else p.alive
            if p.automated and acting:
                p.bot_action_at = now + self._bot_delay(rng, seconds)
        if phase == Phase.DISCUSSION:
            self.votes = {}
            self.revote_candidates = []
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
        if all(p.clues_this_round > 0 and (p.ready or p.automated) for p in waiting_on):
            return self._enter(Phase.VOTING, now, rng)
        return []

    def _resolve_votes(self, now: float, rng: random.Random) -> list[Event]:
        """Count the votes: one leader is out; a tie is a revote among the tied (once, if the room's
        tie rule says so) or nobody out. Ballots (who voted for whom) are published only under the
        "names" reveal rule; the counts per target always are."""
        tally = Counter(self.votes.values())
        votes = dict(tally)
        ballots = dict(self.votes) if self.settings.vote_reveal == VoteReveal.NAMES else None
        top = max(tally.values(), default=0)
        leaders = sorted(pid for pid, n in tally.items() if n == top)
        revoting = bool(self.revote_candidates)
        record: dict[str, Any] = {"round": self.round, "revote": revoting, "votes": votes, "ballots": ballots}
        self.votes, self.revote_candidates = {}, []
        events: list[Event] = []
        if top > 0 and len(leaders) == 1:
            out = self.players[leaders[0]]
            self._eliminate(out, "voted")
            record["eliminated"] = out.id
            self.votes_log.append(record)
            events.append(
                Event(
                    EventType.PLAYER_ELIMINATED,
                    {
                        "player_id": out.id,
                        "name": out.name,
                        "role": out.role,
                        "round": self.round,
                        "votes": votes,
                        "ballots": ballots,
                    },
                )
            )
            if out.role == MR_WHITE:
                return events + self._start_guess(out, now, rng)
        else:
            revote = self.settings.tie_rule == TieRule.REVOTE and not revoting and len(leaders) >= 2
            record["eliminated"] = None
            self.votes_log.append(record)
            events.append(
                Event(
                    EventType.VOTE_TIED,
                    {"round": self.round, "candidates": leaders, "votes": votes, "ballots": ballots, "revote": revote},
                )
            )
            if revote:
                self.revote_candidates = leaders
                return events + self._enter(Phase.VOTING, now, rng)
        return events + self._next_round_or_finish(now, rng)

    def _next_round_or_finish(self, now: float, rng: random.Random) -> list[Event]:
        winner = self._winner()
        if winner:
            return self._finish(winner, now)
        return self._enter(Phase.DISCUSSION, now, rng, next_round=True)

    def _eliminate(self, out: Player, how: str) -> None:
        out.alive = False
        out.bot_action_at = None
        out.dropped_at = None if not out.stand_in else out.dropped_at
        self.eliminations.append(
            {"player_id": out.id, "name": out.name, "role": out.role, "word": out.word, "round": self.round, "how": how}
        )

    def _start_guess(self, guesser: Player, now: float, rng: random.Random) -> list[Event]:
        self.guesser_id = guesser.id
        events = self._enter(Phase.GUESS, now, rng)
        return [
            *events,
            Event(
                EventType.GUESS_STARTED,
                {"player_id": guesser.id, "name": guesser.name, "round": self.round, "deadline": self.deadline},
            ),
        ]

    def _end_guess(self, text: str | None, now: float, rng: random.Random) -> list[Event]:
        """Judge Mr. White's guess (None: time ran out or they left); right wins alone, wrong plays on."""
        guesser = self.players.get(self.guesser_id or "")
        name = guesser.name if guesser else str(self.roster.get(self.guesser_id or "", {}).get("name"))
        correct = text is not None and self.civilian_word is not None and same_word(text, self.civilian_word)
        result = {"player_id": self.guesser_id, "name": name, "guess": text, "correct": correct, "round": self.round}
        self.guesses.append(dict(result))
        events = [Event(EventType.GUESS_MADE, result)]
        self.guesser_id = None
        if correct:
            return events + self._finish(Winner.MR_WHITE, now, winners=[str(result["player_id"])])
        return events + self._next_round_or_finish(now, rng)

    def _after_roster_change(self, now: float, rng: random.Random) -> list[Event]:
        if self.phase == Phase.GUESS:
            return []  # the guess phase ends by its own timer or guess; the count follows it
        winner = self._winner()
        if winner:
            return self._finish(winner, now)
        if self.phase == Phase.DISCUSSION:
            return self._maybe_end_discussion(now, rng)
        if self.phase == Phase.VOTING and self.alive() and all(p.id in self.votes for p in self.alive()):
            return self._resolve_votes(now, rng)
        return []

    def _winner(self) -> Winner | None:
        """Civilians win once no undercover and no Mr. White is left; the others win once they are at least
        as many as the civilians left (the undercovers, or Mr. White alone when no undercover is left)."""
        alive = self.alive()
        undercover = sum(1 for p in alive if p.role == Role.UNDERCOVER)
        mr_white = sum(1 for p in alive if p.role == MR_WHITE)
        civilians = len(alive) - undercover - mr_white
        if undercover + mr_white == 0:
            return Winner.CIVILIANS
        if undercover + mr_white >= civilians:
            return Winner.UNDERCOVER if undercover else Winner.MR_WHITE
        return None

    def _finish(self, winner: Winner, now: float, winners: list[str] | None = None) -> list[Event]:
        self.winner = winner
        if winners is None:
            alive_mr_white = [pid for pid, i in self.roster.items() if i["role"] == MR_WHITE and self._alive(pid)]
            side = {Winner.CIVILIANS: [Role.CIVILIAN], Winner.UNDERCOVER: [Role.UNDERCOVER], Winner.MR_WHITE: []}[
                winner
            ]
            winners = [pid for pid, info in self.roster.items() if info["role"] in side]
            if winner != Winner.CIVILIANS:
                winners += alive_mr_white
        self.winners = winners
        self.phase = Phase.FINISHED
        self.deadline = None
        self.phase_started_at = now
        self.revote_candidates, self.guesser_id = [], None
        for p in self.players.values():
            p.bot_action_at = None
            p.ready = False
            p.stand_in = False
            p.dropped_at = None
        return [
            Event(
                EventType.PHASE_CHANGED,
                {"phase": Phase.FINISHED, "round": self.round, "deadline": None, "started_at": now},
            ),
            Event(EventType.GAME_OVER, self._game_over_data()),
        ]

    def _alive(self, player_id: str) -> bool:
        player = self.players.get(player_id)
        return player is not None and player.alive

    def _game_over_data(self) -> dict[str, Any]:
        return {
            "winner": self.winner,
            "winners": list(self.winners),
            "words": {"civilian": self.civilian_word, "undercover": self.undercover_word},
            "roles": {pid: info["role"] for pid, info in self.roster.items()},
            "players": [{"id": pid, **info} for pid, info in self.roster.items()],
            "game": self.game,
            "story": self._story(),
        }

    def _story(self) -> dict[str, Any]:
        """The game told afterwards: each round's clues, counts (and ballots if shown) and Mr. White's guess,
        and the eliminations in order with roles and words."""
        rounds = []
        for number in range(1, self.round + 1):
            rounds.append(
                {
                    "round": number,
                    "clues": [
                        {"player_id": c["player_id"], "name": c["name"], "text": c["text"]}
                        for c in self.clues
                        if c["round"] == number
                    ],
                    "votes": [v for v in self.votes_log if v["round"] == number],
                    "guesses": [g for g in self.guesses if g["round"] == number],
                }
            )
        return {"rounds": rounds, "eliminations": list(self.eliminations)}

    def _bank(self, words: WordBank | PackLibrary) -> WordBank:
        if isinstance(words, WordBank):
            return words if self.settings.pack != CUSTOM_PACK or not self.custom_pack else self._custom_bank()
        return words.bank(self.settings.pack, self.settings.language, self.custom_pack)

    def _custom_bank(self) -> WordBank:
        return custom_bank(self.custom_pack, self.settings.language)

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


def _check_setting(key: str, value: Any, packs: Mapping[str, str] | None, *, has_custom: bool) -> None:
    """One setting's value, or a clear Invalid naming the setting and what it accepts."""
    if key in RoomSettings.LIMITS:
        low, high = RoomSettings.LIMITS[key]
        if value is None and key == "undercover_count":
            return
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(f"{key} must be an integer from {low} to {high}", "invalid_settings")
    elif key in RoomSettings.CHOICES:
        if value not in RoomSettings.CHOICES[key]:
            raise Invalid(f"{key} must be one of: {', '.join(RoomSettings.CHOICES[key])}", "invalid_settings")
    elif key in RoomSettings.FLAGS:
        if not isinstance(value, bool):
            raise Invalid(f"{key} must be true or false", "invalid_settings")
    elif key == "pack":
        if value == CUSTOM_PACK:
            if not has_custom:
                raise Invalid("paste the table's own pack before choosing it", "invalid_settings")
        elif not isinstance(value, str) or (packs is not None and value not in packs):
            known = ", ".join(sorted(packs or ())) or "none"
            raise Invalid(f"unknown pack {value!r}; known packs: {known}, custom", "invalid_settings")
    else:
        raise Invalid(f"unknown setting {key!r}", "invalid_settings")


def _forms(word: str) -> set[str]:
    """A word and its singular guesses: a trailing s or x dropped, or es."""
    forms = {word}
    if len(word) > 2 and word[-1] in "sx":
        forms.add(word[:-1])
    if len(word) > 3 and word.endswith("es"):
        forms.add(word[:-2])
    return forms


def same_word(guess: str, word: str) -> bool:
    """Mr. White's guess judged kindly: case, accents, surrounding spaces and a trailing plural ignored."""
    return bool(_forms(fold(guess)) & _forms(fold(word)))

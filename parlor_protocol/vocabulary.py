"""The game's typed vocabulary: phases, roles, winners, event types, limits, and the shapes players see.

StrEnum members compare and serialise as their plain string values, so the wire format is unchanged; the
TypedDicts describe the JSON that the snapshot and events carry, for the server and the frontend alike.
(`backend.game.vocabulary` re-exports all of it for the engine.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict

MIN_PLAYERS = 3
MAX_PLAYERS = 12
NAME_MAX = 24
CLUE_MAX = 120
GUESS_MAX = 60  # Mr. White's guess of the civilians' word
CUSTOM_PACK_MAX_CHARS = 20_000  # a pasted pack, and the bytes of an uploaded pack file


class Phase(StrEnum):
    LOBBY = "lobby"
    DISCUSSION = "discussion"
    VOTING = "voting"
    GUESS = "guess"  # Mr. White, just voted out, names the civilians' word
    FINISHED = "finished"


class Role(StrEnum):
    CIVILIAN = "civilian"
    UNDERCOVER = "undercover"
    MR_WHITE = "mr_white"  # no word at all


class Winner(StrEnum):
    CIVILIANS = "civilians"
    UNDERCOVER = "undercover"  # the undercovers, with Mr. White if still in
    MR_WHITE = "mr_white"  # a right guess, or Mr. White alone at parity


class TieRule(StrEnum):
    NOBODY_OUT = "nobody_out"
    REVOTE = "revote"  # one more vote among the tied, then nobody out


class VoteReveal(StrEnum):
    NAMES = "names"  # who voted for whom is shown with the result
    COUNTS = "counts"  # only how many votes each player got


class Language(StrEnum):
    EN = "en"
    FR = "fr"


class PackProblem(StrEnum):
    """Why one line of a table's own pack is refused; the frontend words each reason in the room's language."""

    TWO_WORDS = "two_words"  # not exactly two words separated by a comma
    BAD_WORD = "bad_word"  # a word with digits or symbols, or too long
    SAME_WORD = "same_word"  # a word paired with itself
    REPEATED = "repeated"  # a word already on an earlier line
    TOO_MANY_LINES = "too_many_lines"
    EMPTY = "empty"  # no pair at all


class EventType(StrEnum):
    PLAYER_JOINED = "player_joined"
    PLAYER_LEFT = "player_left"
    PRESENCE_CHANGED = "presence_changed"
    HOST_CHANGED = "host_changed"
    SETTINGS_CHANGED = "settings_changed"
    GAME_STARTED = "game_started"
    PHASE_CHANGED = "phase_changed"
    CLUE_POSTED = "clue_posted"
    PLAYER_READY = "player_ready"
    VOTE_CAST = "vote_cast"
    PLAYER_ELIMINATED = "player_eliminated"
    VOTE_TIED = "vote_tied"
    GUESS_STARTED = "guess_started"
    GUESS_MADE = "guess_made"
    STAND_IN_STARTED = "stand_in_started"
    STAND_IN_ENDED = "stand_in_ended"
    GAME_OVER = "game_over"
    YOUR_WORD = "your_word"  # private: only the player it names sees it


# Which event types only the player they name may see; the others go to the whole room.
PRIVATE_TYPES: tuple[EventType, ...] = (EventType.YOUR_WORD,)
PUBLIC_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if t not in PRIVATE_TYPES)


class Range(TypedDict):
    min: int
    max: int


class GameLimits(TypedDict):
    """The rules' bounds, sent in every snapshot so clients never repeat them."""

    min_players: int
    max_players: int
    name_max: int
    clue_max: int
    guess_max: int
    discussion_seconds: Range
    voting_seconds: Range
    undercover_count: Range
    guess_seconds: Range
    grace_seconds: Range
    min_players_mr_white: int


class SettingsView(TypedDict):
    discussion_seconds: int
    voting_seconds: int
    undercover_count: int | None
    mr_white: bool
    guess_seconds: int
    tie_rule: TieRule
    vote_reveal: VoteReveal
    grace_seconds: int
    language: Language
    pack: str
    custom_pack_size: int


class PlayerView(TypedDict, total=False):
    id: str
    name: str
    is_bot: bool
    is_host: bool
    online: bool
    spectator: bool
    alive: bool
    ready: bool
    clues_this_round: int
    has_voted: bool
    stand_in: bool  # a bot plays the seat until its player is back
    role: Role | None  # only once revealed


class Clue(TypedDict):
    round: int
    player_id: str
    name: str
    text: str
    ts: float


class YouView(TypedDict, total=False):
    player_id: str
    name: str
    word: str | None
    mr_white: bool
    spectator: bool
    alive: bool
    ready: bool
    voted_for: str | None
    is_host: bool


class RoomSummary(TypedDict):
    """What anyone may see of a room before joining it (GET /api/rooms/{code})."""

    room_code: str
    phase: Phase
    round: int
    player_count: int
    max_players: int
    joinable: bool
    host_name: str | None


class Snapshot(TypedDict, total=False):
    """Everything one player may know now (`Room.snapshot`); the service adds transport and server_time."""

    room_code: str
    phase: Phase
    round: int
    game: int
    deadline: float | None
    host_id: str | None
    settings: SettingsView
    limits: GameLimits
    players: list[PlayerView]
    clues: list[Clue]
    votes_cast: list[str]
    revote_candidates: list[str]
    guesser_id: str | None
    you: YouView
    game_over: dict[str, object] | None
    last_event_id: int
    epoch: str  # the room history last_event_id belongs to (changes when the store lost or rewrote it)
    transport: str  # a Transport value
    server_time: float


__all__ = [
    "CLUE_MAX",
    "CUSTOM_PACK_MAX_CHARS",
    "GUESS_MAX",
    "MAX_PLAYERS",
    "MIN_PLAYERS",
    "NAME_MAX",
    "PRIVATE_TYPES",
    "PUBLIC_TYPES",
    "Clue",
    "EventType",
    "GameLimits",
    "Language",
    "PackProblem",
    "Phase",
    "PlayerView",
    "Range",
    "Role",
    "RoomSummary",
    "SettingsView",
    "Snapshot",
    "TieRule",
    "VoteReveal",
    "Winner",
    "YouView",
]

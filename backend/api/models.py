"""Request bodies of the moves a player makes, shared by REST and the WebSocket `command` frame."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from backend.service import GAME_LIMITS, Language, Phase, TieRule, VoteReveal, valid_clue, valid_guess

_DISCUSSION, _VOTING, _UNDERCOVERS = (
    GAME_LIMITS["discussion_seconds"],
    GAME_LIMITS["voting_seconds"],
    GAME_LIMITS["undercover_count"],
)
_GUESS, _GRACE = GAME_LIMITS["guess_seconds"], GAME_LIMITS["grace_seconds"]


class ClueIn(BaseModel):
    text: str = Field(max_length=1_000, examples=["it keeps me awake"])

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return valid_clue(value)


class GuessIn(BaseModel):
    text: str = Field(max_length=1000, examples=["coffee"])

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return valid_guess(value)


class VoteIn(BaseModel):
    target_id: str = Field(min_length=1, max_length=64)


class AdvanceIn(BaseModel):
    """What the host saw end: with it, a tap that lands after the phase moved on is refused (409 wrong_phase)
    instead of ending the next phase."""

    phase: Phase | None = Field(None, examples=["discussion"])
    round: int | None = Field(None, ge=1, le=100_000, examples=[1])


class SettingsIn(BaseModel):
    discussion_seconds: int | None = Field(None, ge=_DISCUSSION["min"], le=_DISCUSSION["max"])
    voting_seconds: int | None = Field(None, ge=_VOTING["min"], le=_VOTING["max"])
    undercover_count: int | None = Field(
        None,
        ge=_UNDERCOVERS["min"],
        le=_UNDERCOVERS["max"],
        description="null: automatic (1 up to 6 players, else 2)",
    )
    mr_white: bool | None = Field(None, strict=True, description="deal one Mr. White (no word) in games of 5 or more")
    guess_seconds: int | None = Field(None, ge=_GUESS["min"], le=_GUESS["max"], description="Mr. White's time to guess")
    tie_rule: TieRule | None = None
    vote_reveal: VoteReveal | None = None
    grace_seconds: int | None = Field(
        None, ge=_GRACE["min"], le=_GRACE["max"], description="a dropped player's seat waits this long"
    )
    language: Language | None = None
    pack: str | None = Field(None, min_length=1, max_length=40, description="a pack id from GET /api/packs, or custom")


class KickIn(BaseModel):
    """The socket's `kick` command: the player to remove (your own id: leave), as DELETE /players/{player_id}."""

    player_id: str = Field(min_length=1, max_length=64)

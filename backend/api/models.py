"""Request bodies of the moves a player makes, shared by REST and the WebSocket `command` frame."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from backend.service import Phase, valid_clue, valid_guess


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

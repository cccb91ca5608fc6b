"""REST: create and join rooms, act in a game, read state, and long-poll events.

Each route parses its request, makes one service call and shapes the answer; the rules live in the engine,
behind the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, field_validator

from backend.api.deps import AddressDep, IdempotencyKey, PlayerDep, RoomCode, ServiceDep
from backend.api.models import AdvanceIn, ClueIn, GuessIn, SettingsIn, VoteIn
from backend.core import logs
from backend.realtime.protocol import event_frame
from backend.service import (
    CUSTOM_PACK_MAX_CHARS,
    MAX_EVENT_ID,
    BotAdded,
    Credentials,
    Language,
    RoomSummary,
    SettingsChanged,
    Snapshot,
    valid_name,
)

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
packs_router = APIRouter(prefix="/api/packs", tags=["rooms"])


class NameIn(BaseModel):
    name: str = Field(max_length=200, examples=["Alice"])

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return valid_name(value)


class CreateRoomIn(NameIn):
    language: Language | None = Field(
        None, description="the room's language (its interface and words) from the start; default en"
    )


class PackIn(BaseModel):
    text: str = Field(max_length=CUSTOM_PACK_MAX_CHARS, description="one pair a line: two words separated by a comma")


class Seat(BaseModel):
    room_code: str
    player_id: str
    token: str
    transport: str = Field(description="websocket or polling: what this player should use")


class Accepted(BaseModel):
    ok: bool = True
    last_event_id: int


def _seat(service: ServiceDep, creds: Credentials) -> Seat:
    return Seat(
        room_code=creds.room_code,
        player_id=creds.player_id,
        token=creds.token,
        transport=service.transport_for(creds.player_id),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Seat)
async def create_room(body: CreateRoomIn, service: ServiceDep, address: AddressDep) -> Seat:
    _, creds = await service.create_room(body.name, address, language=body.language)
    return _seat(service, creds)


@router.get("/{code}", response_model=None)  # typed for mypy; the body is sent as built
async def room_summary(code: RoomCode, service: ServiceDep, address: AddressDep) -> RoomSummary:
    return await service.summary(code, address)


@router.post("/{code}/players", status_code=status.HTTP_201_CREATED, response_model=Seat)
async def join_room(code: RoomCode, body: NameIn, service: ServiceDep, address: AddressDep) -> Seat:
    return _seat(service, await service.join(code, body.name, address))


@router.get("/{code}/state", response_model=None)
async def state(player: PlayerDep, service: ServiceDep) -> Snapshot:
    """The legacy polling transport: a full snapshot for the caller."""
    return await service.state(player)


@router.get("/{code}/events")
async def events(
    player: PlayerDep,
    service: ServiceDep,
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_ID, description="last event id the client holds")] = 0,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to hold the request open")] = 0,
    epoch: Annotated[
        str | None, Query(max_length=64, description="the room epoch the client's ids belong to (from a snapshot)")
    ] = None,
) -> dict[str, Any]:
    """Events after `after`; with `wait` the request is held until one arrives (long-polling). `after` ahead of
    the log or an `epoch` of another history: `recovered` false and a snapshot."""
    resume = await service.poll_events(player, after, wait, epoch)
    logs.bind(transport=resume.transport)
    return {
        "events": [event_frame(e, player.player_id) for e in resume.events],
        "last_event_id": resume.last_event_id,
        "recovered": resume.recovered,
        "epoch": resume.epoch,
        "snapshot": resume.snapshot,
        "transport": resume.transport,
    }


@router.post("/{code}/bots", status_code=status.HTTP_201_CREATED, response_model=None)
async def add_bot(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> BotAdded:
    return await service.add_bot(player, key)


@router.delete("/{code}/players/{player_id}")
async def remove_player(player_id: str, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    """Leave the room (your own id) or, as host, remove another player or a bot (a kicked player is banned
    from the room by name and address)."""
    return Accepted(last_event_id=await service.remove_player(player, player_id, key))


@router.patch("/{code}/settings", response_model=None)
async def change_settings(
    body: SettingsIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None
) -> SettingsChanged:
    return await service.change_settings(player, body.model_dump(exclude_unset=True), key)


@router.put("/{code}/pack", response_model=None)
async def set_pack(body: PackIn, player: PlayerDep, service: ServiceDep) -> SettingsChanged:
    """The host pastes the table's own pairs; 422 `invalid_pack` names every bad line."""
    return await service.set_custom_pack(player, body.text)


@router.post("/{code}/guess")
async def guess(body: GuessIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    """Mr. White's one guess at the civilians' word, right after being voted out."""
    return Accepted(last_event_id=await service.guess(player, body.text, key))


@packs_router.get("")
async def packs(service: ServiceDep) -> list[dict[str, Any]]:
    """The bundled word packs: id, language, theme, name and number of pairs."""
    return list(service.packs())


@router.post("/{code}/start")
async def start(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return Accepted(last_event_id=await service.start(player, key))


@router.post("/{code}/clues")
async def post_clue(body: ClueIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return Accepted(last_event_id=await service.post_clue(player, body.text, key))


@router.post("/{code}/ready")
async def ready(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return Accepted(last_event_id=await service.ready(player, key))


@router.post("/{code}/votes")
async def vote(body: VoteIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return Accepted(last_event_id=await service.vote(player, body.target_id, key))


@router.post("/{code}/advance")
async def advance(
    player: PlayerDep, service: ServiceDep, body: AdvanceIn | None = None, key: IdempotencyKey = None
) -> Accepted:
    """The host ends the discussion, or counts the votes, now; the body names which (recommended)."""
    seen = body or AdvanceIn()
    return Accepted(last_event_id=await service.advance(player, key, seen.phase, seen.round))

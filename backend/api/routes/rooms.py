"""REST: create and join rooms, act in a game, read state, and long-poll events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, field_validator

from backend.api.deps import AddressDep, IdempotencyKey, PlayerDep, RoomCode, ServiceDep
from backend.core.errors import Invalid
from backend.game.engine import CLUE_MAX, NAME_MAX, Room
from backend.game.events import MAX_EVENT_ID, Event
from backend.game.text import clean_name, clean_text
from backend.service import Credentials

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


def _checked(value: str, field_name: str, max_len: int) -> str:
    try:
        if field_name == "name":
            return clean_name(value, max_len=max_len)
        return clean_text(value, field_name=field_name, max_len=max_len)
    except Invalid as exc:
        raise ValueError(exc.message) from None


class NameIn(BaseModel):
    name: str = Field(max_length=200, examples=["Alice"])

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _checked(value, "name", NAME_MAX)


class ClueIn(BaseModel):
    text: str = Field(max_length=1000, examples=["it keeps me awake"])

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _checked(value, "clue", CLUE_MAX)


class VoteIn(BaseModel):
    target_id: str = Field(min_length=1, max_length=64)


class SettingsIn(BaseModel):
    discussion_seconds: int | None = Field(None, ge=10, le=600)
    voting_seconds: int | None = Field(None, ge=5, le=300)
    undercover_count: int | None = Field(None, ge=1, le=2, description="null: automatic (1 up to 6 players, else 2)")


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
async def create_room(body: NameIn, service: ServiceDep, address: AddressDep) -> Seat:
    _, creds = await service.create_room(body.name, address)
    return _seat(service, creds)


@router.get("/{code}")
async def room_summary(code: RoomCode, service: ServiceDep, address: AddressDep) -> dict[str, Any]:
    return await service.summary(code, address)


@router.post("/{code}/players", status_code=status.HTTP_201_CREATED, response_model=Seat)
async def join_room(code: RoomCode, body: NameIn, service: ServiceDep, address: AddressDep) -> Seat:
    return _seat(service, await service.join(code, body.name, address))


@router.get("/{code}/state")
async def state(player: PlayerDep, service: ServiceDep) -> dict[str, Any]:
    """The legacy polling transport: a full snapshot for the caller."""
    service.metrics.polling_requests.inc()
    service.count_poll("polling")
    await service.seen_polling(player, "polling")
    return await service.snapshot(player, service.transport_for(player.player_id))


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
    """Events after `after`; with `wait` the request is held until one arrives (long-polling)."""
    transport = "longpoll" if wait > 0 else "polling"
    service.count_poll(transport)
    await service.seen_polling(player, transport)
    if wait > 0:
        async with service.held_longpoll(player):
            piece = await service.wait_events(
                player, after, min(wait, service.settings.longpoll_max_wait_seconds), epoch
            )
    else:
        piece = await service.events_after(player, after, epoch)
    body: dict[str, Any] = {
        "events": [e.frame() for e in piece.events],
        "last_event_id": piece.last_event_id,
        "recovered": piece.complete,
        "epoch": piece.epoch,
        "snapshot": None,
        "transport": service.transport_for(player.player_id),
    }
    if not piece.complete:
        snap = await service.snapshot(player, service.transport_for(player.player_id))
        body["snapshot"] = snap
        body["last_event_id"] = snap["last_event_id"]
        body["epoch"] = snap["epoch"]
        outcome = "snapshot"
    else:
        outcome = "events" if piece.events else "timeout"
    service.metrics.longpoll_requests.labels(outcome).inc()
    return body


@router.post("/{code}/bots", status_code=status.HTTP_201_CREATED)
async def add_bot(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> dict[str, Any]:
    bot_id = service.new_player_id()
    return await service.mutate_once(
        player,
        key,
        lambda r: r.add_bot(player.player_id, bot_id, service.clock()),
        lambda r, last: {"player_id": bot_id, "name": r.players[bot_id].name, "last_event_id": last},
    )


@router.delete("/{code}/players/{player_id}")
async def remove_player(player_id: str, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    """Leave the room (your own id) or, as host, remove another player or a bot (a kicked player is banned
    from the room by name and address)."""
    return Accepted(last_event_id=await service.remove_player(player, player_id, key))


@router.patch("/{code}/settings")
async def change_settings(
    body: SettingsIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return await service.mutate_once(
        player,
        key,
        lambda r: r.update_settings(player.player_id, changes, service.clock()),
        lambda r, last: {"settings": r.snapshot(player.player_id)["settings"], "last_event_id": last},
    )


async def _act(
    service: ServiceDep, player: Credentials, key: str | None, command: Callable[[Room], list[Event]]
) -> Accepted:
    """Run one game command for the caller (once per Idempotency-Key); its effects reach everyone as events."""
    answer = await service.mutate_once(player, key, command, lambda _r, last: {"ok": True, "last_event_id": last})
    return Accepted(**answer)


@router.post("/{code}/start")
async def start(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return await _act(
        service, player, key, lambda r: r.start(player.player_id, service.clock(), service.rng, service.words)
    )


@router.post("/{code}/clues")
async def post_clue(body: ClueIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return await _act(
        service, player, key, lambda r: r.post_clue(player.player_id, body.text, service.clock(), service.rng)
    )


@router.post("/{code}/ready")
async def ready(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return await _act(service, player, key, lambda r: r.mark_ready(player.player_id, service.clock(), service.rng))


@router.post("/{code}/votes")
async def vote(body: VoteIn, player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return await _act(
        service, player, key, lambda r: r.vote(player.player_id, body.target_id, service.clock(), service.rng)
    )


@router.post("/{code}/advance")
async def advance(player: PlayerDep, service: ServiceDep, key: IdempotencyKey = None) -> Accepted:
    return await _act(service, player, key, lambda r: r.advance(player.player_id, service.clock(), service.rng))

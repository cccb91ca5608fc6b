"""Frames: the JSON objects on the WebSocket (and, for events, in long-poll answers), and the transports."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

FRAME_FIELDS = ("id", "type", "ts", "data", "prev")


class FrameType(StrEnum):
    """Control frame types; an event frame's type is an `EventType` instead."""

    # client -> server
    HELLO = "hello"  # the first frame: player_id, token, last_event_id, epoch, protocol
    PING = "ping"
    COMMAND = "command"  # a move: id (its idempotency key), name (a CommandName), data
    # server -> client
    WELCOME = "welcome"
    SNAPSHOT = "snapshot"
    PONG = "pong"
    ACK = "ack"
    ERROR = "error"
    CONFIG_CHANGED = "config_changed"


CLIENT_FRAMES = (FrameType.HELLO, FrameType.PING, FrameType.COMMAND)
SERVER_FRAMES = (
    FrameType.WELCOME,
    FrameType.SNAPSHOT,
    FrameType.PONG,
    FrameType.ACK,
    FrameType.ERROR,
    FrameType.CONFIG_CHANGED,
)


class CommandName(StrEnum):
    """The moves a `command` frame may carry, each the same as a REST route."""

    CLUE = "clue"
    VOTE = "vote"
    GUESS = "guess"
    READY = "ready"
    ADVANCE = "advance"
    START = "start"
    KICK = "kick"
    ADD_BOT = "add_bot"
    SETTINGS = "settings"


class Transport(StrEnum):
    WEBSOCKET = "websocket"
    LONGPOLL = "longpoll"  # a page whose socket is down, until it is back
    POLLING = "polling"  # a player outside the WebSocket cohort: long-polling only


class Frame(TypedDict):
    id: int | None
    type: str
    ts: float
    data: Any
    prev: int | None  # an event's link to the previous event its recipient may see; None on control frames

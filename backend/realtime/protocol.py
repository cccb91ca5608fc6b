"""The wire protocol in one place: close codes, transport names, the frame shape and its JSON encoder.

Server (REST, long-poll, WebSocket) and the Python side of the frontend import it; `frontend/static/bridge.js`
keeps its own copy of the close codes and frame fields, and a test fails when the two drift apart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import IntEnum, StrEnum
from typing import Any, Protocol, TypedDict

FRAME_FIELDS = ("id", "type", "ts", "data", "prev")


class CloseCode(IntEnum):
    """WebSocket close codes the server sends; 1xxx from RFC 6455, 4xxx Parlor's own."""

    NORMAL = 1000
    GOING_AWAY = 1001  # heartbeat timeout
    POLICY = 1008  # foreign Origin, before accept
    TOO_BIG = 1009
    RESTART = 1012  # drain or restart: reconnect and resume
    TRY_LATER = 1013  # over capacity, store away, or too slow a reader
    ABUSE = 4400
    AUTH = 4401
    NOT_IN_COHORT = 4403  # use polling
    UNKNOWN_ROOM = 4404
    NO_HELLO = 4408
    REPLACED = 4409


class Transport(StrEnum):
    WEBSOCKET = "websocket"
    LONGPOLL = "longpoll"
    POLLING = "polling"


class CommittedEvent(Protocol):
    """What a frame needs from a committed event (`backend.game.events.StoredEvent`)."""

    @property
    def id(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def ts(self) -> float: ...

    @property
    def data(self) -> Any: ...

    def prev_for(self, player_id: str) -> int | None: ...


class Frame(TypedDict):
    id: int | None
    type: str
    ts: float
    data: Any
    prev: int | None  # an event's link to the previous event its recipient may see; None on control frames


def _compact_encoder() -> Callable[[Any], str]:
    """`json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`, with its encoder built once.

    Why: called with arguments, `json.dumps` builds a `JSONEncoder` and then the C encoder on every call, which
    costs about twice the encoding of a frame itself; the server encodes one frame per event and per reply.
    The C encoder is kept without the circular-reference check (frames are trees: a cycle would end in
    RecursionError instead of ValueError); without the C accelerator, an encoder object built once."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython ships the accelerator
        return encoder.encode
    chunks = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda obj: "".join(chunks(obj, 0))


_encode = _compact_encoder()


def dumps(obj: Any) -> str:
    """The one JSON encoder: compact, UTF-8 kept as is."""
    return _encode(obj)


def frame(type_: str, data: Any, *, id_: int | None = None, ts: float | None = None, prev: int | None = None) -> Frame:
    """Build a frame; events carry their log id, commit time and `prev`, control frames None and the time now."""
    return {"id": id_, "type": type_, "ts": time.time() if ts is None else ts, "data": data, "prev": prev}


def event_frame(event: CommittedEvent, player_id: str) -> Frame:
    """The frame of a committed event as `player_id` gets it: the same on the socket, in a long-poll answer and in
    a resume replay. `prev` is the id of the event before it in this player's view of the log (0: none)."""
    return frame(event.type, event.data, id_=event.id, ts=event.ts, prev=event.prev_for(player_id))

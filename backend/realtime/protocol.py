"""The server's side of the wire protocol: the frame builder and its JSON encoder.

The protocol's words themselves (close codes, frame types, transports, error codes, the version) live in the
zero-dependency `parlor_protocol` package, which the frontend imports too; they are re-exported here so the
server's modules keep one import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from parlor_protocol import FRAME_FIELDS, CloseCode, DisconnectReason, ErrorCode, Frame, FrameType, Transport

__all__ = [
    "FRAME_FIELDS",
    "CloseCode",
    "CommittedEvent",
    "DisconnectReason",
    "ErrorCode",
    "Frame",
    "FrameType",
    "Transport",
    "dumps",
    "event_frame",
    "frame",
]


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

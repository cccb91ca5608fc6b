"""Parlor's wire protocol: everything that crosses a tier boundary (browser, Streamlit server, backend).

Standard library only, so the frontend, the backend, tools and tests can all import it without importing each
other. `frontend/static/bridge.js` keeps its own copy of the constants it uses; tests/parlor_protocol checks
that copy against this package.

    frames      FrameType, CommandName, Transport, Frame, FRAME_FIELDS
    codes       CloseCode, ErrorCode, DisconnectReason
    vocabulary  the game's enums, limits and the snapshot's shapes
    version     PROTOCOL_VERSION and the range a server accepts
"""

from __future__ import annotations

from parlor_protocol import version
from parlor_protocol.codes import CloseCode, DisconnectReason, ErrorCode
from parlor_protocol.frames import (
    CLIENT_FRAMES,
    FRAME_FIELDS,
    SERVER_FRAMES,
    CommandName,
    Frame,
    FrameType,
    Transport,
)
from parlor_protocol.version import PROTOCOL_VERSION

__all__ = [
    "CLIENT_FRAMES",
    "FRAME_FIELDS",
    "PROTOCOL_VERSION",
    "SERVER_FRAMES",
    "CloseCode",
    "CommandName",
    "DisconnectReason",
    "ErrorCode",
    "Frame",
    "FrameType",
    "Transport",
    "version",
]

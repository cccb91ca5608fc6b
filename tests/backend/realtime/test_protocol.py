"""The server's frame encoder: `dumps` builds its encoder once and must write what compact `json.dumps` writes."""

from __future__ import annotations

import json

from backend.realtime.protocol import CloseCode, Transport, dumps, frame


def test_the_frame_encoder_writes_what_compact_json_dumps_writes() -> None:
    """`dumps` (its encoder built once) gives the bytes of json.dumps with compact separators and UTF-8 kept."""
    values = [
        frame("clue_posted", {"text": 'café ☕ "q"\n', "ts": 1733600000.125, "n": [1, 2.5, None, True]}, id_=7),
        {"code": CloseCode.RESTART, "transport": Transport.WEBSOCKET, "nested": {"a": [{}, []]}, "big": 2**53 - 1},
        "plain",
        float("inf"),
        [],
    ]
    for value in values:
        assert dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)

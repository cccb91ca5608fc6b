"""bridge.js (with its parts under bridge/) keeps its own copy of the wire protocol; these tests fail as soon as it
drifts from protocol.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

from backend.realtime.protocol import FRAME_FIELDS, CloseCode, Frame, Transport, dumps, frame
from frontend.live import BRIDGE_FILES

STATIC = Path(__file__).resolve().parents[3] / "frontend" / "static"
BRIDGE = "\n".join((STATIC / name).read_text() for name in BRIDGE_FILES)
CODE = re.compile(r"\b[14]\d{3}\b")
# numbers of that size that are not close codes: milliseconds <-> seconds, and durations in named constants
NOT_A_CODE = re.compile(r"[*/]\s*1000\b|\b1000\s*[*/]|const\s+\w+_(?:MS|S|CAP)\s*=\s*\d+")


def _object(name: str) -> dict[str, str] | None:
    """`const NAME = {A: v, ...}` (optionally `Object.freeze(...)`) as {key: raw value}, or None when absent."""
    match = re.search(rf"const\s+{name}\s*=\s*(?:Object\.freeze\()?\{{(.*?)\}}", BRIDGE, re.S)
    if match is None:
        return None
    return dict(re.findall(r"(\w+)\s*:\s*([^,\s}]+)", match.group(1)))


def test_every_close_code_bridge_js_uses_is_one_of_the_protocol_module() -> None:
    """Each 1xxx/4xxx number in bridge.js (but ms arithmetic) is a CloseCode value: no invented or stale code."""
    numbers = {int(n) for n in CODE.findall(NOT_A_CODE.sub("", BRIDGE))}
    assert numbers, "bridge.js uses no close code at all: has the parser lost track of it?"
    assert numbers <= {c.value for c in CloseCode}, sorted(numbers - {c.value for c in CloseCode})


def test_named_close_codes_in_bridge_js_match_names_and_values() -> None:
    """A `CLOSE` object in bridge.js names codes exactly as CloseCode does, with the same values."""
    named = _object("CLOSE")
    if named is None:  # the older form: bare numbers only, covered by the test above
        return
    assert named, "an empty CLOSE object"
    for name, value in named.items():
        assert name in CloseCode.__members__, f"CLOSE.{name} is not in CloseCode"
        assert int(value) == CloseCode[name].value, f"CLOSE.{name} = {value}, protocol.py says {CloseCode[name].value}"
    used = set(re.findall(r"\bCLOSE\.(\w+)", BRIDGE))
    assert used <= set(named), sorted(used - set(named))


def test_bridge_js_reads_exactly_the_frame_fields() -> None:
    """The fields bridge.js reads off a parsed socket frame are FRAME_FIELDS, which frame() builds."""
    names = set(re.findall(r"(\w+)\s*=\s*JSON\.parse\(\s*msg\.data\s*\)", BRIDGE))
    assert names, "no `x = JSON.parse(msg.data)` in bridge.js: where does it parse frames now?"
    read = {field for name in names for field in re.findall(rf"\b{name}\.(\w+)", BRIDGE)}
    assert read == set(FRAME_FIELDS)
    assert tuple(frame("pong", {}).keys()) == FRAME_FIELDS == tuple(Frame.__annotations__)


def test_transport_names_in_bridge_js_are_the_protocol_module_ones() -> None:
    """A `TRANSPORT` object mirrors Transport; transport strings compared in bridge.js are Transport values."""
    named = _object("TRANSPORT")
    if named is not None:
        assert {k: v.strip("\"'") for k, v in named.items()} == {t.name: t.value for t in Transport}
    compared = set(re.findall(r"transport\s*===?\s*[\"'](\w+)[\"']", BRIDGE))
    assert compared <= {t.value for t in Transport}, compared


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

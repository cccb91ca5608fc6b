"""bridge.js (with its parts under bridge/, and the live view the page loads with it) keeps its own copy of the wire
protocol; these tests fail as soon as it drifts from the parlor_protocol package."""

from __future__ import annotations

import re
from pathlib import Path

from backend.api.protocol_version import STATUS as HTTP_UNSUPPORTED_PROTOCOL
from backend.api.routes.ws import COMMANDS
from backend.realtime.protocol import frame
from frontend.live import BRIDGE_FILES
from parlor_protocol import (
    FRAME_FIELDS,
    PROTOCOL_VERSION,
    CloseCode,
    CommandName,
    ErrorCode,
    Frame,
    FrameType,
    Transport,
    version,
)
from parlor_protocol.vocabulary import EventType, Phase

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
BRIDGE = "\n".join((STATIC / name).read_text() for name in BRIDGE_FILES)
LIVE_VIEW = (STATIC / "live_view.js").read_text()
CODE = re.compile(r"\b[14]\d{3}\b")
# numbers of that size that are not close codes: milliseconds <-> seconds, and durations in named constants
NOT_A_CODE = re.compile(r"[*/]\s*1000\b|\b1000\s*[*/]|const\s+\w+_(?:MS|S|CAP)\s*=\s*\d+")


def _object(name: str, text: str = BRIDGE) -> dict[str, str]:
    """`const NAME = {A: v, ...}` (optionally `Object.freeze(...)`) as {key: value without quotes}."""
    match = re.search(rf"const\s+{name}\s*=\s*(?:Object\.freeze\()?\{{(.*?)\}}", text, re.S)
    assert match is not None, f"no `const {name} = {{...}}` in the bridge's files"
    return {k: v.strip("\"'") for k, v in re.findall(r"(\w+)\s*:\s*([^,\s}]+)", match.group(1))}


def _constant(name: str) -> str:
    match = re.search(rf"const\s+{name}\s*=\s*([^;]+);", BRIDGE)
    assert match is not None, f"no `const {name} = ...;` in the bridge's files"
    return match.group(1).strip().strip("\"'")


def test_close_codes_are_the_packages_every_one() -> None:
    """CLOSE names every CloseCode (4426 included) with its value; every 1xxx/4xxx number in the bridge (but ms
    arithmetic) and every `CLOSE.X` it reads is one of them."""
    named = _object("CLOSE")
    assert {k: int(v) for k, v in named.items()} == {c.name: c.value for c in CloseCode}
    numbers = {int(n) for n in CODE.findall(NOT_A_CODE.sub("", BRIDGE))}
    assert numbers <= {c.value for c in CloseCode}, sorted(numbers - {c.value for c in CloseCode})
    used = set(re.findall(r"\bCLOSE\.(\w+)", BRIDGE))
    assert CloseCode.UNSUPPORTED_PROTOCOL.name in used
    assert used <= set(named), sorted(used - set(named))


def test_frame_types_are_the_packages_and_no_frame_type_is_a_free_string() -> None:
    """FRAME mirrors FrameType; the bridge compares and sends frame types only through it."""
    assert _object("FRAME") == {t.name: t.value for t in FrameType}
    free = set(re.findall(r"\btype\s*(?:===?|!==?|:)\s*[\"'](\w+)[\"']", BRIDGE))
    assert not free & {t.value for t in FrameType}, sorted(free)
    assert set(re.findall(r"\bFRAME\.(\w+)", BRIDGE)) <= set(FrameType.__members__)


def test_transport_names_are_the_packages() -> None:
    """TRANSPORT mirrors Transport; transport strings compared in the bridge are Transport values."""
    assert _object("TRANSPORT") == {t.name: t.value for t in Transport}
    compared = set(re.findall(r"transport\s*===?\s*[\"'](\w+)[\"']", BRIDGE))
    assert compared <= {t.value for t in Transport}, compared


def test_error_codes_the_bridge_reads_or_makes_are_the_packages() -> None:
    """ERROR names ErrorCode members with their values, the 426 of a refused version is the server's, and no error
    code appears in the bridge as a free string."""
    named = _object("ERROR")
    assert named, "an empty ERROR object"
    for name, value in named.items():
        assert ErrorCode[name].value == value, name
    assert ErrorCode.UNSUPPORTED_PROTOCOL.name in named
    assert int(_constant("HTTP_UNSUPPORTED_PROTOCOL")) == HTTP_UNSUPPORTED_PROTOCOL
    free = set(re.findall(r"code\s*(?:===?|:)\s*[\"'](\w+)[\"']", BRIDGE))
    assert not free, sorted(free)


def test_protocol_version_and_header_are_the_packages() -> None:
    """The bridge speaks PROTOCOL_VERSION, in the hello field and the header the server reads."""
    assert int(_constant("PROTOCOL_VERSION")) == PROTOCOL_VERSION
    assert _constant("PROTOCOL_HEADER") == version.HEADER
    assert re.search(rf"\b{version.HELLO_FIELD}\s*:\s*PROTOCOL_VERSION\b", BRIDGE), "the hello's protocol field"


def test_moves_are_the_command_names() -> None:
    """The bridge's ROUTES (a move over REST) and the socket route's COMMANDS both name exactly CommandName."""
    routes = re.search(r"const\s+ROUTES\s*=\s*\{(.*?)\n\s*\};", BRIDGE, re.S)
    assert routes is not None
    assert set(re.findall(r"^\s*(\w+)\s*:", routes.group(1), re.M)) == {c.value for c in CommandName}
    assert set(COMMANDS) == {c.value for c in CommandName}


def test_live_view_event_types_and_phases_are_the_packages() -> None:
    """The live view's event handlers, the events it switches on and the phases it compares are the package's."""
    handlers = re.search(r"const\s+HANDLERS\s*=\s*\{(.*?)\n  \};", LIVE_VIEW, re.S)
    assert handlers is not None
    names = set(re.findall(r"^    (\w+)\(s, d\)", handlers.group(1), re.M))
    assert names and names <= {e.value for e in EventType}, sorted(names - {e.value for e in EventType})
    switches = re.findall(r"switch \(frame\.type\) \{(.*?)\n    \}", LIVE_VIEW, re.S)
    cases = {case for body in switches for case in re.findall(r"case\s+\"(\w+)\":", body)}
    assert cases and cases <= {e.value for e in EventType}, sorted(cases)
    phases = set(re.findall(r"phase\s*(?:[!=]==?|=)\s*\"(\w+)\"", LIVE_VIEW))
    assert phases and phases <= {p.value for p in Phase}, sorted(phases - {p.value for p in Phase})


def test_bridge_js_reads_exactly_the_frame_fields() -> None:
    """The fields the bridge reads off a parsed socket frame are FRAME_FIELDS, which frame() builds."""
    names = set(re.findall(r"(\w+)\s*=\s*JSON\.parse\(\s*msg\.data\s*\)", BRIDGE))
    assert names, "no `x = JSON.parse(msg.data)` in the bridge: where does it parse frames now?"
    read = {field for name in names for field in re.findall(rf"\b{name}\.(\w+)", BRIDGE)}
    assert read == set(FRAME_FIELDS)
    assert tuple(frame(FrameType.PONG, {}).keys()) == FRAME_FIELDS == tuple(Frame.__annotations__)

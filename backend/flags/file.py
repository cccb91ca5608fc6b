"""The websocket-transport flag as a flagd flag-definition file: read it, write it atomically.

The rollout is flagd's `fractional` operator keyed on the player id (the evaluation's targetingKey). It
hashes flagKey+targetingKey into 100 buckets and hands out variant ranges in list order, so keeping the
websocket variant first makes a rollout sticky: raising 10 -> 50 keeps the first 10 % on websocket.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parlor_protocol import Transport

FLAG_KEY = "websocket-transport"
SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json"
# the flag's two variants
WEBSOCKET = Transport.WEBSOCKET
POLLING = Transport.POLLING

# mtime is how flagd's file watcher notices a change; two writes inside one filesystem timestamp tick
# must still look different to it.
_MTIME_STEP_NS = 1_000_000


@dataclass(frozen=True)
class FlagState:
    """The flag as configured: `enabled` (on, and allowed by the kill switch where one applies) and the
    percentage of players in the websocket cohort (0-100); nobody is on websocket while disabled."""

    enabled: bool
    percent: int

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "percent": self.percent}


DEFAULT_STATE = FlagState(enabled=True, percent=100)


def validate(*, enabled: object, percent: object) -> FlagState:
    """The FlagState for these values, or ValueError saying what is wrong with them."""
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be true or false, not {enabled!r}")
    if isinstance(percent, bool) or not isinstance(percent, int):
        raise ValueError(f"rollout percent must be an integer between 0 and 100, not {percent!r}")
    if not 0 <= percent <= 100:
        raise ValueError(f"rollout percent must be between 0 and 100, not {percent}")
    return FlagState(enabled=enabled, percent=percent)


def flag_definition(state: FlagState) -> dict[str, Any]:
    """The flagd definition of websocket-transport for this state."""
    return {
        "state": "ENABLED" if state.enabled else "DISABLED",
        "variants": {WEBSOCKET: WEBSOCKET, POLLING: POLLING},
        "defaultVariant": POLLING,
        "targeting": {"fractional": [[WEBSOCKET, state.percent], [POLLING, 100 - state.percent]]},
    }


def parse_flag(document: object) -> FlagState:
    """The FlagState described by a parsed flag file, or ValueError when it does not describe one."""
    if not isinstance(document, dict) or not isinstance(document.get("flags"), dict):
        raise ValueError("flag file has no 'flags' object")
    flag = document["flags"].get(FLAG_KEY)
    if not isinstance(flag, dict):
        raise ValueError(f"flag file does not define {FLAG_KEY!r}")
    state = flag.get("state")
    if state not in ("ENABLED", "DISABLED"):
        raise ValueError(f"{FLAG_KEY}.state must be ENABLED or DISABLED, not {state!r}")
    return FlagState(enabled=state == "ENABLED", percent=_websocket_percent(flag))


def _websocket_percent(flag: dict[str, Any]) -> int:
    targeting = flag.get("targeting")
    if not targeting:
        return 100 if flag.get("defaultVariant") == WEBSOCKET else 0
    fractions = targeting.get("fractional") if isinstance(targeting, dict) else None
    if not isinstance(fractions, list):
        raise ValueError(f"{FLAG_KEY}.targeting must be a fractional rollout")
    weights: dict[str, int] = {}
    for fraction in fractions:
        if not (isinstance(fraction, list) and len(fraction) == 2 and isinstance(fraction[1], int)):
            raise ValueError(f"{FLAG_KEY}: each fraction must be [variant, integer weight]")
        weights[str(fraction[0])] = weights.get(str(fraction[0]), 0) + max(0, fraction[1])
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"{FLAG_KEY}: fractional weights must add up to more than 0")
    return round(100 * weights.get(WEBSOCKET, 0) / total)


def read_flag_file(path: Path) -> FlagState:
    """The flag state in `path`; FileNotFoundError when absent, ValueError when it cannot be understood."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    return parse_flag(document)


def write_flag_file(path: Path, *, enabled: bool, percent: int) -> FlagState:
    """Validate, then atomically replace `path` so a reader sees the old file or the new one, never half.

    Other flags and top-level keys of an existing, readable file are kept. On bad input nothing is written.
    """
    state = validate(enabled=enabled, percent=percent)
    path = Path(path)
    document = _existing_document(path)
    document.setdefault("$schema", SCHEMA_URL)
    document["flags"] = {**document.get("flags", {}), FLAG_KEY: flag_definition(state)}
    payload = (json.dumps(document, indent=2) + "\n").encode("utf-8")

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        _bump_mtime(Path(tmp_name), path)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return state


def _existing_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("flags"), dict):
        return {}
    return document


def _bump_mtime(new: Path, old: Path) -> None:
    try:
        old_ns = old.stat().st_mtime_ns
    except FileNotFoundError:
        return
    mtime_ns = max(time.time_ns(), old_ns + _MTIME_STEP_NS)
    os.utime(new, ns=(mtime_ns, mtime_ns))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

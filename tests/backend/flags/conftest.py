"""Fixtures for the flag tests: a flag file in tmp_path and running TransportFlags over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend.flags import FlagState, TransportFlag, write_flag_file

# A changed file must take effect within this long (the requirement).
PICKUP_DEADLINE_SECONDS = 2.0


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags" / "flags.json"
    write_flag_file(path, enabled=True, percent=100)
    return path


@pytest.fixture
def start_flag() -> Iterator[Callable[..., TransportFlag]]:
    started: list[TransportFlag] = []

    def start(path: Path, kill_switch: bool = True, **kwargs: object) -> TransportFlag:
        flag = TransportFlag(path, kill_switch, **kwargs)  # type: ignore[arg-type]
        flag.start()
        started.append(flag)
        return flag

    yield start
    for flag in started:
        flag.stop()


def wait_for_state(flag: TransportFlag, expected: FlagState, deadline: float = PICKUP_DEADLINE_SECONDS) -> float:
    """Seconds until `flag.state == expected`; fails the test past the deadline."""
    began = time.monotonic()
    while flag.state != expected:
        elapsed = time.monotonic() - began
        assert elapsed < deadline, f"state still {flag.state} after {elapsed:.2f} s, wanted {expected}"
        time.sleep(0.01)
    return time.monotonic() - began

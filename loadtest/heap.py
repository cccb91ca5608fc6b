"""What the collector costs a server under test, read through the probe in `loadtest/heap_site/`.

`probe_env()` goes into the environment of every server a benchmark starts (Parlor, its A/B revision and the
peers alike); `HeapProbe` asks the server for a full collection (paying the collection debt the set-up left,
before a window is measured) and reads its collections and their CPU time around a window.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "heap_site"
_DIR = Path(tempfile.gettempdir()) / "parlor-heap-probe"


def probe_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` plus what loads the probe: its directory first on PYTHONPATH, and where it writes."""
    env = dict(env or {})
    _DIR.mkdir(exist_ok=True)
    path = env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE), path) if p)
    env["PARLOR_HEAP_PROBE"] = str(_DIR)
    return env


def probed(env: dict[str, str] | None) -> bool:
    """Whether a server started with `env` carries the probe."""
    return bool(env and env.get("PARLOR_HEAP_PROBE"))


@dataclass(frozen=True)
class HeapState:
    collections: tuple[int, int, int]
    cpu_ms: tuple[float, float, float]
    tracked: int  # after the last forced collection
    forced_ms: float
    forced: int

    def since(self, before: HeapState) -> HeapState:
        """Collections and their CPU time between `before` and this reading."""
        return HeapState(
            tuple(a - b for a, b in zip(self.collections, before.collections, strict=True)),  # type: ignore[arg-type]
            tuple(a - b for a, b in zip(self.cpu_ms, before.cpu_ms, strict=True)),  # type: ignore[arg-type]
            self.tracked,
            self.forced_ms,
            self.forced - before.forced,
        )

    @property
    def full(self) -> int:
        return self.collections[2]

    @property
    def total_ms(self) -> float:
        return sum(self.cpu_ms)


class HeapProbe:
    """The probe of one server process (started with `probe_env`)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.path = _DIR / f"{pid}.json"

    def _raw(self) -> dict[str, Any] | None:
        try:
            raw: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return raw

    def _ask(self, signum: int, timeout: float = 10.0) -> HeapState:
        deadline = time.monotonic() + timeout
        # the probe writes once when its handlers are in place; a signal before that would end the process
        while (last := self._raw()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} has no heap probe (started without probe_env?)")
            time.sleep(0.01)
        before = last["writes"]
        os.kill(self.pid, signum)
        while time.monotonic() < deadline:
            raw = self._raw()
            if raw is not None and raw["writes"] > before:
                return HeapState(
                    tuple(raw["collections"]),
                    tuple(raw["cpu_ms"]),
                    raw["forced"]["tracked"],
                    raw["forced"]["ms"],
                    raw["forced"]["n"],
                )
            time.sleep(0.01)
        raise TimeoutError(f"the heap probe of process {self.pid} did not answer (started without probe_env?)")

    def read(self) -> HeapState:
        return self._ask(signal.SIGUSR2)

    def collect(self) -> HeapState:
        """A full collection in the server now; the state after it (`forced_ms`: how long it took)."""
        return self._ask(signal.SIGUSR1)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

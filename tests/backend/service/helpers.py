"""A service on the memory store with a clock the test moves and a seeded RNG."""

from __future__ import annotations

import random
from pathlib import Path

from prometheus_client import CollectorRegistry

from backend.core.config import Settings
from backend.metrics import Metrics
from backend.realtime.hub import Hub
from backend.service import RoomService
from backend.store.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make_service(tmp_path: Path, clock: Clock, **overrides: object) -> RoomService:
    settings = Settings(flags_file=tmp_path / "flags.json", **overrides)  # type: ignore[arg-type]
    metrics = Metrics(CollectorRegistry())
    return RoomService(settings, MemoryStore(), Hub(metrics), metrics, clock=clock, rng=random.Random(4))

"""Shared fixtures: a real backend process per test module, and timing constants scaled from one place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launchers.backend import Backend, run_backend
from launchers.process import TIME_SCALE, scaled

# Timing constants are scaled from one place (PARLOR_TIME_SCALE), shared with the launchers' waits.
__all__ = ["TIME_SCALE", "scaled"]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A real uvicorn serving backend.main:app on 127.0.0.1 with an ephemeral port."""
    tmp: Path = tmp_path_factory.mktemp("backend")
    with run_backend(tmp=tmp) as server:
        yield server

"""Shared fixtures: a real backend process per test module, and timing constants scaled from one place."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from launchers.backend import Backend, run_backend

# Every timeout in the suite is multiplied by this, so a slow CI machine needs one knob, not fifty.
TIME_SCALE = float(os.environ.get("PARLOR_TIME_SCALE", "1"))


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A real uvicorn serving backend.main:app on 127.0.0.1 with an ephemeral port."""
    tmp: Path = tmp_path_factory.mktemp("backend")
    with run_backend(tmp=tmp) as server:
        yield server

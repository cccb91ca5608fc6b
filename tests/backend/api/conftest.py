"""In-process app fixtures: fast protocol tests through Starlette's TestClient with an isolated registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from backend.core.config import Settings
from backend.main import create_app


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "flags_file": tmp_path / "flags.json",
        "flags_audit_log": tmp_path / "audit.jsonl",
        "hello_timeout_seconds": 0.5,
        "clue_interval_seconds": 0,
        "bot_min_delay_seconds": 0.05,
        "bot_max_delay_seconds": 0.1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path), registry=CollectorRegistry())) as tc:
        yield tc


def seat(client: TestClient, name: str, code: str | None = None) -> dict[str, str]:
    if code is None:
        resp = client.post("/api/rooms", json={"name": name})
    else:
        resp = client.post(f"/api/rooms/{code}/players", json={"name": name})
    assert resp.status_code == 201, resp.text
    body: dict[str, str] = resp.json()
    return body


def auth(s: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {s['token']}"}

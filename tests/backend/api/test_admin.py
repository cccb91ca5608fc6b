"""The admin API for the rollout flag: auth, reading it, changing it through the audited writer."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.exceptions import StarletteDeprecationWarning

from backend.core.config import Settings
from backend.flags import FlagState, read_flag_file, write_flag_file
from backend.main import create_app

with warnings.catch_warnings():
    # starlette 1.10 wants httpx2 for its TestClient and warns (an error here) when it falls back to httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TOKEN = "admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PICKUP_DEADLINE_SECONDS = 2.0


def make_client(tmp_path: Path, admin_token: str | None) -> TestClient:
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=10)
    settings = Settings(
        admin_token=admin_token,
        flags_file=flags,
        flags_audit_log=tmp_path / "var" / "audit.jsonl",
        websocket_enabled=True,
    )
    return TestClient(create_app(settings, registry=CollectorRegistry()))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, TOKEN) as client:
        yield client


def test_get_without_token_is_401(client: TestClient) -> None:
    """No Authorization header: 401 with the JSON error shape."""
    response = client.get("/api/admin/flags")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_wrong_token_is_401(client: TestClient) -> None:
    """A wrong bearer token is refused with 401, for reads and writes alike."""
    wrong = {"Authorization": "Bearer not-the-admin-token-at-all"}
    assert client.get("/api/admin/flags", headers=wrong).status_code == 401
    response = client.put("/api/admin/flags", headers=wrong, json={"percent": 0, "reason": "x"})
    assert response.status_code == 401


def test_admin_api_is_404_without_a_configured_token(tmp_path: Path) -> None:
    """With ADMIN_TOKEN unset the admin API does not exist, token or not."""
    with make_client(tmp_path, None) as client:
        assert client.get("/api/admin/flags", headers=AUTH).status_code == 404
        assert client.put("/api/admin/flags", headers=AUTH, json={"percent": 0, "reason": "x"}).status_code == 404


def test_get_returns_the_flag_and_kill_switch(client: TestClient) -> None:
    """GET returns enabled, percent and the kill switch setting."""
    response = client.get("/api/admin/flags", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "percent": 10, "kill_switch": True}


def test_put_writes_the_file_audits_and_takes_effect(client: TestClient, tmp_path: Path) -> None:
    """PUT rewrites the flag file, appends an admin-api audit line, and GET shows it within 2 s."""
    response = client.put("/api/admin/flags", headers=AUTH, json={"percent": 50, "reason": "stage 2"})
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "percent": 50, "kill_switch": True}
    assert read_flag_file(tmp_path / "flags.json") == FlagState(enabled=True, percent=50)
    [line] = (tmp_path / "var" / "audit.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert (record["actor"], record["reason"]) == ("admin-api", "stage 2")
    assert (record["before"], record["after"]) == ({"enabled": True, "percent": 10}, {"enabled": True, "percent": 50})

    began = time.monotonic()
    while client.get("/api/admin/flags", headers=AUTH).json()["percent"] != 50:
        assert time.monotonic() - began < PICKUP_DEADLINE_SECONDS
        time.sleep(0.02)


def test_put_can_disable(client: TestClient, tmp_path: Path) -> None:
    """PUT enabled=false turns the flag off and keeps the percent."""
    response = client.put("/api/admin/flags", headers=AUTH, json={"enabled": False, "reason": "rollback"})
    assert response.status_code == 200
    assert read_flag_file(tmp_path / "flags.json") == FlagState(enabled=False, percent=10)


@pytest.mark.parametrize("body", [{"percent": 101, "reason": "x"}, {"percent": -1, "reason": "x"}, {"percent": 5}])
def test_invalid_put_is_422_and_leaves_the_file(client: TestClient, tmp_path: Path, body: dict[str, object]) -> None:
    """Percent outside 0..100 or no reason: 422, file unchanged, nothing audited."""
    before = (tmp_path / "flags.json").read_bytes()
    response = client.put("/api/admin/flags", headers=AUTH, json=body)
    assert response.status_code == 422
    assert (tmp_path / "flags.json").read_bytes() == before
    assert not (tmp_path / "var" / "audit.jsonl").exists()


def test_put_with_nothing_to_change_is_422(client: TestClient) -> None:
    """A PUT with neither enabled nor percent is refused."""
    response = client.put("/api/admin/flags", headers=AUTH, json={"reason": "nothing"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"

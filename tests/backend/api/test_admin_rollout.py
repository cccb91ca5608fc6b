"""GET /api/admin/rollout and POST /api/admin/rollout/{action}: the token, no rollout yet, a refused step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.rollout.settings import get_rollout_settings
from launchers.process import free_port
from tests.backend.api.test_admin import AUTH, TOKEN, TestClient, make_client  # its TestClient: imported quietly
from tests.backend.rollout.conftest import PLAN


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The repo's plan, a state file in tmp, and a Prometheus nowhere (a closed port)."""
    monkeypatch.setenv("ROLLOUT_PLAN_FILE", str(PLAN))
    monkeypatch.setenv("ROLLOUT_STATE_FILE", str(tmp_path / "state.json"))
    monkeypatch.setenv("ROLLOUT_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    get_rollout_settings.cache_clear()
    with make_client(tmp_path, TOKEN) as client:
        yield client
    get_rollout_settings.cache_clear()


def test_rollout_needs_the_token_and_shows_the_plan_before_any_rollout(client: TestClient) -> None:
    """401 without the bearer token; with it: phase idle, every stage, every check with its threshold."""
    assert client.get("/api/admin/rollout").status_code == 401
    assert client.get("/api/admin/rollout", params={"token": TOKEN}).status_code == 401  # never from a URL
    view = client.get("/api/admin/rollout", headers=AUTH).json()
    assert view["phase"] == "idle" and view["stage"] is None and view["autopilot_running"] is False
    assert [s["percent"] for s in view["stages"]] == [1, 10, 50, 100]
    assert {c["name"] for c in view["checks"]} >= {"connection_success", "unexpected_disconnects"}
    assert all(c["value"] is None and c["threshold"] is not None for c in view["checks"])
    assert view["history"] == []


def test_an_action_without_a_rollout_is_404_and_an_unknown_one_too(client: TestClient) -> None:
    """Pausing nothing is 404 no_rollout (nothing written); a made-up action is 404; a body needs actor and reason."""
    body = {"actor": "Rita", "reason": "checking"}
    refused = client.post("/api/admin/rollout/pause", json=body, headers=AUTH)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "no_rollout"
    assert client.post("/api/admin/rollout/explode", json=body, headers=AUTH).status_code == 404
    assert client.post("/api/admin/rollout/pause", json={"actor": "Rita"}, headers=AUTH).status_code == 422

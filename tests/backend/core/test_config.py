"""Settings read from the environment."""

from __future__ import annotations

import pytest

from backend.core.config import Settings


def test_allowed_origins_accept_comma_list_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALLOWED_ORIGINS may be a comma-separated list or a JSON array."""
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://a:1, http://b:2")
    assert Settings().allowed_origins == ["http://a:1", "http://b:2"]
    monkeypatch.setenv("ALLOWED_ORIGINS", '["http://c:3"]')
    assert Settings().allowed_origins == ["http://c:3"]

"""`python -m backend`: uvicorn's own WebSocket pings only when the app's heartbeat does not find dead sockets."""

from __future__ import annotations

from backend.__main__ import ws_ping_interval
from backend.core.config import Settings


def test_uvicorn_pings_are_off_while_the_app_heartbeat_is_on_and_back_when_it_is_off() -> None:
    """With HEARTBEAT_TIMEOUT_SECONDS > 0 the app closes silent sockets itself; at 0 uvicorn pings every 20 s."""
    assert ws_ping_interval(Settings(heartbeat_timeout_seconds=75)) is None
    assert ws_ping_interval(Settings(heartbeat_timeout_seconds=0)) == 20.0

"""`promtool check metrics` finds nothing to complain about in the live /metrics of backend and frontend."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from backend.metrics import RolloutMetrics
from launchers.backend import Backend
from launchers.process import ROOT, free_port, stop_process, wait_http
from tests.support.client import WsPlayer, act, create_room, join_room

PROMTOOL = Path("/usr/bin/promtool")
pytestmark = pytest.mark.skipif(not PROMTOOL.exists(), reason="needs /usr/bin/promtool")

BRIDGE = """
import sys, time
from frontend.bridge_reports import record_report, track_session
from frontend.metrics import get_bridge_metrics

m = get_bridge_metrics(int(sys.argv[1]))
record_report(m, {"connect_attempts": {"success": 1, "failure": 1}, "reconnects": 1, "fallback_activations": 1,
                  "delivery": [["websocket", 0.01]], "render": [["websocket", 0.005]], "events": {"websocket": 1}})
track_session(m, "tab-1", "websocket", "connected")
print("ready", flush=True)
time.sleep(60)
"""


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)


async def test_backend_metrics_pass_promtool(backend: Backend) -> None:
    """After a little traffic (HTTP, WebSocket, polling), the backend's exposition passes promtool's linter."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        alice = await create_room(http, "Alice")
        bob = await join_room(http, alice.room_code, "Bob")
        player = WsPlayer(backend.ws_url, bob)
        await player.connect(0)
        await act(http, alice, "bots")
        await act(http, bob, "state", method="GET")
        await act(http, bob, "events?after=0&wait=0.1", method="GET")
        await asyncio.sleep(0.2)
        await player.close()
        text = (await http.get("/metrics")).text
    assert "parlor_ws_connection_attempts_total" in text
    result = promtool_check(text)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result


def test_frontend_bridge_metrics_pass_promtool() -> None:
    """The Streamlit process's bridge-metrics endpoint passes promtool's linter."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BRIDGE, str(port)], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        wait_http(f"http://127.0.0.1:{port}/metrics", proc=proc)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "parlor_bridge_fallback_activations_total" in text
        result = promtool_check(text)
        assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result
    finally:
        stop_process(proc)


def test_rollout_autopilot_metrics_pass_promtool() -> None:
    """The autopilot's exposition (every family, a check's verdicts set) passes promtool's linter."""
    registry = CollectorRegistry()
    metrics = RolloutMetrics(("connection_success", "average_latency"), registry=registry)
    metrics.check_verdict.labels("connection_success", "success").set(1)
    metrics.decisions.labels("advance").inc()
    text = generate_latest(registry).decode()
    assert "parlor_rollout_decisions_total" in text
    result = promtool_check(text)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result

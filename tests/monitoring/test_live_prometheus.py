"""Every dashboard query and recording rule, evaluated by a real Prometheus scraping a real backend and bridge.

A real uvicorn backend and the Streamlit side's bridge-metrics endpoint (`frontend.metrics.get_bridge_metrics`
in a subprocess) are scraped every second by /usr/bin/prometheus with the repo's rule files loaded. A short
game is played over WebSocket and legacy polling, with a forced reconnect (resume) and a fallback to
long-polling while the server refuses sockets; then each panel query, annotation and rule is checked.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from launchers.backend import Backend, run_backend
from launchers.process import ROOT, free_port, stop_process, wait_http
from launchers.prometheus import Prometheus, prometheus_available, run_prometheus
from monitoring.grafana.generate import annotation_queries, panel_queries
from tests.support.client import Seat, WsPlayer, act, create_room, join_room

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.slow,
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
]
RULES = sorted((ROOT / "monitoring" / "prometheus" / "rules").glob("*.yml"))
# Values Grafana would substitute; the rate window spans the whole test so every counter change is inside it.
GRAFANA_VARIABLES = {"__rate_interval": "5m", "__interval": "5s", "__range": "5m", "transport": ".*", "instance": ".*"}

# The Streamlit side's real path: get_bridge_metrics serves /metrics, record_report and track_session take the
# browser bridge's reports. Each line on stdin is one batch: connects (one failed), a drop, a reconnect, a
# fallback to long-poll, and delivery and render timings per transport.
BRIDGE = """
import sys
from frontend.bridge_reports import record_report, track_session
from frontend.metrics import get_bridge_metrics

m = get_bridge_metrics(int(sys.argv[1]))
print("ready", flush=True)
for _ in sys.stdin:
    record_report(m, {
        "connect_attempts": {"success": 3, "failure": 1},
        "disconnects": 1,
        "reconnects": 1,
        "fallback_activations": 1,
        "delivery": [["websocket", 0.012], ["websocket", 0.03], ["longpoll", 0.4]],
        "render": [["websocket", 0.006], ["longpoll", 0.02]],
        "events": {"websocket": 2, "longpoll": 1},
    })
    track_session(m, "tab-1", "websocket", "connected")
    track_session(m, "tab-2", "longpoll", "fallback")
    print("recorded", flush=True)
"""


def expand(expr: str) -> str:
    return re.sub(r"\$(\w+)", lambda match: GRAFANA_VARIABLES.get(match.group(1), match.group(0)), expr)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    with run_backend(tmp=tmp_path) as server:
        yield server


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", BRIDGE, str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        wait_http(f"http://127.0.0.1:{port}/metrics")
        yield port, proc
    finally:
        stop_process(proc)  # type: ignore[arg-type]


@pytest.fixture
def autopilot_port() -> int:
    return free_port()


@pytest.fixture
def prometheus(
    tmp_path: Path, backend: Backend, bridge: tuple[int, subprocess.Popen[str]], autopilot_port: int
) -> Iterator[Prometheus]:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in RULES],
        "scrape_configs": [
            {"job_name": "parlor-backend", "static_configs": [{"targets": [f"127.0.0.1:{backend.port}"]}]},
            {"job_name": "parlor-frontend", "static_configs": [{"targets": [f"127.0.0.1:{bridge[0]}"]}]},
            {"job_name": "parlor-rollout", "static_configs": [{"targets": [f"127.0.0.1:{autopilot_port}"]}]},
        ],
    }
    with run_prometheus(config, tmp_path) as server:
        yield server


@pytest.fixture
def autopilot(tmp_path: Path, prometheus: Prometheus, autopilot_port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The rollout autopilot on a flag file of its own (no backend reads it), warming up for the whole test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLLOUT_", "FLAGS_"))}
    env.update(
        {
            "FLAGS_FILE": str(tmp_path / "autopilot" / "flags.json"),
            "FLAGS_AUDIT_LOG": str(tmp_path / "autopilot" / "audit.jsonl"),
            "ROLLOUT_STATE_FILE": str(tmp_path / "autopilot" / "state.json"),
            "ROLLOUT_PROMETHEUS_URL": prometheus.url,
            "ROLLOUT_METRICS_PORT": str(autopilot_port),
            "ROLLOUT_INTERVAL_SECONDS": "1",
            "ROLLOUT_WARMUP_SECONDS": "600",
        }
    )
    with open(tmp_path / "autopilot.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.rollout", "start"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_http(f"http://127.0.0.1:{autopilot_port}/metrics", proc=proc)  # type: ignore[arg-type]
        yield proc
    finally:
        stop_process(proc)  # type: ignore[arg-type]


def record_bridge_reports(bridge: subprocess.Popen[str]) -> None:
    assert bridge.stdin is not None and bridge.stdout is not None
    bridge.stdin.write("report\n")
    bridge.stdin.flush()
    assert bridge.stdout.readline().strip() == "recorded"


async def play(backend: Backend) -> tuple[list[WsPlayer], Seat]:
    """A short game: two WebSocket players, a legacy poller and a bot; a resume; a fallback to long-polling."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        host = await create_room(http, "Ann")
        guest = await join_room(http, host.room_code, "Bob")
        poller = await join_room(http, host.room_code, "Cyd")
        sockets = [WsPlayer(backend.ws_url, host), WsPlayer(backend.ws_url, guest)]
        for player in sockets:
            await player.connect()
        bot = (await act(http, host, "bots")).json()["player_id"]
        assert (await act(http, host, "start")).status_code == 200
        for seat in (host, guest):
            assert (await act(http, seat, "clues", {"text": "orchard"})).status_code == 200
        for _ in range(3):
            assert (await act(http, poller, "state", method="GET")).status_code == 200

        # Forced reconnect: the guest drops and resumes from the last event it holds.
        resume_from = sockets[1].last_event_id
        await sockets[1].close()
        welcome = await sockets[1].connect(last_event_id=resume_from)
        assert welcome["data"]["resumed_from"] == resume_from

        # Fallback: the server cuts and refuses sockets, so the host long-polls until they are allowed again.
        assert (await http.post("/api/test/websocket", json={"refuse": True})).status_code == 200
        for player in sockets:
            await player.wait_closed()
        refused = WsPlayer(backend.ws_url, host)
        with pytest.raises((websockets.InvalidHandshake, websockets.ConnectionClosed)):
            await asyncio.wait_for(refused.connect(), 5)
        after = sockets[0].last_event_id or 0
        for _ in range(2):
            resp = await act(http, host, f"events?after={after}&wait=0.3", method="GET")
            assert resp.status_code == 200
            after = resp.json()["last_event_id"]
        assert (await http.post("/api/test/websocket", json={"refuse": False})).status_code == 200
        for player in sockets:
            await player.connect(last_event_id=after)

        assert (await act(http, host, "advance")).status_code == 200
        for seat in (host, guest, poller):
            await act(http, seat, "votes", {"target_id": bot})
        assert (await act(http, poller, "state", method="GET")).status_code == 200
        return sockets, poller


async def keep_polling(backend: Backend, seat: Seat, seconds: float) -> None:
    """The legacy client polls every 0.4 s, so HTTP series move across several scrapes."""
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert (await act(http, seat, "state", method="GET")).status_code == 200
            await asyncio.sleep(0.4)


async def test_every_dashboard_query_and_rule_returns_data(
    backend: Backend,
    bridge: tuple[int, subprocess.Popen[str]],
    prometheus: Prometheus,
    autopilot: subprocess.Popen[bytes],
) -> None:
    """Each panel query, annotation and rule parses in real Prometheus and each panel and rule has data."""
    prometheus.wait_for('up{job=~"parlor-backend|parlor-frontend|parlor-rollout"} == 1', count=3)
    record_bridge_reports(bridge[1])
    sockets, poller = await play(backend)
    record_bridge_reports(bridge[1])
    try:
        # Let a few scrapes and rule evaluations see the game, while the sockets stay open.
        prometheus.wait_for("parlor:fanout_latency_seconds:avg_rate5m", count=1)
        prometheus.wait_for('parlor_ws_disconnects_total{reason!="client_close"} > 0', count=1)
        await keep_polling(backend, poller, 3.0)

        queries = panel_queries()
        assert len(queries) > 40
        empty = [(dash, title, expr) for dash, title, expr in queries if not prometheus.query(expand(expr))]
        assert not empty, "panels without data:\n" + "\n".join(map(str, empty))
        for _, _, expr in annotation_queries():
            prometheus.query(expand(expr))  # parses; empty is fine (no flag flip or restart happened)

        rules = prometheus.rules()
        assert {rule["health"] for rule in rules} == {"ok"}, [r for r in rules if r["health"] != "ok"]
        records = [rule["name"] for rule in rules if rule["type"] == "recording"]
        assert len(records) == sum(text.count("- record:") for text in (p.read_text() for p in RULES))
        no_data = [name for name in records if not prometheus.query(name)]
        assert not no_data, f"recording rules without data: {no_data}"

        # The measurements behind the criteria are really there: accepted sockets, a resume, a fallback.
        assert float(prometheus.query("parlor:ws_connection_success:ratio_rate5m")[0]["value"][1]) < 1
        assert prometheus.query('increase(parlor_ws_resumes_total{recovered="true"}[5m]) > 0')
        assert prometheus.query("increase(parlor_longpoll_requests_total[5m]) > 0")
        assert prometheus.query("increase(parlor_bridge_fallback_activations_total[5m]) > 0")
    finally:
        for player in sockets:
            await player.close()

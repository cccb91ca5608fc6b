"""Smoke runs of the load-test harness: every scenario runs and yields numbers; never a timing threshold.

The benchmarks run as programs (`python -m loadtest.x --json ...`), as `make bench-quick` runs them, so the
suite never imports loadtest/.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backend.realtime.protocol import Transport
from launchers.process import ROOT
from tests.conftest import scaled

pytestmark = pytest.mark.slow
QUICK_USERS = (1, 10)


def _run(module: str, *args: str, timeout: float) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=scaled(timeout)
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_bench_quick_runs_every_scenario_without_failed_requests(tmp_path: Path) -> None:
    """`bench --quick` covers each transport at 1 and 10 players, with figures and no failed request."""
    report, out = tmp_path / "benchmarks.md", tmp_path / "bench.json"
    _run(
        "loadtest.bench",
        "--quick",
        "--report",
        str(report),
        "--img-dir",
        str(tmp_path),
        "--json",
        str(out),
        timeout=600,
    )
    results: list[dict[str, Any]] = json.loads(out.read_text())
    assert {(s["transport"], s["users"]) for s in results} == {(t.value, n) for t in Transport for n in QUICK_USERS}
    for s in results:
        where = (s["transport"], s["users"], s["errors"])
        assert s["failures"] == 0, where
        assert s["requests"] > 0 and s["deliveries"] > 0, where
        # A 3 s window can fall in a quiet stretch of both games (clues in, everyone waiting out the discussion
        # clock): long-poll and WebSocket then have nothing to carry. Full runs measure 10 s windows.
        assert s["messages_per_s"] >= 0 and s["cpu_percent"] >= 0 and s["rss_mib"] > 0
        assert not math.isnan(s["p50_ms"])
        if s["transport"] == Transport.WEBSOCKET:
            assert s["ws_connects"] == s["users"] and s["ws_connect_failures"] == 0 and s["disconnects"] == 0
    assert all(s["messages_per_s"] > 0 for s in results if s["transport"] == Transport.POLLING)  # polls never pause
    assert "<!-- BEGIN transports -->" in report.read_text()
    assert all((tmp_path / f"bench-{name}.png").stat().st_size > 0 for name in ("requests", "cpu", "latency"))


def test_fanout_quick_delivers_every_event(tmp_path: Path) -> None:
    """5 rooms x 10 sockets for 5 s: every connection made, every clue delivered to every player, figures written."""
    report, out = tmp_path / "benchmarks.md", tmp_path / "fanout.json"
    _run(
        "loadtest.fanout",
        "--rooms",
        "5",
        "--players",
        "10",
        "--seconds",
        "5",
        "--report",
        str(report),
        "--json",
        str(out),
        timeout=300,
    )
    result = json.loads(out.read_text())
    assert result["connected"] == 50 and result["failed"] == 0 and result["lost"] == 0
    assert result["holes"] == 0  # every frame's prev was the last id its socket held
    assert result["publish_failed"] == 0 and result["published"] == 25
    assert result["delivered"] == result["expected"] == 250
    assert not math.isnan(result["p99_ms"]) and result["cpu_seconds"] >= 0
    assert "<!-- BEGIN fanout -->" in report.read_text()


@pytest.mark.parametrize("ingest", ["ws", "rest"])
def test_capacity_quick_drives_every_server_through_a_room_member(tmp_path: Path, ingest: str) -> None:
    """2 rooms x 3 sockets for 1 s warm-up then 2 s measured on Parlor, the floor and socket.io: one member of each
    room sends every event over its socket (Parlor: or over REST), each is acked, all 3 members get every one,
    and the measured figures count the window's frames only."""
    out = tmp_path / "capacity.json"
    args = ("--active-rooms", "2", "--per-room", "3", "--seconds", "2", "--warmup", "1", "--runs", "1", "--procs", "1")
    _run(
        "loadtest.capacity",
        *args,
        "--parlor-ingest",
        ingest,
        "--skip-idle",
        "--no-report",
        "--json",
        str(out),
        timeout=300,
    )
    (run,) = json.loads(out.read_text())
    assert set(run) == {"parlor", "floor", "socketio"}
    assert ("command" in run["parlor"]["ingest"]) == (ingest == "ws")
    for name, result in run.items():
        assert result["connected"] == 6 and result["failed"] == 0 and result["lost"] == 0, name
        assert result["published"] == 4 and result["publish_failed"] == 0, name  # every event acked
        assert result["delivered"] == result["expected"] == 12, name  # the speaker's own copy counted too
        assert result["warm_events"] == 2 and result["delivered_all"] == 18, name  # the warm-up's left out above
        # every server carries the heap probe: its collections in the window read, the set-up's debt paid before
        assert result["full_collections"] == 0 and result["collector_ms"] >= 0, name
        assert result["debt_paid_ms"] > 0 and result["tracked_per_conn"] > 0, name

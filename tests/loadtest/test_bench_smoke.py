"""Smoke runs of the load-test harness: every scenario runs and yields numbers; never a timing threshold."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from loadtest import bench, fanout

pytestmark = pytest.mark.slow


def test_bench_quick_runs_every_scenario_without_failed_requests(tmp_path: Path) -> None:
    """`bench --quick` covers each transport at 1 and 10 players, with figures and no failed request."""
    report = tmp_path / "benchmarks.md"
    results = bench.main(["--quick", "--report", str(report), "--img-dir", str(tmp_path)])
    assert {(s.transport, s.users) for s in results} == {(t, n) for t in bench.TRANSPORTS for n in bench.QUICK_USERS}
    for s in results:
        assert s.failures == 0, (s.transport, s.users, s.errors)
        assert s.requests > 0 and s.deliveries > 0, (s.transport, s.users, s.errors)
        # A 3 s window can fall in a quiet stretch of both games (clues in, everyone waiting out the discussion
        # clock): long-poll and WebSocket then have nothing to carry. Full runs measure 10 s windows.
        assert s.messages_per_s >= 0 and s.cpu_percent >= 0 and s.rss_mib > 0
        assert not math.isnan(s.p50_ms)
        if s.transport == "websocket":
            assert s.ws_connects == s.users and s.ws_connect_failures == 0 and s.disconnects == 0
    assert all(s.messages_per_s > 0 for s in results if s.transport == "polling")  # polls never pause
    assert "<!-- BEGIN transports -->" in report.read_text()
    assert all((tmp_path / f"bench-{name}.png").stat().st_size > 0 for name in ("requests", "cpu", "latency"))


def test_fanout_quick_delivers_every_event(tmp_path: Path) -> None:
    """5 rooms x 10 sockets for 5 s: every connection made, every clue delivered to every player, figures written."""
    result = fanout.run_parlor(5, 10, 5)
    assert result.fleet.connected == 50 and result.fleet.failed == 0 and result.fleet.lost == 0
    assert result.publish_failed == 0 and result.published == 25
    assert result.fleet.delivered == result.expected == 250
    assert not math.isnan(result.ms(99)) and result.cpu_seconds >= 0
    report = tmp_path / "benchmarks.md"
    fanout.update_section("fanout", fanout.markdown(result, "smoke"), report)
    assert "<!-- BEGIN fanout -->" in report.read_text()

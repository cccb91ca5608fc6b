"""The autopilot against real parts: `python -m backend.rollout start` with the repo's plan, Debian's Prometheus
evaluating the repo's recording rules every second over a real backend and its cohort's real WebSockets.

Only the timing is shortened, through settings (interval 1 s, warm-up 2 s, hold 1 s unless a test says
otherwise); the plan's queries, thresholds and limits are the committed ones.
"""

from __future__ import annotations

import itertools
import os
import signal
import time

import httpx
import pytest

from backend.rollout.engine import Phase, Verdict
from tests.backend.rollout.conftest import Pilot

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def test_a_healthy_rollout_walks_every_stage_to_100_percent(pilot: Pilot) -> None:
    """1 -> 10 -> 50 -> 100 %, each step one audit record by the autopilot with the passing values; exit 0."""
    proc = pilot.launch()
    assert proc.wait(90) == 0, pilot.logs()
    state = pilot.state()
    assert state.phase == Phase.COMPLETED
    assert pilot.flag() == {"enabled": True, "percent": 100}

    records = pilot.records()
    assert [(r["action"], r["after"]["percent"]) for r in records] == [
        ("autopilot-start", 1),
        ("autopilot-advance", 10),
        ("autopilot-advance", 50),
        ("autopilot-advance", 100),
        ("autopilot-complete", 100),
    ]
    assert {r["actor"] for r in records} == {"rollout-autopilot"}
    for before, after in itertools.pairwise(records):
        assert after["before"] == before["after"]  # an unbroken chain
    for record in records[1:]:
        assert "connection_success: parlor:ws_connection_success:ratio_rate5m = " in record["reason"]
        assert "(must be >= 0.95)" in record["reason"]
    # The autopilot judged on real connections: the cohort was never refused while it was rolled out.
    assert pilot.live.traffic.accepted > 20


def test_a_fault_mid_stage_rolls_back_within_two_evaluations(pilot: Pilot) -> None:
    """Handshakes refused mid-stage: rolled back to the safe state at most two evaluations after Prometheus
    shows it, with the failing query, its value and the threshold in the audit record."""
    proc = pilot.launch(hold=600)
    pilot.wait("a passing stage 1", lambda s: s.hold_started_at is not None)
    injected = time.time()
    assert httpx.post(f"{pilot.live.backend.url}/api/test/websocket", json={"refuse": True}).status_code == 200

    assert proc.wait(30) == 0, pilot.logs()
    state = pilot.state()
    assert state.phase == Phase.ROLLED_BACK
    # Until a scrape and a rule evaluation carry the fault into Prometheus the checks still pass; the first
    # evaluation that sees it fails, the next one rolls back (failure_limit 1).
    since = [e.verdict for e in state.recent if e.at >= injected]
    first = since.index(Verdict.FAILURE)
    assert since[first:] == [Verdict.FAILURE, Verdict.FAILURE], since
    assert Verdict.SUCCESS in [e.verdict for e in state.recent if e.at < injected]
    assert pilot.flag() == {"enabled": False, "percent": 1}  # the plan's safe state: disabled, percent kept

    rollback = pilot.records()[-1]
    assert rollback["action"] == "autopilot-rollback"
    assert rollback["after"] == {"enabled": False, "percent": 1}
    reason = rollback["reason"]
    assert "connection_success: parlor:ws_connection_success:ratio_rate5m = 0." in reason
    assert "(must be >= 0.95)" in reason
    assert "failure limit 1" in reason


def test_prometheus_stopped_mid_stage_pauses_and_never_advances(pilot: Pilot) -> None:
    """With Prometheus gone every evaluation is inconclusive: the autopilot pauses for a person, keeps the flag
    where it was and keeps running (waiting) without ever advancing."""
    proc = pilot.launch(hold=2)
    pilot.wait("a passing stage 1", lambda s: s.hold_started_at is not None)
    pilot.prometheus.server.stop()
    state = pilot.wait("paused", lambda s: s.phase == Phase.PAUSED, timeout=30)
    assert state.stage == 0 and state.percent == 1
    assert state.last_evaluation is not None
    assert {check.verdict for check in state.last_evaluation.checks} == {Verdict.INCONCLUSIVE}
    assert "Prometheus unreachable" in state.reason

    time.sleep(3)  # longer than the hold: a running autopilot would have advanced by now
    assert proc.poll() is None, "a paused autopilot waits for a person"
    assert pilot.state().phase == Phase.PAUSED
    assert pilot.flag() == {"enabled": True, "percent": 1}
    actions = [r["action"] for r in pilot.records()]
    assert actions == ["autopilot-start", "autopilot-pause"]
    assert "inconclusive evaluations > limit 3" in pilot.records()[-1]["reason"]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_a_killed_autopilot_continues_its_stage_and_a_second_one_refuses(pilot: Pilot) -> None:
    """While one autopilot runs, a second on the same flag exits 3 naming it. SIGKILL mid-stage, restart: the
    same rollout carries on with the same stage (no new start) and advances from it."""
    percents = [1, 10, 50, 100]
    first = pilot.launch(hold=4)
    started = pilot.wait("the first autopilot", lambda s: s.phase == Phase.RUNNING)
    second = pilot.cli("start")
    assert second.returncode == 3, second.stdout + second.stderr
    assert "another autopilot is already running" in second.stderr and str(first.pid) in second.stderr

    pilot.wait("mid stage 2", lambda s: s.stage >= 1 and s.hold_started_at is not None)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    killed = pilot.state()
    assert killed.phase == Phase.RUNNING and pilot.flag() == {"enabled": True, "percent": percents[killed.stage]}
    assert killed.stage < 3, "killed too late to see the same stage continue; the machine is too slow"

    restarted_at = time.time()
    restarted = pilot.launch(hold=2)
    state = pilot.wait("the next stage after the restart", lambda s: s.stage == killed.stage + 1)
    assert state.started_at == started.started_at  # the same rollout
    assert {e.stage for e in state.recent if e.at > restarted_at} == {killed.stage}  # it judged that stage again
    records = pilot.records()
    steps = [(r["action"], r["before"]["percent"], r["after"]["percent"]) for r in records]
    assert steps[0] == ("autopilot-start", 0, 1)
    assert steps[1:] == [("autopilot-advance", a, b) for a, b in itertools.pairwise(percents[: killed.stage + 2])]
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(10) == 0

"""A person's commands (`status`, `pause`, `resume`, `promote`, `abort`, `--dry-run`) on tmp files, in-process.

They go through the same state lock, flag writer and audit log as the running autopilot; `--dry-run` writes
nothing. The live tests (test_autopilot_live.py) cover `start` against real Prometheus.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.flags import read_flag_file, write_flag_file
from backend.rollout.__main__ import main
from backend.rollout.engine import Autopilot, Phase
from backend.rollout.plan import load_plan
from backend.rollout.runner import Controller
from backend.rollout.settings import get_rollout_settings
from backend.rollout.store import AlreadyRunningError, StateStore, runner_alive, runner_lock
from launchers.process import free_port, wait_http
from tests.backend.rollout.conftest import PLAN, audit, clean_env


class Files:
    def __init__(self, tmp: Path) -> None:
        self.flags = tmp / "flags.json"
        self.audit = tmp / "audit.jsonl"
        self.state = tmp / "state.json"

    def args(self, *command: str) -> list[str]:
        return [
            "--plan",
            str(PLAN),
            "--file",
            str(self.flags),
            "--audit-log",
            str(self.audit),
            "--state",
            str(self.state),
            *command,
        ]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Files]:
    """A rollout begun at stage 1 (1 %) through the real writer; Prometheus is nowhere (a closed port)."""
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("ROLLOUT_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ROLLOUT_METRICS_PORT", "0")
    get_rollout_settings.cache_clear()
    files = Files(tmp_path)
    write_flag_file(files.flags, enabled=False, percent=0)
    plan = load_plan(PLAN)
    store = StateStore(files.state)
    with store.locked():
        Controller(plan, store, files.flags, files.audit).commit(Autopilot(plan).begin(1000.0), "rollout-autopilot")
    yield files
    get_rollout_settings.cache_clear()  # the next test reads its own environment


def state(files: Files) -> dict[str, object]:
    return json.loads(files.state.read_text())


def test_status_prints_phase_stage_and_whether_an_autopilot_runs(
    files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    """status (text and --json) shows phase, stage, percent and that no autopilot holds the lock."""
    assert main(files.args("status")) == 0
    out = capsys.readouterr().out
    assert "phase:         running" in out and "stage:         1/4 (1 %)" in out
    assert "autopilot:     not running" in out
    assert main(files.args("status", "--json")) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["autopilot_running"] is False and body["state"]["percent"] == 1


def test_pause_and_resume_are_audited_as_the_person_and_leave_the_flag(
    files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    """pause and resume: audit records by $USER with the reason, the flag untouched; a second resume exits 1."""
    assert main(files.args("pause", "--reason", "watching a deploy")) == 0
    assert state(files)["phase"] == Phase.PAUSED
    assert main(files.args("resume")) == 0
    assert "no autopilot is running" in capsys.readouterr().out
    assert state(files)["phase"] == Phase.RUNNING
    records = audit(files.audit)
    assert [(r["action"], r["actor"]) for r in records] == [
        ("autopilot-start", "rollout-autopilot"),
        ("autopilot-pause", "alice"),
        ("autopilot-resume", "alice"),
    ]
    assert records[1]["before"] == records[1]["after"] == {"enabled": True, "percent": 1}
    assert "watching a deploy" in records[1]["reason"]
    assert main(files.args("resume")) == 1  # not paused any more
    assert "cannot resume" in capsys.readouterr().err


def test_promote_skips_the_hold_and_abort_goes_to_the_safe_state(files: Files) -> None:
    """promote moves to 10 % at once; abort disables the flag (percent kept); an ended rollout refuses commands."""
    assert main(files.args("promote", "--actor", "bob", "--reason", "enough data")) == 0
    assert read_flag_file(files.flags).to_dict() == {"enabled": True, "percent": 10}
    assert main(files.args("abort", "--reason", "incident 42")) == 0
    assert read_flag_file(files.flags).to_dict() == {"enabled": False, "percent": 10}
    assert state(files)["phase"] == Phase.ABORTED
    last = audit(files.audit)[-1]
    assert (last["action"], last["actor"]) == ("autopilot-abort", "alice") and "incident 42" in last["reason"]
    assert main(files.args("promote")) == 1  # an ended rollout takes no more commands


def test_abort_leave_flag_ends_the_rollout_for_a_person_to_take_over(files: Files) -> None:
    """abort --leave-flag ends the rollout with the flag left where it was (a person takes over)."""
    assert main(files.args("abort", "--leave-flag")) == 0
    assert read_flag_file(files.flags).to_dict() == {"enabled": True, "percent": 1}
    assert state(files)["phase"] == Phase.ABORTED


def test_dry_run_prints_the_decision_and_writes_nothing(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run: promote says what it would do; start evaluates once (Prometheus down: inconclusive)."""
    before_state, before_flag = files.state.read_text(), files.flags.read_text()
    assert main(files.args("--dry-run", "promote")) == 0
    assert "dry run: would promote: autopilot promote to stage 2/4 (10 %)" in capsys.readouterr().out
    assert main(files.args("start", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "evaluation now: inconclusive" in out and "Prometheus unreachable" in out
    assert files.state.read_text() == before_state and files.flags.read_text() == before_flag
    assert len(audit(files.audit)) == 1


def test_a_finished_rollout_is_not_restarted_without_new(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    """start after an ended rollout exits 1 and points at --new, writing nothing."""
    assert main(files.args("abort")) == 0
    assert main(files.args("start")) == 1
    assert "start --new" in capsys.readouterr().err
    assert read_flag_file(files.flags).enabled is False


def test_the_runner_lock_is_one_per_flag_file(files: Files) -> None:
    """While one holder has the flag's autopilot lock a second is refused, naming the holder; then it is free."""
    with runner_lock(files.flags):
        assert runner_alive(files.flags)
        with pytest.raises(AlreadyRunningError, match="another autopilot is already running"), runner_lock(files.flags):
            pass
        assert main(files.args("start")) == 3
    assert not runner_alive(files.flags)


def test_a_saved_rollout_the_edited_plan_no_longer_has_is_refused(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan's stages were edited under a running rollout: start and commands refuse (exit 1), saying why."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.read_text().replace("  - percent: 1\n    hold: 1h\n", "  - percent: 5\n    hold: 1h\n"))
    args = files.args("start")
    args[args.index(str(PLAN))] = str(plan)
    assert main(args) == 1
    assert "which the plan no longer has" in capsys.readouterr().err
    assert read_flag_file(files.flags).to_dict() == {"enabled": True, "percent": 1}


def test_start_linger_keeps_an_ended_rollout_visible_instead_of_exiting(files: Files) -> None:
    """`start --linger` (compose's command) on an ended rollout stays up serving its phase on /metrics, starts
    nothing, and leaves on SIGTERM with 0."""
    assert main(files.args("abort")) == 0
    port = free_port()
    env = {**clean_env(), "ROLLOUT_METRICS_PORT": str(port), "USER": "tester"}
    proc = subprocess.Popen([sys.executable, "-m", "backend.rollout", *files.args("start", "--linger")], env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics", proc=proc)  # type: ignore[arg-type]
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'parlor_rollout_phase{phase="aborted"} 1.0' in text
        assert proc.poll() is None
        assert read_flag_file(files.flags).enabled is False and len(audit(files.audit)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_history_lists_the_audit_chain_and_watch_stops_when_the_rollout_ends(
    files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    """history: every decision with who, what and why (text and --json); status --watch prints until it ends."""
    assert main(files.args("pause", "--reason", "deploy window")) == 0
    assert main(files.args("abort", "--reason", "incident 7")) == 0
    capsys.readouterr()
    assert main(files.args("history")) == 0
    out = capsys.readouterr().out
    assert out.index("autopilot-start") < out.index("autopilot-pause") < out.index("autopilot-abort")
    assert "alice" in out and "incident 7" in out
    assert main(files.args("history", "--json", "--limit", "2")) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in records] == ["autopilot-pause", "autopilot-abort"]
    # the rollout has ended, so --watch prints the status once and returns instead of waiting
    assert main(files.args("status", "--watch", "--interval", "0.1")) == 0
    assert "phase:         aborted" in capsys.readouterr().out

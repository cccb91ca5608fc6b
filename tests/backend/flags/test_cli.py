"""`python -m backend.flags` run as a real subprocess against tmp files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.flags import FlagState, read_flag_file, write_flag_file

ROOT = Path(__file__).parents[3]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.flags", *args],
        cwd=ROOT,
        env={**os.environ, "USER": "tester", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=True, percent=10)
    return flags, tmp_path / "var" / "audit.jsonl"


def audit_lines(audit: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in audit.read_text().splitlines()]


def test_status_prints_state_and_kill_switch(paths: tuple[Path, Path]) -> None:
    """status prints enabled, percent and the WEBSOCKET_ENABLED kill switch."""
    flags, _ = paths
    result = run_cli("--file", str(flags), "status", env={"WEBSOCKET_ENABLED": "false"})
    assert result.returncode == 0, result.stderr
    assert "enabled:     true" in result.stdout
    assert "percent:     10" in result.stdout
    assert "WEBSOCKET_ENABLED=false" in result.stdout


def test_set_rollout_rewrites_the_file_and_appends_an_audit_line(paths: tuple[Path, Path]) -> None:
    """set-rollout 50 writes 50 % and appends one audit record with actor, before, after and reason."""
    flags, audit = paths
    result = run_cli("--file", str(flags), "--audit-log", str(audit), "set-rollout", "50", "--reason", "stage 2")
    assert result.returncode == 0, result.stderr
    assert read_flag_file(flags) == FlagState(enabled=True, percent=50)
    [record] = audit_lines(audit)
    assert record["actor"] == "tester"
    assert record["action"] == "set-rollout"
    assert record["before"] == {"enabled": True, "percent": 10}
    assert record["after"] == {"enabled": True, "percent": 50}
    assert record["reason"] == "stage 2"
    assert isinstance(record["ts"], str) and record["ts"].startswith("20")


def test_disable_then_enable_keeps_the_percent(paths: tuple[Path, Path]) -> None:
    """disable turns the flag off and enable turns it back on at the same percent, two audit lines."""
    flags, audit = paths
    common = ["--file", str(flags), "--audit-log", str(audit)]
    assert run_cli(*common, "disable", "--reason", "rollback", "--actor", "oncall").returncode == 0
    assert read_flag_file(flags) == FlagState(enabled=False, percent=10)
    assert run_cli(*common, "enable").returncode == 0
    assert read_flag_file(flags) == FlagState(enabled=True, percent=10)
    assert [(r["action"], r["actor"]) for r in audit_lines(audit)] == [("disable", "oncall"), ("enable", "tester")]


def test_paths_may_follow_the_command(paths: tuple[Path, Path]) -> None:
    """--file and --audit-log work after the subcommand too."""
    flags, audit = paths
    result = run_cli("set-rollout", "0", "--file", str(flags), "--audit-log", str(audit))
    assert result.returncode == 0, result.stderr
    assert read_flag_file(flags).percent == 0


@pytest.mark.parametrize("argument", ["150", "-1", "abc", "10.5"])
def test_bad_rollout_exits_2_and_writes_nothing(paths: tuple[Path, Path], argument: str) -> None:
    """set-rollout outside 0..100 or not an integer exits 2 with a message; file and audit untouched."""
    flags, audit = paths
    before = flags.read_bytes()
    result = run_cli("--file", str(flags), "--audit-log", str(audit), "set-rollout", argument)
    assert result.returncode == 2
    assert "between 0 and 100" in result.stderr
    assert flags.read_bytes() == before
    assert not audit.exists()


def test_unknown_command_exits_2(paths: tuple[Path, Path]) -> None:
    """An unknown command exits 2 naming the valid ones and leaves the file alone."""
    flags, _ = paths
    before = flags.read_bytes()
    result = run_cli("--file", str(flags), "launch")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert flags.read_bytes() == before

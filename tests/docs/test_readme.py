"""The README keeps its promises: two commands first, every setting documented, CI calls the test command."""

from __future__ import annotations

from pathlib import Path

from backend.core.config import Settings
from backend.rollout.settings import RolloutSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_backend_setting_is_in_the_table() -> None:
    """Each Settings field appears, upper-cased, in the README's settings table."""
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, missing


def test_every_rollout_setting_is_in_the_table() -> None:
    """Each RolloutSettings field appears as ROLLOUT_<NAME> in the README's autopilot settings table."""
    missing = [f"ROLLOUT_{name.upper()}" for name in RolloutSettings.model_fields]
    missing = [name for name in missing if f"`{name}`" not in README]
    assert not missing, missing


def test_readme_starts_with_run_and_test_commands_and_ci_calls_the_test_one() -> None:
    """The first two code blocks are the run and test commands; .ci/run executes the test command."""
    blocks = [b.split("```", 1)[0].strip() for b in README.split("```bash\n")[1:3]]
    assert blocks == ["bash scripts/run.sh", "bash scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_log_setting_is_in_the_table() -> None:
    """LOG_FORMAT and LOG_LEVEL (parlor_runtime.logs, read by every command) are in the README."""
    from backend.core.logs import LogSettings

    missing = [name.upper() for name in LogSettings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, missing

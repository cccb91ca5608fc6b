"""The flag file: flagd format, validation and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.flags import FLAG_KEY, FlagState, read_flag_file, write_flag_file


def test_written_file_reads_back(tmp_path: Path) -> None:
    """What write_flag_file writes, read_flag_file returns."""
    path = tmp_path / "flags.json"
    write_flag_file(path, enabled=False, percent=37)
    assert read_flag_file(path) == FlagState(enabled=False, percent=37)


def test_written_file_is_flagd_fractional_with_websocket_first(tmp_path: Path) -> None:
    """The file is a flagd definition whose fractional rollout lists websocket first (sticky rollouts)."""
    path = tmp_path / "flags.json"
    write_flag_file(path, enabled=True, percent=10)
    flag = json.loads(path.read_text())["flags"][FLAG_KEY]
    assert flag["state"] == "ENABLED"
    assert flag["defaultVariant"] == "polling"
    assert flag["targeting"] == {"fractional": [["websocket", 10], ["polling", 90]]}


def test_committed_default_is_enabled_at_100() -> None:
    """deploy/flags/flags.json ships the flag on for everyone."""
    committed = Path(__file__).parents[3] / "deploy" / "flags" / "flags.json"
    assert read_flag_file(committed) == FlagState(enabled=True, percent=100)


@pytest.mark.parametrize(
    ("enabled", "percent"),
    [(True, 101), (True, -1), (True, 50.0), (True, "50"), (True, True), ("yes", 50), (None, 50)],
)
def test_bad_values_raise_and_leave_the_file_untouched(tmp_path: Path, enabled: object, percent: object) -> None:
    """Invalid enabled/percent raise ValueError and the existing file keeps its bytes."""
    path = tmp_path / "flags.json"
    write_flag_file(path, enabled=True, percent=10)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"percent|enabled"):
        write_flag_file(path, enabled=enabled, percent=percent)  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["flags.json"]


def test_other_flags_in_the_file_are_kept(tmp_path: Path) -> None:
    """Rewriting the rollout keeps other flags defined in the same file."""
    path = tmp_path / "flags.json"
    other = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"}
    path.write_text(json.dumps({"flags": {"other-flag": other}}))
    write_flag_file(path, enabled=True, percent=20)
    assert json.loads(path.read_text())["flags"]["other-flag"] == other
    assert read_flag_file(path).percent == 20


def test_back_to_back_writes_get_increasing_mtimes(tmp_path: Path) -> None:
    """Each write moves the mtime forward, so flagd's mtime watcher never misses a quick second change."""
    path = tmp_path / "flags.json"
    write_flag_file(path, enabled=True, percent=10)
    first = path.stat().st_mtime
    write_flag_file(path, enabled=True, percent=20)
    assert path.stat().st_mtime > first


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", json.dumps({"flags": {}}), json.dumps({"flags": {FLAG_KEY: {"state": "MAYBE"}}})],
)
def test_unreadable_file_raises_value_error(tmp_path: Path, content: str) -> None:
    """A file that does not describe the flag raises ValueError with the reason."""
    path = tmp_path / "flags.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        read_flag_file(path)

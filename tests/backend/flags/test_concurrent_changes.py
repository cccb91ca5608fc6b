"""Two people flipping the flag at once: every change lands, and the audit log is one unbroken chain."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from backend.flags import change_flag, read_flag_file, write_flag_file

ROUNDS = 25


def _toggler(flags: str, audit: str) -> None:
    """One release manager: enable, disable, enable... (only `enabled` changes)."""
    for i in range(ROUNDS):
        action = "enable" if i % 2 == 0 else "disable"
        change_flag(Path(flags), Path(audit), action=action, actor="toggler", reason=None, enabled=i % 2 == 0)


def _roller(flags: str, audit: str) -> None:
    """Another one, at the same time: set-rollout 1, 2, 3... (only `percent` changes)."""
    for i in range(1, ROUNDS + 1):
        change_flag(Path(flags), Path(audit), action="set-rollout", actor="roller", reason=None, percent=i)


def test_concurrent_changes_are_serialised(tmp_path: Path) -> None:
    flags, audit = tmp_path / "flags.json", tmp_path / "audit.jsonl"
    write_flag_file(flags, enabled=False, percent=0)
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(fn, str(flags), str(audit)) for fn in (_toggler, _roller)]
        for future in futures:
            future.result(timeout=120)

    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(records) == 2 * ROUNDS
    # Each change started from the one before it: no read-modify-write saw a stale file.
    for previous, record in itertools.pairwise(records):
        assert record["before"] == previous["after"], (previous, record)
    # So neither person's last change was undone by the other's.
    final = read_flag_file(flags)
    assert final.to_dict() == records[-1]["after"]
    assert final.percent == ROUNDS and final.enabled is ((ROUNDS - 1) % 2 == 0)

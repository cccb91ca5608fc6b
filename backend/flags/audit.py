"""Flag changes made by people: validate, write the flag file, append one JSON line to the audit log.

The release CLI (`python -m backend.flags`) and the admin API both go through `change_flag`, so every
change is validated the same way and leaves the same trail. Changes are serialised with an exclusive lock on
a file beside the flag file, so two people flipping at once cannot lose one of the changes, and the audit
log reads as a chain (each record's `before` is the previous record's `after`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.flags.file import DEFAULT_STATE, FlagState, read_flag_file, validate, write_flag_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    before: FlagState | None
    after: FlagState


def current_state(flags_file: Path) -> FlagState | None:
    """The state in the file, or None when it is missing or unreadable (the server then keeps its last
    good state, or the default on a fresh start)."""
    try:
        return read_flag_file(flags_file)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        logger.warning("ignoring unreadable flag file %s: %s", flags_file, exc)
        return None


def change_flag(
    flags_file: Path,
    audit_log: Path,
    *,
    action: str,
    actor: str,
    reason: str | None,
    enabled: bool | None = None,
    percent: int | None = None,
) -> Change:
    """Apply the given fields on top of the current file, write it atomically and audit the change.

    Raises ValueError (and writes nothing) when the result would be invalid.
    """
    with _exclusive(Path(flags_file)):
        before = current_state(flags_file)
        base = before or DEFAULT_STATE
        after = validate(
            enabled=base.enabled if enabled is None else enabled,
            percent=base.percent if percent is None else percent,
        )
        write_flag_file(flags_file, enabled=after.enabled, percent=after.percent)
        append_audit(audit_log, actor=actor, action=action, before=before, after=after, reason=reason)
    return Change(before=before, after=after)


@contextlib.contextmanager
def _exclusive(flags_file: Path) -> Iterator[None]:
    """Hold an flock on `.<flags file>.lock` (any process on this host or sharing the volume) while inside.

    A separate file, because the flag file itself is replaced on every write.
    """
    lock = flags_file.with_name(f".{flags_file.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def append_audit(
    audit_log: Path,
    *,
    actor: str,
    action: str,
    before: FlagState | None,
    after: FlagState,
    reason: str | None,
) -> None:
    """Append one JSON line; O_APPEND keeps lines from concurrent writers whole."""
    record: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "before": before.to_dict() if before else None,
        "after": after.to_dict(),
        "reason": reason,
    }
    line = (json.dumps(record, sort_keys=False) + "\n").encode("utf-8")
    audit_log = Path(audit_log)
    audit_log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def last_audit_record(audit_log: Path, tail_bytes: int = 8192) -> dict[str, Any] | None:
    """The newest record of the audit log (read from its end, so a long log costs nothing), or None."""
    try:
        with open(audit_log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - tail_bytes))
            lines = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return record
    return None

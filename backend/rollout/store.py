"""Where the autopilot keeps its state, and the two locks that keep it consistent.

- The state file (`ROLLOUT_STATE_FILE`, JSON) is replaced atomically (temp file, fsync, rename), so a killed
  autopilot leaves the old state or the new one, never half of either.
- `StateStore.locked()` is a short flock held for each read-modify-write: the running autopilot and a
  person's `pause`/`promote`/`abort` take turns, and each flag change is written under it too.
- `runner_lock()` is an flock held for the whole life of a running autopilot, on a file beside the flag file
  (`.flags.json.autopilot.lock`): two autopilots on one flag cannot run at once, whatever state files they
  use. The kernel drops it when the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from backend.rollout.engine import RolloutState


class AlreadyRunningError(RuntimeError):
    """Another autopilot holds the runner lock of this flag."""


@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise BlockingIOError(exc.errno, str(path)) from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def runner_lock_path(flags_file: Path) -> Path:
    flags_file = Path(flags_file)
    return flags_file.with_name(f".{flags_file.name}.autopilot.lock")


@contextlib.contextmanager
def runner_lock(flags_file: Path) -> Iterator[None]:
    """Hold the flag's autopilot lock, or raise AlreadyRunningError naming the holder's pid."""
    path = runner_lock_path(flags_file)
    held = contextlib.ExitStack()
    try:
        fd = held.enter_context(_flock(path, blocking=False))
    except BlockingIOError:
        holder = path.read_text(encoding="utf-8").strip() or "unknown"
        raise AlreadyRunningError(
            f"another autopilot is already running for {flags_file} (pid {holder}, lock {path}); "
            "use `status`, `pause`, `promote` or `abort` to steer it"
        ) from None
    with held:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield


def runner_alive(flags_file: Path) -> bool:
    """True while some autopilot holds the flag's runner lock."""
    try:
        with _flock(runner_lock_path(flags_file), blocking=False):
            return False
    except BlockingIOError:
        return True


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with _flock(self.path.with_name(f".{self.path.name}.lock"), blocking=True):
            yield

    def load(self) -> RolloutState | None:
        """The saved state; None when there is none. A corrupt file raises ValueError (never guessed at)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return RolloutState.model_validate_json(text)
        except ValueError as exc:
            raise ValueError(f"{self.path}: unreadable rollout state: {exc}") from None

    def save(self, state: RolloutState) -> RolloutState:
        """Write `state` with the next revision; returns what was written. Call under `locked()`."""
        saved = state.model_copy(update={"revision": state.revision + 1, "updated_at": time.time()})
        payload = json.dumps(saved.model_dump(mode="json"), indent=2) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return saved

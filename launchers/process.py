"""Start a process, wait until it answers over HTTP, stop it: the one way every server here is run."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Every timeout in the suite (and every wait for a server here) is multiplied by this, so a slow or busy
# machine needs one knob, not fifty.
TIME_SCALE = float(os.environ.get("PARLOR_TIME_SCALE", "1"))


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE


def log_dir(tmp: Path | None = None) -> Path:
    """Where server logs go: the caller's temporary directory, else PARLOR_TEST_LOGS, else /tmp."""
    return tmp or Path(os.environ.get("PARLOR_TEST_LOGS", "/tmp"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(
    url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None, *, below: int = 500
) -> None:
    """Poll `url` until it answers with a status under `below` (300 for "ready", 500 for "up").

    `timeout` is scaled by PARLOR_TIME_SCALE.
    """
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    last: Exception | int | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            status = httpx.get(url, timeout=1.0).status_code
            if status < below:
                return
            last = status
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last!r}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Server:
    """One server process on a fixed port: `start` and `stop` again keep the port and append to the same log."""

    argv: list[str]
    port: int
    log_path: Path
    env: dict[str, str] | None = None
    health: str = "/healthz"
    ready_below: int = 500
    cwd: Path = ROOT
    name: str = "server"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def launch(self) -> None:
        """Start the process without waiting for it."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 20.0) -> None:
        wait_http(self.url + self.health, timeout, self.process, below=self.ready_below)

    def start(self, timeout: float = 20.0) -> None:
        self.launch()
        self.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            stop_process(self.process, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@contextlib.contextmanager
def running(server: Server, timeout: float = 20.0, stop_timeout: float = 10.0) -> Iterator[Server]:
    """Start `server`, yield it once it answers, and stop it however the block ends."""
    try:
        server.start(timeout)
        yield server
    finally:
        server.stop(stop_timeout)

"""Real servers for end-to-end tests: uvicorn (and later Streamlit, Redis, Prometheus) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last!r}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Backend:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# Load from one address is the point of a benchmark (and of most tests): per-client limits out of the way.
UNLIMITED_CLIENTS = {
    "RATE_LIMIT_CREATE": "1000000/minute",
    "RATE_LIMIT_JOIN": "1000000/minute",
    "RATE_LIMIT_SUMMARY": "1000000/minute",
    "RATE_LIMIT_MISS": "1000000/minute",
    "RATE_LIMIT_HANDSHAKE": "1000000/minute",
    "MAX_ROOMS_PER_ADDRESS": "1000000",
    "MAX_LONGPOLLS_PER_TOKEN": "1000",
}


def backend_env(extra: dict[str, str] | None = None, tmp: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STORE_URL", "WEBSOCKET_ENABLED", "ADMIN_TOKEN")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "TEST_HOOKS": "true",
            "BOT_MIN_DELAY_SECONDS": "0.2",
            "BOT_MAX_DELAY_SECONDS": "0.6",
            "CLUE_INTERVAL_SECONDS": "0",
            "DRAIN_SECONDS": "0",
            **UNLIMITED_CLIENTS,
        }
    )
    if tmp is not None:
        env.setdefault("FLAGS_AUDIT_LOG", str(tmp / "flags-audit.jsonl"))
    env.update(extra or {})
    return env


@contextlib.contextmanager
def run_backend(
    env: dict[str, str] | None = None, *, port: int | None = None, tmp: Path | None = None, args: tuple[str, ...] = ()
) -> Iterator[Backend]:
    """Start `python -m backend` (the entry point the image runs) on 127.0.0.1; stop it afterwards.

    Stopping is SIGTERM, then SIGKILL. The drain is instant unless `env` sets DRAIN_SECONDS.
    """
    port = port or free_port()
    log_dir = tmp or Path(os.environ.get("PARLOR_TEST_LOGS", "/tmp"))
    log_path = log_dir / f"backend-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "backend", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *args],
            cwd=ROOT,
            env=backend_env(env, tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    backend = Backend(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        wait_http(backend.url + "/healthz", proc=proc)
        yield backend
    finally:
        stop_process(proc)

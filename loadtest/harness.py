"""Servers under test and what the load tests read from them: process CPU and RSS (psutil), /metrics counters.

Every server runs as its own process on 127.0.0.1 with an ephemeral port, started fresh per scenario and
stopped (SIGTERM, then SIGKILL) afterwards, so one scenario's leftovers never skew the next.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.support.servers import UNLIMITED_CLIENTS, free_port, wait_http

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class CpuMeter:
    """Server CPU over an interval, as a percentage of one core."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.wall = time.monotonic()
        self.cpu = server.cpu_seconds()

    def seconds(self) -> float:
        return self.server.cpu_seconds() - self.cpu

    def percent(self) -> float:
        return 100.0 * self.seconds() / max(1e-9, time.monotonic() - self.wall)


def parlor_env(extra: dict[str, str] | None = None, tmp: Path | None = None) -> dict[str, str]:
    drop = ("STORE_URL", "WEBSOCKET_ENABLED", "ADMIN_TOKEN", "TEST_HOOKS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    tmp = tmp or Path(tempfile.gettempdir())
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "FLAGS_AUDIT_LOG": str(tmp / "parlor-loadtest-flags-audit.jsonl"),
            "BOT_MIN_DELAY_SECONDS": "0.5",
            "BOT_MAX_DELAY_SECONDS": "1.5",
            **UNLIMITED_CLIENTS,
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def run_server(
    name: str, argv: list[str], env: dict[str, str], port: int, health: str = "/healthz"
) -> Iterator[Server]:
    log_path = Path(tempfile.gettempdir()) / f"parlor-loadtest-{name}-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", proc, log_path)
    try:
        wait_http(server.url + health, timeout=30.0, proc=proc)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def parlor_server(extra_env: dict[str, str] | None = None) -> contextlib.AbstractContextManager[Server]:
    """A fresh Parlor backend started the production way (`python -m backend`) with settings from `extra_env`."""
    port = free_port()
    argv = [PYTHON, "-m", "backend", "--port", str(port), "--log-level", "warning"]
    return run_server("parlor", argv, parlor_env(extra_env), port)


def scrape(url: str) -> dict[str, float]:
    """The /metrics samples as {'name{labels}': value}, skipping comments."""
    text = httpx.get(url + "/metrics", timeout=10).text
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            samples[key] = float(value)
    return samples


def metric_sum(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of every sample of `name` whose labels include `labels`."""
    total = 0.0
    for key, value in samples.items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total

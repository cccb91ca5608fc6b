"""Servers under test and what the load tests read from them: process CPU time, RSS (psutil), /metrics counters.

Every server runs as its own process on 127.0.0.1 with an ephemeral port, started fresh per scenario and
stopped (SIGTERM, then SIGKILL) afterwards, so one scenario's leftovers never skew the next.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import psutil

from launchers.backend import UNLIMITED_CLIENTS, backend_env, backend_server
from launchers.process import Server, free_port, running


def process_of(server: Server) -> psutil.Process:
    assert server.process is not None
    return psutil.Process(server.process.pid)


def rss(server: Server) -> int:
    return int(process_of(server).memory_info().rss)


def _cpu_clock(pid: int) -> int:
    """Linux's CPU-time clock of another process (`clock_getcpuclockid`): CPUCLOCK_SCHED of the whole thread group."""
    return ((~pid) << 3) | 2


def cpu_seconds(server: Server) -> float:
    """CPU time (user + system) the server process has used so far, every thread counted, those gone included.

    Read from the kernel's own per-process CPU clock, the one the process reads as CLOCK_PROCESS_CPUTIME_ID:
    nanoseconds of scheduled run time, where psutil's user + system times come in clock ticks (10 ms here),
    so a 15 s window at 15 % of a core was read to within about 1 %. Falls back to psutil off Linux."""
    pid = process_of(server).pid
    with contextlib.suppress(OSError, OverflowError, AttributeError):
        return time.clock_gettime_ns(_cpu_clock(pid)) / 1e9
    times = process_of(server).cpu_times()
    return float(times.user + times.system)


def pin(pid: int, cpus: Iterable[int]) -> bool:
    """Pin every thread of process `pid` (0: this one) to `cpus`; threads it starts later inherit it.

    False (nothing changed) where affinity cannot be set: another OS, or fewer CPUs than asked for."""
    cpus = set(cpus)
    if not hasattr(os, "sched_setaffinity") or not cpus or not cpus <= set(range(os.cpu_count() or 1)):
        return False
    task_dir = f"/proc/{pid or os.getpid()}/task"
    tasks = [int(t) for t in os.listdir(task_dir)] if os.path.isdir(task_dir) else [pid]
    try:
        for task in tasks:
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(task, cpus)
    except OSError:  # a cpuset that does not hold those CPUs
        return False
    return True


class CpuMeter:
    """Server CPU over an interval, as seconds and as a percentage of one core."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.wall = time.monotonic()
        self.cpu = cpu_seconds(server)

    def seconds(self) -> float:
        return cpu_seconds(self.server) - self.cpu

    def percent(self) -> float:
        return 100.0 * self.seconds() / max(1e-9, time.monotonic() - self.wall)


def parlor_env(extra: dict[str, str] | None = None, tmp: Path | None = None) -> dict[str, str]:
    """The backend's environment for measuring: no test hooks, bots at a human pace, then `extra`."""
    tmp = tmp or Path(tempfile.gettempdir())
    base = {
        "FLAGS_AUDIT_LOG": str(tmp / "parlor-loadtest-flags-audit.jsonl"),
        "BOT_MIN_DELAY_SECONDS": "0.5",
        "BOT_MAX_DELAY_SECONDS": "1.5",
        **UNLIMITED_CLIENTS,
    }
    return backend_env(extra, base=base)


def _log_path(name: str, port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"parlor-loadtest-{name}-{port}.log"


@contextlib.contextmanager
def run_server(
    name: str, argv: list[str], env: dict[str, str], port: int, health: str = "/healthz"
) -> Iterator[Server]:
    server = Server(argv, port, _log_path(name, port), env=env, health=health, name=name)
    with running(server, timeout=30.0, stop_timeout=15.0) as started:
        yield started


def parlor_server(
    extra_env: dict[str, str] | None = None, root: Path | None = None, args: tuple[str, ...] = ()
) -> contextlib.AbstractContextManager[Server]:
    """A fresh Parlor backend started the production way (`python -m backend`) with settings from `extra_env`;
    from the source tree `root` (another revision, for an A/B run) when given."""
    port = free_port()
    server = backend_server(
        parlor_env(extra_env), port=port, log_path=_log_path("parlor", port), name="parlor", args=args
    )
    if root is not None:
        server.cwd = root
    return running(server, timeout=30.0, stop_timeout=15.0)


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

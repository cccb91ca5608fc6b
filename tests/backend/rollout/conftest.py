"""Fixtures for the rollout autopilot.

The live ones are real parts: a backend (`python -m backend`) whose flag file the autopilot writes, the
Streamlit side's bridge-metrics endpoint, Debian's Prometheus with the repo's recording rules scraping both
every second, and `Traffic`: players of the 1 % cohort (found by asking the real server at 1 %) opening a real
WebSocket, saying hello and leaving, over and over, so every check has data at every stage.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from backend.flags import change_flag, read_flag_file, write_flag_file
from backend.rollout.engine import RolloutState
from backend.rollout.store import StateStore
from launchers.backend import Backend, run_backend
from launchers.process import ROOT, free_port, stop_process
from launchers.prometheus import Prometheus, prometheus_available, run_prometheus
from tests.support.client import Seat

PLAN = ROOT / "deploy" / "rollout-plan.yaml"
RULES = sorted((ROOT / "monitoring" / "prometheus" / "rules").glob("*.yml"))
COHORT_PLAYERS = 2
BRIDGE = """
import sys, time
from frontend.metrics import get_bridge_metrics
get_bridge_metrics(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(3600)
"""


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m backend.rollout ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "backend.rollout", *args],
        cwd=ROOT,
        env={**clean_env(), "USER": "tester", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ROLLOUT_", "FLAGS_"))}


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# ---- live parts ---------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Cohort players connecting and leaving (client_close) on a thread of their own; counts what happened."""

    ws_url: str
    seats: list[Seat]
    accepted: int = 0
    refused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    async def _main(self) -> None:
        await asyncio.gather(*(self._cycle(seat) for seat in self.seats))

    async def _cycle(self, seat: Seat) -> None:
        hello = {"type": "hello", "player_id": seat.player_id, "token": seat.token, "last_event_id": None}
        while not self._stop.is_set():
            try:
                async with websockets.connect(
                    f"{self.ws_url}/ws/{seat.room_code}", open_timeout=3, close_timeout=1
                ) as conn:
                    await conn.send(json.dumps(hello))
                    frame = json.loads(await asyncio.wait_for(conn.recv(), 3))
                    if frame["type"] == "welcome":
                        self.accepted += 1
                        await asyncio.sleep(0.1)
                    else:
                        self.refused += 1
            except (websockets.WebSocketException, OSError, TimeoutError):
                self.refused += 1
            await asyncio.sleep(0.05)


async def _cohort_hosts(url: str, want: int) -> list[Seat]:
    """Hosts of fresh rooms that the server puts on websocket at the current (1 %) rollout."""
    found: list[Seat] = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for _ in range(40):
            responses = await asyncio.gather(*(http.post("/api/rooms", json={"name": "Ann"}) for _ in range(50)))
            for resp in responses:
                body = resp.json()
                if body.pop("transport") == "websocket":
                    found.append(Seat(**body))
            if len(found) >= want:
                return found[:want]
    raise AssertionError(f"only {len(found)} of 2000 players landed in the 1 % cohort")


@dataclass
class LiveRollout:
    backend: Backend
    flags_file: Path
    traffic: Traffic
    bridge_port: int


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRollout]:
    """A backend at 1 % long enough to find cohort players, then disabled (the safe state) with traffic on."""
    if not prometheus_available():
        pytest.skip("needs /usr/bin/prometheus")
    tmp = tmp_path_factory.mktemp("rollout-live")
    flags = tmp / "flags" / "flags.json"
    write_flag_file(flags, enabled=True, percent=1)
    bridge_port = free_port()
    bridge = subprocess.Popen(
        [sys.executable, "-c", BRIDGE, str(bridge_port)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert bridge.stdout is not None and bridge.stdout.readline().strip() == "ready"
        with run_backend({"FLAGS_FILE": str(flags)}, tmp=tmp) as backend:
            seats = asyncio.run(_cohort_hosts(backend.url, COHORT_PLAYERS))
            reset_flag(flags, tmp / "setup-audit.jsonl")
            traffic = Traffic(backend.ws_url, seats)
            traffic.start()
            try:
                yield LiveRollout(backend, flags, traffic, bridge_port)
            finally:
                traffic.stop()
    finally:
        stop_process(bridge)  # type: ignore[arg-type]


def reset_flag(flags: Path, audit_log: Path) -> None:
    change_flag(flags, audit_log, action="disable", actor="test", reason="test reset", enabled=False, percent=0)


def prometheus_config(targets: dict[str, int]) -> dict[str, Any]:
    """The repo's rule files, every target scraped and every rule evaluated each second."""
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in RULES],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]} for job, port in targets.items()
        ],
    }


@dataclass
class Pilot:
    """One test's autopilot set-up: its own state file and audit log over the shared flag file."""

    live: LiveRollout
    prometheus: Prometheus
    tmp: Path
    metrics_port: int
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.tmp / "rollout-state.json"

    @property
    def audit_log(self) -> Path:
        return self.tmp / "audit.jsonl"

    def env(self, **timing: float) -> dict[str, str]:
        env = {
            "FLAGS_FILE": str(self.live.flags_file),
            "FLAGS_AUDIT_LOG": str(self.audit_log),
            "ROLLOUT_PLAN_FILE": str(PLAN),
            "ROLLOUT_STATE_FILE": str(self.state_file),
            "ROLLOUT_PROMETHEUS_URL": self.prometheus.url,
            "ROLLOUT_METRICS_PORT": str(self.metrics_port),
            "ROLLOUT_INTERVAL_SECONDS": "1",
            "ROLLOUT_WARMUP_SECONDS": "2",
            "ROLLOUT_HOLD_SECONDS": "1",
        }
        env.update({f"ROLLOUT_{key.upper()}_SECONDS": str(value) for key, value in timing.items()})
        return env

    def launch(self, *args: str, **timing: float) -> subprocess.Popen[str]:
        """`python -m backend.rollout start` in the background; its output goes to a log in tmp."""
        log = open(self.tmp / f"autopilot-{len(self.processes)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.rollout", "start", *args],
            cwd=ROOT,
            env={**clean_env(), "USER": "tester", **self.env(**timing)},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()
        self.processes.append(proc)
        return proc

    def cli(self, *args: str, **timing: float) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env(**timing))

    def state(self) -> RolloutState:
        state = StateStore(self.state_file).load()
        assert state is not None
        return state

    def wait(self, what: str, predicate: Callable[[RolloutState], bool], timeout: float = 60) -> RolloutState:
        deadline = time.monotonic() + timeout
        while True:
            state = StateStore(self.state_file).load()
            # A decision is saved (pending) before the flag and the audit log are written: wait for both.
            if state is not None and state.pending is None and predicate(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"autopilot never reached {what}; state {state}\n{self.logs()}")
            time.sleep(0.1)

    def records(self) -> list[dict[str, Any]]:
        return [record for record in audit(self.audit_log) if record["actor"] != "test"]

    def flag(self) -> dict[str, Any]:
        return read_flag_file(self.live.flags_file).to_dict()

    def logs(self) -> str:
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.tmp.glob("autopilot-*.log")))


@pytest.fixture
def pilot(live: LiveRollout, tmp_path: Path) -> Iterator[Pilot]:
    """A fresh Prometheus (no history from the last test) and the flag back in the safe state."""
    reset_flag(live.flags_file, tmp_path / "audit.jsonl")
    metrics_port = free_port()
    targets = {"parlor-backend": live.backend.port, "parlor-frontend": live.bridge_port, "parlor-rollout": metrics_port}
    (tmp_path / "prometheus").mkdir()
    with run_prometheus(prometheus_config(targets), tmp_path / "prometheus") as prometheus:
        # As in production, the autopilot starts against a Prometheus that already scrapes the backend; a
        # rate needs two samples, so wait for two scrapes of it before the first evaluation.
        prometheus.wait_for('count_over_time(up{job="parlor-backend"}[1m]) >= 2', 1, timeout=30)
        pilot = Pilot(live, prometheus, tmp_path, metrics_port)
        try:
            yield pilot
        finally:
            for proc in pilot.processes:
                stop_process(proc)  # type: ignore[arg-type]
            httpx.post(f"{live.backend.url}/api/test/websocket", json={"refuse": False}, timeout=10)

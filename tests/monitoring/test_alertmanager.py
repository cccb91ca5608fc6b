"""Alert routing: monitoring/alertmanager/alertmanager.yml checked by amtool, and a live run in which a real fault
on a real backend fires the repo's alerts in Debian's Prometheus, and Debian's Alertmanager (plain processes on
loopback) routes the backend-down page to a webhook receiver run by this test while holding back the symptoms it causes.

The live run keeps every rule expression, the routes, the receivers' names and the inhibition rule as
committed; only the timing is shortened (`for:`, group waits) and the receivers' URLs point at the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
import yaml

from launchers.alertmanager import Alertmanager, alertmanager_available, alertmanager_server
from launchers.backend import run_backend
from launchers.process import ROOT, free_port
from launchers.prometheus import prometheus_available, run_prometheus
from monitoring import links
from tests.support.client import Seat, create_room, join_room

AMTOOL = Path(shutil.which("amtool") or "/usr/bin/amtool")
AM_CONFIG = ROOT / "monitoring" / "alertmanager" / "alertmanager.yml"
PROM_DIR = ROOT / "monitoring" / "prometheus"
ALERTS = PROM_DIR / "rules" / "parlor-alerts.yml"
RECORDING = PROM_DIR / "rules" / "parlor-recording.yml"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
SYMPTOM = "ParlorWSConnectionSuccessLow"  # ticket
BURN = "ParlorWSErrorBudgetBurnFast"  # page

needs_amtool = pytest.mark.skipif(not AMTOOL.exists(), reason="needs amtool (Debian prometheus-alertmanager)")


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AMTOOL), *args], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


@needs_amtool
def test_alertmanager_config_passes_amtool_check_config() -> None:
    """`amtool check-config` accepts the committed config: routes, one inhibition rule, page and ticket."""
    result = amtool("check-config", str(AM_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "1 inhibit rules" in result.stdout and "2 receivers" in result.stdout


@needs_amtool
def test_alerts_route_by_severity() -> None:
    """page goes to the page receiver, ticket (and anything unlabelled) to the ticket receiver."""
    for labels, receiver in (
        (["severity=page", "alertname=ParlorBackendDown"], "page"),
        (["severity=ticket", f"alertname={SYMPTOM}"], "ticket"),
        (["alertname=SomethingNew"], "ticket"),
    ):
        result = amtool("config", "routes", "test", f"--config.file={AM_CONFIG}", *labels)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == receiver, labels


@needs_amtool
def test_amtool_check_config_rejects_a_route_to_a_missing_receiver(tmp_path: Path) -> None:
    """The check really checks: a route naming an undefined receiver fails it."""
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(AM_CONFIG.read_text().replace("  - receiver: page\n", "  - receiver: pager\n", 1))
    assert amtool("check-config", str(broken)).returncode != 0


def test_prometheus_and_compose_send_alerts_to_alertmanager() -> None:
    """prometheus.yml points at alertmanager:9093; compose runs a pinned Alertmanager with the repo's config."""
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    targets = [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]]
    assert targets == ["alertmanager:9093"]
    service = yaml.safe_load(COMPOSE.read_text())["services"]["alertmanager"]
    image = str(service["image"])
    assert image.startswith("prom/alertmanager:v") and image.rsplit(":v", 1)[1][0].isdigit()
    assert "../monitoring/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in service["volumes"]


# ---- live ---------------------------------------------------------------------------------------------


class Webhook:
    """A webhook receiver: every POST's JSON body, by path (/page, /ticket)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        received, lock = self.received, self._lock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received.append((self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def alerts(self, path: str) -> list[dict[str, Any]]:
        """Every alert in every notification the receiver at `path` got."""
        with self._lock:
            return [alert for got, body in self.received if got == path for alert in body["alerts"]]

    def names(self, path: str, status: str = "firing") -> set[str]:
        return {a["labels"]["alertname"] for a in self.alerts(path) if a["status"] == status}


@contextlib.contextmanager
def run_webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


def alertmanager_config(hook_port: int) -> dict[str, Any]:
    """The committed config with the receivers pointed at the test's webhook and the waits cut to a second."""
    config = yaml.safe_load(AM_CONFIG.read_text())
    for receiver in config["receivers"]:
        [hook] = receiver["webhook_configs"]
        hook["url"] = f"http://127.0.0.1:{hook_port}/{receiver['name']}"
    for route in [config["route"], *config["route"]["routes"]]:
        route.update({"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"})
    return config


def fast_alerts(path: Path) -> Path:
    """parlor-alerts.yml with the real expressions and a short `for:`: backend down at once, symptoms after 8 s,
    so the cause is always at Alertmanager before its symptoms."""
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s" if rule["alert"] == "ParlorBackendDown" else "8s"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def wait_until(what: str, condition: Callable[[], object], timeout: float = 60, logs: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}\n{logs()}"
        time.sleep(0.2)


async def connect_many(ws_url: str, seats: list[Seat], rounds: int) -> int:
    """Open, hello and close a socket per seat, `rounds` times; returns how many were welcomed."""
    welcomed = 0
    for _ in range(rounds):
        for seat in seats:
            try:
                async with websockets.connect(f"{ws_url}/ws/{seat.room_code}", open_timeout=3) as conn:
                    hello = {"type": "hello", "player_id": seat.player_id, "token": seat.token}
                    await conn.send(json.dumps(hello))
                    welcomed += json.loads(await asyncio.wait_for(conn.recv(), 3))["type"] == "welcome"
            except (websockets.WebSocketException, OSError, TimeoutError):
                pass
    return welcomed


@pytest.mark.prometheus
@pytest.mark.slow
@pytest.mark.skipif(
    not (alertmanager_available() and prometheus_available()),
    reason="needs Debian's prometheus and prometheus-alertmanager",
)
async def test_a_real_fault_pages_and_backend_down_holds_its_symptoms_back(tmp_path: Path) -> None:
    """Handshakes refused, then the backend stopped: the backend-down page reaches the page webhook with its
    severity, summary and runbook link, and the connection alerts the outage causes are suppressed (inhibited
    by it) and never sent to either receiver."""
    external_labels = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())["global"]["external_labels"]
    backend_port = free_port()
    (tmp_path / "prometheus").mkdir()
    with run_webhook() as hook:
        am_server = alertmanager_server(alertmanager_config(hook.port), tmp_path / "alertmanager")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "external_labels": external_labels},
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_server.port}"]}]}]},
            "rule_files": [str(RECORDING), str(fast_alerts(tmp_path / "alerts.yml"))],
            "scrape_configs": [
                {"job_name": "parlor-backend", "static_configs": [{"targets": [f"127.0.0.1:{backend_port}"]}]}
            ],
        }
        am_server.launch()  # boots while Prometheus and the backend do; waited for below
        try:
            with (
                run_prometheus(config, tmp_path / "prometheus") as prometheus,
                run_backend(port=backend_port, tmp=tmp_path) as backend,
            ):
                am_server.wait()
                alertmanager = Alertmanager(am_server)

                def logs() -> str:
                    return alertmanager.log() + "\n" + prometheus.log()

                # Healthy sockets, then every handshake refused: the connection error ratio shoots up.
                async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
                    host = await create_room(http, "Ann")
                    seats = [host, await join_room(http, host.room_code, "Bob")]
                    prometheus.wait_for('up{job="parlor-backend"} == 1', count=1, timeout=30)
                    deadline = time.monotonic() + 30
                    while not prometheus.query("parlor:ws_connection_success:ratio_rate5m"):
                        assert time.monotonic() < deadline, logs()
                        assert await connect_many(backend.ws_url, seats, 1) == 2
                        await asyncio.sleep(0.3)
                    assert (await http.post("/api/test/websocket", json={"refuse": True})).status_code == 200
                    assert await connect_many(backend.ws_url, seats, 10) == 0
                prometheus.wait_for("parlor:ws_connection_success:ratio_rate5m < 0.5", count=1, timeout=30)

                # The backend goes away while the symptoms are pending (for: 8s): its page goes out at once.
                assert backend.process is not None
                backend.process.terminate()
                backend.process.wait(10)
                wait_until("the backend-down page", lambda: "ParlorBackendDown" in hook.names("/page"), 30, logs)
                wait_until(
                    "the symptoms firing at Alertmanager",
                    lambda: {SYMPTOM, BURN} <= alertmanager.alerts().keys(),
                    30,
                    logs,
                )
                alerts = alertmanager.alerts()
                down = alerts["ParlorBackendDown"]["fingerprint"]
                for name in (SYMPTOM, BURN):
                    assert alerts[name]["status"]["state"] == "suppressed", alerts[name]
                    assert alerts[name]["status"]["inhibitedBy"] == [down]
                time.sleep(3)  # three group intervals: an uninhibited symptom would have been sent by now
                assert hook.names("/page") == {"ParlorBackendDown"}
                assert hook.names("/ticket") == set()
        finally:
            am_server.stop()

    page = next(a for a in hook.alerts("/page") if a["labels"]["alertname"] == "ParlorBackendDown")
    assert page["labels"]["severity"] == "page"
    assert page["labels"]["stack"] == "parlor"
    assert page["annotations"]["summary"] == f"Backend 127.0.0.1:{backend_port} is down or not scraped"
    assert page["annotations"]["runbook_url"] == links.runbook_url("parlorbackenddown", links.DEFAULT_DOCS_URL)


def test_the_runbook_says_who_gets_each_alert() -> None:
    """docs/runbook.md's "Who gets which alert" table lists every alert under its severity's receiver."""
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    table = runbook.split("## Who gets which alert", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines() if line.startswith("| `")}
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    for rule in rules:
        if "alert" in rule:
            assert rule["alert"] in rows[rule["labels"]["severity"]], rule["alert"]

"""A real Alertmanager (Debian's prometheus-alertmanager) with a generated config, on loopback, without a cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from launchers.process import Server, free_port, running

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")


def alertmanager_available() -> bool:
    return ALERTMANAGER.exists()


class Alertmanager:
    """The alerts a running Alertmanager holds, with their state (active, suppressed) and inhibitors."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url

    def alerts(self) -> dict[str, dict[str, Any]]:
        """The current alerts by alertname (API v2)."""
        alerts = httpx.get(f"{self.url}/api/v2/alerts", timeout=10).json()
        return {alert["labels"]["alertname"]: alert for alert in alerts}

    def log(self) -> str:
        return self.server.log()[-4000:]


def alertmanager_server(config: dict[str, Any], workdir: Path) -> Server:
    """Write `config` as alertmanager.yml in `workdir`; the `Server` record (not started) that runs it there.

    `--cluster.listen-address=` turns gossip off: one instance, and no fixed port 9094 to collide on.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        str(ALERTMANAGER),
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return Server(argv, port, workdir / "alertmanager.log", health="/-/ready", ready_below=300, name="alertmanager")


@contextlib.contextmanager
def run_alertmanager(config: dict[str, Any], workdir: Path) -> Iterator[Alertmanager]:
    """Start Alertmanager with `config`; yield it once /-/ready answers; stop it afterwards."""
    with running(alertmanager_server(config, workdir)) as started:
        yield Alertmanager(started)

"""A real Prometheus (Debian's /usr/bin/prometheus) with a generated config, and a small query client."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from launchers.process import Server, free_port, running

PROMETHEUS = Path("/usr/bin/prometheus")


def prometheus_available() -> bool:
    return PROMETHEUS.exists()


class Prometheus:
    """Instant queries and the loaded rules of a running Prometheus."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url
        self.process = server.process

    def query(self, expr: str) -> list[dict[str, Any]]:
        resp = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = resp.json()
        assert resp.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
        return list(body["data"]["result"])

    def wait_for(self, expr: str, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.query(expr)) < count:
            assert time.monotonic() < deadline, f"{expr} never returned {count} series\n{self.log()}"
            time.sleep(0.2)

    def rules(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/api/v1/rules", timeout=10).json()
        return [rule for group in body["data"]["groups"] for rule in group["rules"]]

    def log(self) -> str:
        return self.server.log()[-4000:]


@contextlib.contextmanager
def run_prometheus(config: dict[str, Any], workdir: Path) -> Iterator[Prometheus]:
    """Write `config` as prometheus.yml in `workdir`, start Prometheus there, yield it once /-/ready answers."""
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        str(PROMETHEUS),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    server = Server(argv, port, workdir / "prometheus.log", health="/-/ready", ready_below=300)
    with running(server) as started:
        yield Prometheus(started)

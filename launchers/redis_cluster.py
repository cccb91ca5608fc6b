"""A real 3-master Redis Cluster for tests: three `redis-server --cluster-enabled yes` on 127.0.0.1, joined by
`redis-cli --cluster create`, each a plain process on a free port with its own directory."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from launchers.process import free_port
from launchers.redis import REDIS_SERVER, RedisServer, wait_for_pong

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def cluster_available() -> bool:
    return Path(REDIS_SERVER).exists() and Path(REDIS_CLI).exists()


class ClusterNode(RedisServer):
    """One master: the same process handling as RedisServer, with cluster mode on and its own nodes file."""

    def start(self, timeout: float = 10.0) -> None:
        self.starts += 1
        log = open(self.workdir / f"redis-{self.port}-{self.starts}.log", "wb")  # noqa: SIM115
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.workdir), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        argv += ["--cluster-node-timeout", "2000", "--cluster-port", str(_cluster_bus_port(self.port))]
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_pong(self.process, self.port, timeout)


_bus_ports: dict[int, int] = {}


def _cluster_bus_port(port: int) -> int:
    """The node-to-node bus needs a port of its own; the default (port + 10000) may be taken or out of range."""
    if port not in _bus_ports:
        _bus_ports[port] = free_port()
    return _bus_ports[port]


def _cluster_ok(port: int) -> bool:
    out = subprocess.run(
        [REDIS_CLI, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5, check=False
    ).stdout
    return "cluster_state:ok" in out and "cluster_slots_assigned:16384" in out


@dataclass
class RedisClusterServers:
    nodes: list[ClusterNode]

    @property
    def url(self) -> str:
        """The store's URL: one seed node is enough, the client discovers the others."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]


@contextlib.contextmanager
def run_redis_cluster(workdir: Path, masters: int = 3, timeout: float = 30.0) -> Iterator[RedisClusterServers]:
    nodes = []
    try:
        for n in range(masters):
            home = workdir / f"node{n}"
            home.mkdir(parents=True, exist_ok=True)
            node = ClusterNode(free_port(), home)
            node.start()
            nodes.append(node)
        create = [REDIS_CLI, "--cluster", "create", *[f"127.0.0.1:{node.port}" for node in nodes]]
        create += ["--cluster-replicas", "0", "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        deadline = time.monotonic() + timeout
        while not all(_cluster_ok(node.port) for node in nodes):
            if time.monotonic() > deadline:
                raise TimeoutError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        yield RedisClusterServers(nodes)
    finally:
        for node in nodes:
            node.stop()

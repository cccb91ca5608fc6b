"""A real redis-server: a plain process on 127.0.0.1, no persistence unless asked for."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from launchers.process import free_port, stop_process

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_available() -> bool:
    return Path(REDIS_SERVER).exists()


@dataclass
class RedisServer:
    """One redis-server on a fixed port; `stop` and `start` again keep the port (and the RDB file, if any)."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.starts += 1
        log = open(self.workdir / f"redis-{self.port}-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--dbfilename",
                "dump.rdb",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for_pong(self.process, self.port, timeout)

    def shutdown_saving(self, timeout: float = 10.0) -> None:
        """A maintenance restart: SHUTDOWN SAVE writes an RDB snapshot that the next `start` loads."""
        assert self.process is not None
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"SHUTDOWN SAVE\r\n")
            sock.recv(64)
        self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 5)


def wait_for_pong(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    """Until the redis-server started as `process` answers PING on `port` (or exits, or `timeout` passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server on {port} exited with {process.returncode}")
        if _answers_ping(port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"redis-server on {port} did not answer within {timeout} s")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def run_redis(workdir: Path, port: int | None = None) -> Iterator[RedisServer]:
    server = RedisServer(port or free_port(), workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()

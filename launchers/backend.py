"""The Parlor backend, started the way the image starts it: `python -m backend` on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from launchers.process import PYTHON, Server, free_port, log_dir, running

Backend = Server

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

# Test-friendly defaults: bots act quickly, clues are never rate-limited, a drain is instant, no per-client limits.
TEST_ENV = {
    **UNLIMITED_CLIENTS,
    "TEST_HOOKS": "true",
    "BOT_MIN_DELAY_SECONDS": "0.2",
    "BOT_MAX_DELAY_SECONDS": "0.6",
    "CLUE_INTERVAL_SECONDS": "0",
    "DRAIN_SECONDS": "0",
}


def backend_env(
    extra: dict[str, str] | None = None, tmp: Path | None = None, *, base: dict[str, str] | None = None
) -> dict[str, str]:
    """This process's environment without the settings a test must choose, plus `base` (TEST_ENV), then `extra`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("STORE_URL", "WEBSOCKET_ENABLED", "ADMIN_TOKEN", "TEST_HOOKS")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(TEST_ENV if base is None else base)
    if tmp is not None:
        env.setdefault("FLAGS_AUDIT_LOG", str(tmp / "flags-audit.jsonl"))
    env.update(extra or {})
    return env


def backend_server(
    env: dict[str, str],
    *,
    port: int | None = None,
    tmp: Path | None = None,
    args: tuple[str, ...] = (),
    log_path: Path | None = None,
    name: str = "backend",
) -> Server:
    """A backend `Server` record (not started yet) with the full environment `env`."""
    port = port or free_port()
    argv = [PYTHON, "-m", "backend", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *args]
    log_path = log_path or log_dir(tmp) / f"backend-{port}.log"
    return Server(argv, port, log_path, env=env, name=name)


@contextlib.contextmanager
def run_backend(
    env: dict[str, str] | None = None, *, port: int | None = None, tmp: Path | None = None, args: tuple[str, ...] = ()
) -> Iterator[Backend]:
    """Start a backend with TEST_ENV plus `env`; stop it afterwards (SIGTERM, then SIGKILL).

    The drain is instant unless `env` sets DRAIN_SECONDS.
    """
    with running(backend_server(backend_env(env, tmp), port=port, tmp=tmp, args=args)) as server:
        yield server

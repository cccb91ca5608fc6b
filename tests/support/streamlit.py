"""A real Streamlit server running frontend/app.py on 127.0.0.1, for browser tests and the latency benchmark."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import PYTHON, ROOT, free_port, stop_process, wait_http

# Debian's Chromium, headless; without the background-networking flags it keeps dialling out of this sandbox.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Frontend:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def frontend_origins(port: int) -> str:
    """ALLOWED_ORIGINS for a backend serving a Streamlit frontend on `port` (pass it to run_backend's env).

    A JSON list, because pydantic-settings decodes list fields from the environment as JSON before the
    backend's comma-splitting validator runs.
    """
    return json.dumps([f"http://127.0.0.1:{port}", f"http://localhost:{port}"])


@contextlib.contextmanager
def run_streamlit(
    backend_url: str, *, port: int | None = None, env: dict[str, str] | None = None, tmp: Path | None = None
) -> Iterator[Frontend]:
    """Start `streamlit run frontend/app.py` against `backend_url`; stop it afterwards."""
    port = port or free_port()
    log_dir = tmp or Path(os.environ.get("PARLOR_TEST_LOGS", "/tmp"))
    log_path = log_dir / f"streamlit-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if k not in ("WEBSOCKET_ENABLED", "PARLOR_TRANSPORT_MODE")}
    full_env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "BACKEND_URL": backend_url,
            "PUBLIC_BACKEND_URL": backend_url,
            "FRONTEND_METRICS_PORT": "0",
        }
    )
    full_env.update(env or {})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "streamlit",
                "run",
                "frontend/app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    frontend = Frontend(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        wait_http(frontend.url + "/_stcore/health", timeout=60, proc=proc)
        yield frontend
    finally:
        stop_process(proc)

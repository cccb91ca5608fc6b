"""A real Streamlit server running a page script (the game's `frontend/app.py` by default) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from launchers.process import PYTHON, ROOT, Server, free_port, log_dir, running

Frontend = Server
APP = "frontend/app.py"


def frontend_origins(port: int) -> str:
    """ALLOWED_ORIGINS for a backend serving a Streamlit frontend on `port` (pass it to run_backend's env).

    A JSON list, because pydantic-settings decodes list fields from the environment as JSON before the
    backend's comma-splitting validator runs.
    """
    return json.dumps([f"http://127.0.0.1:{port}", f"http://localhost:{port}"])


@contextlib.contextmanager
def run_streamlit(
    backend_url: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    tmp: Path | None = None,
    script: str = APP,
    root: Path = ROOT,
) -> Iterator[Frontend]:
    """Start `streamlit run <script>` from `root` against `backend_url`; stop it afterwards."""
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if k != "WEBSOCKET_ENABLED"}
    full_env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "BACKEND_URL": backend_url,
            "PUBLIC_BACKEND_URL": backend_url,
            "FRONTEND_METRICS_PORT": "0",
        }
    )
    full_env.update(env or {})
    argv = [PYTHON, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.address", "127.0.0.1"]
    server = Server(
        argv, port, log_dir(tmp) / f"streamlit-{port}.log", env=full_env, health="/_stcore/health", cwd=root
    )
    with running(server, timeout=60) as frontend:
        yield frontend

"""The frontend tier as deployed: a backend, N Streamlit replicas and deploy/nginx-frontend.conf in front.

Shared by the browser load harness (loadtest/browser_load.py) and the replica tests
(tests/frontend/test_replicas.py). Each replica exports its bridge metrics on its own port, so
`parlor_frontend_sessions` can be read per process, and can be stopped and started again on the same port
(a rolling restart). The nginx access log names the replica that served each request and its affinity key.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from launchers.backend import Backend, run_backend
from launchers.nginx import Nginx, run_frontend_nginx
from launchers.process import free_port
from launchers.streamlit import Frontend, run_streamlit

# deploy/nginx-frontend.conf's access log: one JSON object a line (the parlor_frontend log_format)
LOG_FIELDS = ("status", "method", "path", "upstream", "affinity")


@dataclass
class Replica:
    """One Streamlit process on a fixed port; `stop` and `start` keep the port (a deploy restarts it in place)."""

    name: str
    backend_url: str
    port: int
    metrics_port: int
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    server: Frontend | None = None
    _stack: contextlib.ExitStack | None = None

    def start(self) -> None:
        stack = contextlib.ExitStack()
        env = {"FRONTEND_METRICS_PORT": str(self.metrics_port), **self.env}
        self.server = stack.enter_context(run_streamlit(self.backend_url, port=self.port, env=env, tmp=self.tmp))
        self._stack = stack

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self.server = None, None

    @property
    def pid(self) -> int:
        assert self.server is not None and self.server.process is not None, f"{self.name} is not running"
        return self.server.process.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def sessions(self) -> int:
        """parlor_frontend_sessions as this process exports it: browser tabs connected to it now.

        The metrics server starts with the first script run, so a process no page has reached yet has none.
        """
        if self.server is None:
            return 0
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        except httpx.ConnectError:
            return 0
        match = re.search(r"^parlor_frontend_sessions (\S+)$", text, re.M)
        assert match, "parlor_frontend_sessions missing from the bridge metrics"
        return int(float(match.group(1)))


@dataclass
class Tier:
    backend: Backend
    replicas: list[Replica]
    nginx: Nginx

    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def backend_pid(self) -> int:
        assert self.backend.process is not None
        return self.backend.process.pid

    def requests(self) -> list[tuple[int, str, str, str, str]]:
        """(status, method, path, upstream, affinity) of every request nginx logged, in order."""
        out: list[tuple[int, str, str, str, str]] = []
        for line in self.nginx.log().splitlines():
            if not line.startswith("{"):
                continue  # nginx's own notices on stderr
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line being written as we read
            if entry.get("logger") == "nginx-frontend" and all(name in entry for name in LOG_FIELDS):
                method, path, upstream, key = (str(entry[name]) for name in LOG_FIELDS[1:])
                out.append((int(entry["status"]), method, path, upstream, key))
        return out

    def affinity_keys(self) -> dict[str, str]:
        """One `parlor_frontend` cookie value per replica address, found by asking nginx and reading its log.

        A browser context given that cookie before its first request is served by that replica.
        """
        found: dict[str, str] = {}
        with httpx.Client(base_url=self.url, timeout=10) as http:
            for _ in range(64):
                key = secrets.token_hex(16)
                http.get("/_stcore/health", headers={"Cookie": f"parlor_frontend={key}"}).raise_for_status()
                found.setdefault(self.served_by(key), key)
                if len(found) == len(self.replicas):
                    return found
        raise AssertionError(f"64 random keys reached only {sorted(found)}")

    def served_by(self, key: str, timeout: float = 5.0) -> str:
        """The replica that served the request with affinity `key`; nginx logs it just after the response."""
        deadline = time.monotonic() + timeout
        while (served := self.replicas_by_key().get(key)) is None:
            assert time.monotonic() < deadline, f"nginx never logged a request with affinity {key}"
            time.sleep(0.02)
        return next(iter(served))

    def replicas_by_key(self) -> dict[str, set[str]]:
        """Affinity key (one per browser context) -> the replica addresses that served its requests."""
        out: dict[str, set[str]] = {}
        for status, _, _, upstream, key in self.requests():
            if status < 500:
                # a request retried after a refused connection lists every address tried; the last one served it
                out.setdefault(key, set()).add(upstream.split(", ")[-1])
        return out


@contextlib.contextmanager
def frontend_tier(
    tmp: Path, replicas: int = 2, backend_env: dict[str, str] | None = None, frontend_env: dict[str, str] | None = None
) -> Iterator[Tier]:
    """Backend, `replicas` Streamlit processes and nginx with session affinity, all on 127.0.0.1."""
    nginx_port, backend_port = free_port(), free_port()
    origins = json.dumps([f"http://127.0.0.1:{nginx_port}", f"http://localhost:{nginx_port}"])
    backend_url = f"http://127.0.0.1:{backend_port}"
    group = [
        Replica(f"frontend-{chr(ord('a') + i)}", backend_url, free_port(), free_port(), tmp, dict(frontend_env or {}))
        for i in range(replicas)
    ]
    with contextlib.ExitStack() as stack:
        backend = stack.enter_context(
            run_backend(env={"ALLOWED_ORIGINS": origins, **(backend_env or {})}, port=backend_port, tmp=tmp)
        )
        for replica in group:
            stack.callback(replica.stop)
        # started side by side: each takes seconds of CPU to import Streamlit, and they do not depend on each other
        with ThreadPoolExecutor(len(group)) as pool:
            list(pool.map(Replica.start, group))
        nginx = stack.enter_context(run_frontend_nginx([r.port for r in group], tmp / "nginx", port=nginx_port))
        yield Tier(backend, group, nginx)

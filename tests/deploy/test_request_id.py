"""One request followed by its id from nginx to the backend: deploy/nginx.conf makes or passes X-Request-ID,
logs it as JSON with the upstream and its timings; the backend logs the same id and echoes it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from launchers.backend import backend_env, backend_server
from launchers.nginx import Nginx, nginx_available, run_nginx
from launchers.process import Server, running
from tests.conftest import scaled

pytestmark = pytest.mark.skipif(not nginx_available(), reason="needs nginx")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_lines(read: Any, request_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The JSON lines with this request id, once there is one (nginx and uvicorn write theirs after answering)."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        found = [line for line in json_lines(read()) if line.get("request_id") == request_id]
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"no log line with request id {request_id}")


def test_nginx_makes_or_passes_the_request_id_and_both_logs_carry_it(tmp_path: Path) -> None:
    """Without an id nginx makes one; with one it is passed on; the answer, its error body, nginx's JSON line
    (upstream address, timings) and the backend's access line all carry the same id."""
    env = backend_env({"LOG_FORMAT": "json", "TRUSTED_PROXIES": "127.0.0.1"}, tmp_path)
    backend: Server = backend_server(env, tmp=tmp_path, args=("--log-level", "info"))
    with running(backend), run_nginx([backend.port], tmp_path / "nginx") as nginx:
        made = httpx.post(nginx.url + "/api/rooms", json={"name": "Traced"}, timeout=10)
        assert made.status_code == 201
        request_id = made.headers["x-request-id"]
        assert len(request_id) == 32 and made.headers.get_list("x-request-id") == [request_id]
        check_both_logs(nginx, backend, request_id, "/api/rooms", 201)

        passed = httpx.get(nginx.url + "/api/rooms/QQQQQ", headers={"X-Request-ID": "trace-me-42"}, timeout=10)
        assert passed.status_code == 404 and passed.headers["x-request-id"] == "trace-me-42"
        assert passed.json()["error"]["request_id"] == "trace-me-42"
        check_both_logs(nginx, backend, "trace-me-42", "/api/rooms/QQQQQ", 404)

        odd = httpx.get(nginx.url + "/healthz", headers={"X-Request-ID": "no spaces {allowed}"}, timeout=10)
        assert odd.headers["x-request-id"] != "no spaces {allowed}" and len(odd.headers["x-request-id"]) == 32


def check_both_logs(nginx: Nginx, backend: Server, request_id: str, path: str, status: int) -> None:
    (edge,) = wait_lines(nginx.log, request_id)
    assert edge["path"] == path and edge["status"] == status and edge["upstream"] == f"127.0.0.1:{backend.port}"
    assert edge["upstream_status"] == str(status) and float(edge["upstream_response_s"]) >= 0 <= edge["duration_s"]
    assert float(edge["upstream_connect_s"]) >= 0 and edge["client"] == "127.0.0.1"
    access = [r for r in wait_lines(backend.log, request_id) if r["logger"] == "uvicorn.access"]
    assert [(r["path"], r["status"]) for r in access] == [(path, status)]

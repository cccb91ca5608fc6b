"""What the public edge exposes (issue 13, point 11): deploy/nginx.conf hides the operator and test endpoints that
a replica serves, and uvicorn closes a connection whose request head never completes (slowloris)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launchers.backend import Backend, run_backend
from launchers.nginx import Nginx, nginx_available, run_nginx
from tests.conftest import scaled

HEADER_TIMEOUT = 1.0
HIDDEN = [
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("POST", "/api/test/rng"),
]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    env = {"TEST_HOOKS": "true", "HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)}
    with run_backend(env, tmp=tmp_path_factory.mktemp("edge")) as server:
        yield server


@pytest.fixture(scope="module")
def nginx(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    if not nginx_available():
        pytest.skip("needs nginx")
    tmp: Path = tmp_path_factory.mktemp("edge-nginx")
    with run_nginx([backend.port], tmp) as proxy:
        yield proxy


@pytest.mark.parametrize(("method", "path"), HIDDEN)
def test_nginx_does_not_serve_operator_and_test_endpoints(
    backend: Backend, nginx: Nginx, method: str, path: str
) -> None:
    """/metrics, /docs, /redoc, /openapi.json and /api/test/ answer on the replica itself but 404 through nginx."""
    body = {"seed": 1} if method == "POST" else None
    direct = httpx.request(method, backend.url + path, json=body, timeout=10)
    assert direct.status_code != 404, f"the replica should serve {path} (else this test proves nothing)"
    public = httpx.request(method, nginx.url + path, json=body, timeout=10)
    assert public.status_code == 404, (path, public.status_code, public.text[:200])
    assert "parlor_" not in public.text and "openapi" not in public.text.lower()


def test_nginx_still_serves_the_game(nginx: Nginx) -> None:
    """The hidden paths are exact: the API and health checks still pass through."""
    assert httpx.get(nginx.url + "/healthz", timeout=10).status_code == 200
    assert httpx.post(nginx.url + "/api/rooms", json={"name": "Edge"}, timeout=10).status_code == 201


def _closed_after(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the peer closed the socket (EOF or reset), or None if it was still open after `limit`."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            # a slowloris keeps trickling header bytes; the deadline must hold anyway
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                return time.monotonic() - started
        except OSError:
            return time.monotonic() - started
    return None


def test_uvicorn_closes_a_slow_request_head_within_the_header_deadline(backend: Backend) -> None:
    """A raw client that sends a partial request head and trickles header lines is closed by the replica within
    HEADER_TIMEOUT_SECONDS (plus scheduling slack), while a complete request on the next connection is served."""
    with socket.create_connection(("127.0.0.1", backend.port), timeout=5) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        took = _closed_after(slow, scaled(HEADER_TIMEOUT + 10))
    assert took is not None, "the slow-header connection was still open"
    assert took >= HEADER_TIMEOUT * 0.5, f"closed after {took:.2f} s: too early to be the header deadline"
    assert httpx.get(backend.url + "/healthz", timeout=10).status_code == 200

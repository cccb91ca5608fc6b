"""Per-address limits hold across replicas: two backends on one Redis behind nginx share the rate windows and
the room quota, so one address spreading its requests over both gets no more than from one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from launchers.backend import UNLIMITED_CLIENTS, backend_env, backend_server
from launchers.nginx import Nginx, nginx_available, run_nginx
from launchers.process import Server, running
from launchers.redis import redis_available, run_redis

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not (redis_available() and nginx_available()), reason="needs redis-server and nginx"),
]
QUOTA, JOINS = 3, 5


@contextlib.contextmanager
def two_replicas(tmp: Path) -> Iterator[tuple[Nginx, list[Server]]]:
    with run_redis(tmp) as redis:
        env = {
            **UNLIMITED_CLIENTS,
            "STORE_URL": redis.url,
            "TRUSTED_PROXIES": "127.0.0.1",
            "MAX_ROOMS_PER_ADDRESS": str(QUOTA),
            "RATE_LIMIT_JOIN": f"{JOINS}/minute",
        }
        servers = [backend_server(backend_env(env, tmp), tmp=tmp, name=f"backend-{n}") for n in "ab"]
        with running(servers[0]), running(servers[1]), run_nginx([s.port for s in servers], tmp / "nginx") as nginx:
            yield nginx, servers


def served(server: Server, handler: str) -> float:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    families = text_string_to_metric_families(text)
    return sum(
        s.value
        for f in families
        if f.name == "parlor_http_requests"
        for s in f.samples
        if s.name == "parlor_http_requests_total" and s.labels.get("handler") == handler
    )


def test_one_address_cannot_multiply_the_room_quota_or_a_rate_over_two_replicas(tmp_path: Path) -> None:
    """Through nginx, round-robin over two replicas: QUOTA rooms then room_quota, JOINS joins then rate_limited;
    both replicas answered, and another address still has its own quota."""
    with two_replicas(tmp_path) as (nginx, servers), httpx.Client(base_url=nginx.url, timeout=10) as http:
        created = [http.post("/api/rooms", json={"name": f"Host {n}"}) for n in range(2 * QUOTA + 2)]
        assert [r.status_code for r in created] == [201] * QUOTA + [429] * (QUOTA + 2)
        assert {r.json()["error"]["code"] for r in created[QUOTA:]} == {"room_quota"}

        code = created[0].json()["room_code"]
        joins = [http.post(f"/api/rooms/{code}/players", json={"name": f"Guest {n}"}) for n in range(2 * JOINS)]
        assert [r.status_code for r in joins] == [201] * JOINS + [429] * JOINS
        assert {r.json()["error"]["code"] for r in joins[JOINS:]} == {"rate_limited"}

        assert all(served(s, "/api/rooms") > 0 for s in servers), "nginx must have spread the creations"
        assert all(served(s, "/api/rooms/{code}/players") > 0 for s in servers), "and the joins"

        other = httpx.post(
            nginx.url + "/api/rooms",
            json={"name": "Elsewhere"},
            headers={"X-Forwarded-For": "198.51.100.7"},
            timeout=10,
        )
        assert other.status_code == 201, other.text

"""The image, built from the Dockerfile with podman on a base made from Debian packages, and run for real.

One build per module; the backend and the frontend run from it in a pod (bridge networking, ports published on
127.0.0.1) as compose runs them, with a read-only root filesystem, and real Chromium plays a game through them.
A second backend runs on the host's network against a Redis from Debian, and is stopped with clients seated.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import sync_playwright

from launchers import container as ctr
from launchers.backend import TEST_ENV
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.process import ROOT, free_port
from launchers.redis import redis_available, run_redis
from launchers.streamlit import frontend_origins
from loadtest.image_size import measure
from tests.conftest import scaled
from tests.frontend.player import play_a_game_to_its_end
from tests.support.client import WsPlayer, create_room, join_room

pytestmark = [pytest.mark.container, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1200)]

APP_UID = 10001
# The pace the other end-to-end tests run the backend at (quick bots, no clue rate limit, instant drain).
FAST_GAME = dict(TEST_ENV)
# Writable places under a read-only root: the flag directory (a volume, so the image's flag file is copied in
# and outlives the container) and var/ (a tmpfs owned by the app user).
VAR_TMPFS = "/app/var:rw,size=16m,mode=0755,U"


def _env(values: dict[str, str]) -> list[str]:
    return [f"--env={key}={value}" for key, value in values.items()]


def _compose_frontend_healthcheck() -> str:
    """The frontend's health probe exactly as deploy/docker-compose.yml gives it (the image's probes the backend)."""
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    kind, command = compose["services"]["frontend-a"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    return str(command)


@dataclass
class Stack:
    backend: ctr.Container
    frontend: ctr.Container
    backend_url: str
    frontend_url: str


@pytest.fixture(scope="module")
def stack(image: str) -> Iterator[Stack]:
    """Backend and frontend containers in one pod, read-only root, published on free 127.0.0.1 ports."""
    backend_port, frontend_port = free_port(), free_port()
    backend_url, frontend_url = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{frontend_port}"
    pod_name, flags = ctr.unique_name("parlor-pod"), ctr.unique_name("parlor-flags")
    read_only = ["--read-only", "--read-only-tmpfs=false", f"--tmpfs={VAR_TMPFS}", f"--pod={pod_name}"]
    frontend_env = {"BACKEND_URL": "http://127.0.0.1:8000", "PUBLIC_BACKEND_URL": backend_url}
    with (
        ctr.pod(pod_name, [f"127.0.0.1:{backend_port}:8000", f"127.0.0.1:{frontend_port}:8501"]),
        ctr.volume(flags),
        ctr.run_container(
            image,
            ctr.unique_name("parlor-backend"),
            [
                *read_only,
                f"--volume={flags}:/app/deploy/flags",
                *_env({**FAST_GAME, "ALLOWED_ORIGINS": frontend_origins(frontend_port)}),
            ],
        ) as backend,
        ctr.run_container(
            image,
            ctr.unique_name("parlor-frontend"),
            [*read_only, f"--health-cmd={_compose_frontend_healthcheck()}", *_env(frontend_env)],
            ["parlor-frontend", "--server.port", "8501", "--server.address", "0.0.0.0"],
        ) as frontend,
    ):
        backend.wait_http(backend_url + "/healthz", timeout=scaled(60))
        frontend.wait_http(frontend_url + "/_stcore/health", timeout=scaled(90))
        yield Stack(backend, frontend, backend_url, frontend_url)


def test_only_the_app_reaches_the_image(stack: Stack) -> None:
    """/app holds the flag directory, the rollout plan and var/; Parlor itself is installed in /opt/venv as a
    package, its data included (packs, static files, the page's Streamlit config, the rules): no tests, load
    tests, other docs or launcher anywhere."""
    listing = stack.backend.exec("ls", "-A", "/app", "/app/deploy")
    assert listing.returncode == 0, listing.stderr
    top, deploy = listing.stdout.strip().split("\n\n")
    assert top == "/app:\ndeploy\nvar"
    assert deploy == "/app/deploy:\nflags\nrollout-plan.yaml"
    files = stack.backend.exec("python", "-c", INSTALLED_FILES)
    assert files.returncode == 0, files.stderr
    installed = set(files.stdout.split())
    top_level = {name.split("/", 1)[0] for name in installed}
    assert {"backend", "frontend", "parlor_protocol", "parlor_runtime"} <= top_level
    assert not top_level & {"tests", "loadtest", "launchers", "docs"}
    assert {
        "backend/game/packs/en-classic.json",
        "frontend/static/bridge.js",
        "frontend/.streamlit/config.toml",
        "frontend/rules/rules.md",
        "frontend/rules/rules.fr.md",
    } <= installed


# The files of the installed distribution, as its RECORD lists them.
INSTALLED_FILES = "import importlib.metadata as m; print(*(str(f) for f in m.files('parlor')), sep='\\n')"


def test_both_processes_run_as_the_non_root_app_user(stack: Stack) -> None:
    """PID 1 of the backend and of the frontend container (the app itself, no shell) runs as uid/gid 10001."""
    for box in (stack.backend, stack.frontend):
        status = box.exec("cat", "/proc/1/status", "/proc/1/cmdline")
        uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status.stdout, re.M)
        gid = re.search(r"^Gid:\s+(\d+)\s+(\d+)", status.stdout, re.M)
        assert uid and gid, status.stdout + status.stderr
        assert {int(uid[1]), int(uid[2]), int(gid[1]), int(gid[2])} == {APP_UID}
        assert "parlor-backend" in status.stdout or "parlor-frontend" in status.stdout


WRITE_PROBE = """
import sys
for path in sys.argv[1:]:
    try:
        open(path, "w").close()
        print(path, "writable")
    except OSError as exc:
        print(path, exc.strerror)
"""


def test_root_filesystem_is_read_only_except_flags_and_var(stack: Stack) -> None:
    """Under --read-only only var/ and the flag directory take writes, and the flag tool works there."""
    paths = [
        "/opt/venv/lib/python3.11/site-packages/backend/x",
        "/app/x",
        "/opt/venv/x",
        "/tmp/x",
        "/home/parlor/x",
        "/app/var/x",
        "/app/deploy/flags/x",
    ]
    probe = stack.backend.exec("python", "-c", WRITE_PROBE, *paths)
    verdicts = dict(line.split(" ", 1) for line in probe.stdout.splitlines())
    assert verdicts == {
        **{path: "Read-only file system" for path in paths[:5]},
        "/app/var/x": "writable",
        "/app/deploy/flags/x": "writable",
    }, probe.stdout + probe.stderr
    # The release tool's atomic rename beside the flag file and its audit line in var/ both land.
    flip = stack.backend.exec("parlor-flags", "set-rollout", "100", "--reason", "container test")
    assert flip.returncode == 0, flip.stdout + flip.stderr
    audit = stack.backend.exec("cat", "/app/var/flags-audit.jsonl")
    assert "container test" in audit.stdout, audit.stderr


def _health(box: ctr.Container) -> str:
    state = box.inspect()["State"]
    return str((state.get("Health") or state.get("Healthcheck") or {}).get("Status", ""))


def test_healthchecks_run_and_report_healthy(image: str, stack: Stack) -> None:
    """The image keeps its HEALTHCHECK (Docker format); it and compose's frontend probe both report healthy."""
    config = json.loads(ctr.podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image).stdout)
    assert "/healthz" in " ".join(config["Test"])
    for box in (stack.backend, stack.frontend):
        runs: list[str] = []

        def healthy(box: ctr.Container = box, runs: list[str] = runs) -> bool:
            result = ctr.podman("healthcheck", "run", box.name, check=False)
            runs.append(f"{result.returncode} {result.stdout.strip()} {result.stderr.strip()}")
            return result.returncode == 0

        ctr.wait_until(healthy, scaled(30), f"{box.name} healthy ({runs[-3:]})")
        assert _health(box) == "healthy"


def test_a_game_is_played_in_chromium_against_the_containers(stack: Stack) -> None:
    """Two Chromium players and a bot play a game to its end through the frontend and backend containers."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            play_a_game_to_its_end(browser, stack.frontend_url)
        finally:
            browser.close()


def test_image_size_is_measured_with_what_takes_the_space(image: str, tmp_path: Path) -> None:
    """loadtest/image_size measures the built image: total, layers and the largest packages in the venv."""
    size = measure(image)
    assert 100 * 2**20 < size.total_bytes < 2 * 2**30
    assert sum(layer.size_bytes for layer in size.layers) == pytest.approx(size.total_bytes, rel=0.05)
    names = [name for name, _ in size.packages]
    assert {"streamlit", "pyarrow"} <= set(names[:10]), size.packages
    report = tmp_path / "benchmarks.md"
    size.write(report, build_seconds=None)
    assert "streamlit" in report.read_text()


@pytest.fixture(scope="module")
def redis_backend(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ctr.Container, str, str]]:
    """A backend container on the host's network, its rooms in a Redis from Debian on the host."""
    if not redis_available():
        pytest.skip("redis-server not installed (scripts/bootstrap.sh dev installs it)")
    with run_redis(tmp_path_factory.mktemp("redis")) as redis:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**FAST_GAME, "STORE_URL": redis.url, "DRAIN_SECONDS": "1"}
        with ctr.run_container(
            image,
            ctr.unique_name("parlor-redis-backend"),
            ["--network=host", "--read-only", f"--tmpfs={VAR_TMPFS}", *_env(env)],
            ["parlor-backend", "--host", "127.0.0.1", "--port", str(port)],
        ) as backend:
            backend.wait_http(url + "/healthz", timeout=scaled(60))
            yield backend, url, redis.url


STOP_TIMEOUT = 10


async def test_backend_container_on_host_redis_drains_with_1012_on_sigterm(
    redis_backend: tuple[ctr.Container, str, str],
) -> None:
    """Rooms land in the host's Redis; `podman stop` closes seated sockets with 1012 and exits 0 in time."""
    import redis.asyncio as aioredis

    backend, url, redis_url = redis_backend
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        alice = await create_room(http, "Alice")
        bob = await join_room(http, alice.room_code, "Bob")
    client = aioredis.from_url(redis_url)
    try:
        state = await client.hget(f"parlor:{{{alice.room_code}}}:room", "state")
    finally:
        await client.aclose()
    assert state is not None and b"Bob" in state
    players = [WsPlayer(url.replace("http", "ws", 1), seat) for seat in (alice, bob)]
    for player in players:
        await player.connect()
    started = time.monotonic()
    stop = await asyncio.to_thread(ctr.podman, "stop", "--time", str(STOP_TIMEOUT), backend.name, timeout=60)
    elapsed = time.monotonic() - started
    assert stop.returncode == 0
    assert [await player.wait_closed(timeout=scaled(5)) for player in players] == [1012, 1012]
    assert elapsed < STOP_TIMEOUT
    # exit 0 on its own, not 137 from the SIGKILL that follows an expired stop timeout
    assert backend.inspect()["State"]["ExitCode"] == 0, backend.logs()

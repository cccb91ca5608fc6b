"""The `single` Kubernetes overlay run for real by `podman kube play` on the image the suite builds.

The overlay is rendered with `kubectl kustomize`, then given what a test run needs and nothing else: this run's
image, free ports on 127.0.0.1 instead of 8000/8501, a unique name suffix (podman names pods and the volumes
it makes for the ConfigMap and emptyDir after the objects), the fast test pace, and origins for the chosen
ports. Podman has no kubelet: it runs no probes of its own here (no systemd timers in this sandbox, and it would
turn an httpGet probe into a curl the image lacks), so the test asks each probe's path itself, as the kubelet
would. The pod's containers are stopped as the kubelet stops them (SIGTERM, the manifest's grace period, the
pod's network up until they exit): seated players are closed with 1012; `podman kube down` removes the pod.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import sync_playwright

from launchers import container as ctr
from launchers.backend import TEST_ENV
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.process import ROOT, free_port
from tests.conftest import scaled
from tests.frontend.player import play_a_game_to_its_end
from tests.support.client import WsPlayer, create_room, join_room

pytestmark = [pytest.mark.container, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1200)]

OVERLAY = ROOT / "deploy" / "kubernetes" / "overlays" / "single"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
# The pace the other end-to-end tests play at; the drain keeps the overlay's own window.
FAST_GAME = {key: value for key, value in TEST_ENV.items() if key != "DRAIN_SECONDS"}


@dataclass
class Played:
    manifest: Path
    pod: str
    backend_url: str
    frontend_url: str
    probes: dict[str, tuple[str, str]]  # container -> (readiness URL, liveness URL)
    volumes: list[str]
    grace_seconds: int


def _set_env(container: dict[str, Any], values: dict[str, str]) -> None:
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    env.update(values)
    container["env"] = [{"name": name, "value": value} for name, value in env.items()]


def for_this_run(docs: list[dict[str, Any]], image: str, suffix: str, ports: dict[int, int]) -> list[dict[str, Any]]:
    """The rendered overlay with this run's image, names and published ports (`ports`: overlay's -> free)."""
    out = []
    for doc in docs:
        if doc["kind"] == "Namespace":
            continue  # podman has no namespaces
        doc["metadata"]["name"] += suffix
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            for volume in pod["volumes"]:
                volume["name"] += suffix
                if "configMap" in volume:
                    volume["configMap"]["name"] += suffix
            for container in pod["containers"]:
                container["image"] = image
                for mount in container.get("volumeMounts", []):
                    mount["name"] += suffix
                for port in container["ports"]:
                    if "hostPort" in port:
                        port["hostPort"] = ports[port["hostPort"]]
        out.append(doc)
    return out


@pytest.fixture(scope="module")
def played(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    rendered = subprocess.run(
        [str(KUBECTL), "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    suffix = f"-{uuid.uuid4().hex[:8]}"
    ports = {8000: free_port(), 8501: free_port()}
    backend_url, frontend_url = f"http://127.0.0.1:{ports[8000]}", f"http://127.0.0.1:{ports[8501]}"
    docs = for_this_run([d for d in yaml.safe_load_all(rendered) if d], image, suffix, ports)
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    origins = json.dumps([frontend_url, frontend_url.replace("127.0.0.1", "localhost")])
    _set_env(containers["backend"], {**FAST_GAME, "ALLOWED_ORIGINS": origins})
    _set_env(containers["frontend"], {"PUBLIC_BACKEND_URL": backend_url})
    probes = {}
    for name, container in containers.items():
        published = {p["name"]: p["hostPort"] for p in container["ports"] if "hostPort" in p}

        def url(probe: dict[str, Any], published: dict[str, int] = published) -> str:
            return f"http://127.0.0.1:{published[probe['httpGet']['port']]}{probe['httpGet']['path']}"

        probes[name] = (url(container["readinessProbe"]), url(container["livenessProbe"]))
    manifest = tmp_path_factory.mktemp("kube") / "single.yaml"
    manifest.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    # podman makes a volume per emptyDir (named after the volume) and per ConfigMap (named after the ConfigMap)
    pod_volumes = deployment["spec"]["template"]["spec"]["volumes"]
    volumes = [v["configMap"]["name"] if "configMap" in v else v["name"] for v in pod_volumes]
    pod = f"{deployment['metadata']['name']}-pod-0"
    try:
        ctr.podman("kube", "play", str(manifest), timeout=300)
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        yield Played(manifest, pod, backend_url, frontend_url, probes, volumes, grace)
    finally:
        ctr.podman("kube", "down", str(manifest), check=False, timeout=120)
        ctr.podman("pod", "rm", "--force", "--time", "0", pod, check=False, timeout=120)
        for volume in volumes:
            ctr.podman("volume", "rm", "--force", volume, check=False)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _pod_state(pod: str) -> dict[str, str]:
    data = json.loads(ctr.podman("pod", "inspect", pod).stdout)
    data = data[0] if isinstance(data, list) else data
    return {c["Name"]: c["State"] for c in data["Containers"]}


def test_pod_runs_and_every_probe_answers(played: Played) -> None:
    """Both containers run, non-root, read-only, and each readiness and liveness probe's URL answers 200."""
    urls = [url for pair in played.probes.values() for url in pair]
    deadline = time.monotonic() + scaled(120)
    while not all(_answers(url) for url in urls):
        states = _pod_state(played.pod)
        assert all(state == "running" for state in states.values()), (
            states,
            ctr.podman("pod", "logs", played.pod, check=False).stdout[-4000:],
        )
        assert time.monotonic() < deadline, f"probes not answering: {[u for u in urls if not _answers(u)]}"
        time.sleep(0.5)
    assert set(_pod_state(played.pod).values()) == {"running"}
    backend = ctr.Container(f"{played.pod}-backend")
    config = backend.inspect()
    assert config["Config"]["User"].split(":")[0] == "10001" and config["HostConfig"]["ReadonlyRootfs"] is True
    flags = backend.exec("parlor-flags", "status")
    assert flags.returncode == 0 and "/etc/parlor/flags/flags.json" in flags.stdout, flags.stdout + flags.stderr


def test_a_game_is_played_through_the_published_port(played: Played) -> None:
    """Two Chromium players and a bot play a game to its end through the pod's published frontend port."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            play_a_game_to_its_end(browser, played.frontend_url)
        finally:
            browser.close()


async def test_sigterm_drains_seated_players_with_1012_then_kube_down(played: Played) -> None:
    """SIGTERM to the pod's containers with the manifest's grace period, as the kubelet sends it, closes the
    seated sockets with 1012 and the backend exits 0 in time; `podman kube down` then removes the pod.

    Debian 12's podman 4.3 stands in for the kubelet in two ways: `kube down` alone SIGKILLs at once (fixed in
    podman 5.1: containers/podman#22397, #22398), and `pod stop` tears the pod's network down while its containers
    still drain (the 1012 sent after that never arrives). So the app containers are stopped first, the sandbox
    staying up until they have exited, which is how a kubelet stops a pod.
    """
    async with httpx.AsyncClient(base_url=played.backend_url, timeout=10) as http:
        alice = await create_room(http, "Alice")
        bob = await join_room(http, alice.room_code, "Bob")
    players = [WsPlayer(played.backend_url.replace("http", "ws", 1), seat) for seat in (alice, bob)]
    for player in players:
        await player.connect()
    apps = [f"{played.pod}-{name}" for name in played.probes]
    started = time.monotonic()
    stop = await asyncio.to_thread(
        ctr.podman, "stop", "--time", str(played.grace_seconds), *apps, check=False, timeout=120
    )
    elapsed = time.monotonic() - started
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert [await player.wait_closed(timeout=scaled(10)) for player in players] == [1012, 1012]
    assert elapsed < played.grace_seconds
    backend = ctr.Container(f"{played.pod}-backend")
    assert backend.inspect()["State"]["ExitCode"] == 0, backend.logs()
    down = await asyncio.to_thread(ctr.podman, "kube", "down", str(played.manifest), check=False, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert ctr.podman("pod", "exists", played.pod, check=False).returncode != 0

"""Podman for the container tests: a base image made from Debian packages, the image built from the Dockerfile,
containers started under generated names and always removed.

Podman runs as Debian ships it, with the settings this kind of sandbox needs: runc, cgroupfs, events in a file,
and explicit nofile/nproc limits on every container (raising limits is refused). Storage is overlay where the
kernel has it, else vfs (PARLOR_PODMAN_STORAGE_DRIVER overrides): vfs works everywhere but copies the whole
root filesystem for every layer and every container, about 1.2 GB and 15-40 s each for this image. Podman keeps
its own store under the cache directory, so the test neither sees nor touches other images, and what is worth
keeping between runs stays there: the mmdebstrap tarball, its imported base image, pip's cache and the layers
of the last build. `rm -rf` the directory (after `podman system reset` with the same flags) to start cold.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from launchers.process import ROOT

CACHE = Path(
    os.environ.get("PARLOR_CONTAINER_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "parlor-container"
)


def _storage_driver() -> str:
    if os.environ.get("PARLOR_PODMAN_STORAGE_DRIVER"):
        return os.environ["PARLOR_PODMAN_STORAGE_DRIVER"]
    with contextlib.suppress(OSError):
        if os.getuid() == 0 and "\toverlay\n" in Path("/proc/filesystems").read_text():
            return "overlay"
    return "vfs"


STORAGE_DRIVER = _storage_driver()
RUN_ROOT = Path(os.environ.get("XDG_RUNTIME_DIR") or "/run") / f"parlor-podman-{os.getuid()}-{STORAGE_DRIVER}"
PODMAN = [
    "podman",
    "--root",
    str(CACHE / f"storage-{STORAGE_DRIVER}"),
    "--runroot",
    str(RUN_ROOT),
    "--storage-driver",
    STORAGE_DRIVER,
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
]
# The sandbox refuses to raise limits, and runc otherwise tries to set podman's defaults (nofile 1048576).
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]

SUITE = "bookworm"
BASE_PACKAGES = "python3,python3-venv,python-is-python3,ca-certificates"
BASE_TAG = f"localhost/parlor-base:{SUITE}-" + hashlib.sha256(f"{SUITE} {BASE_PACKAGES}".encode()).hexdigest()[:12]
# Where package downloads go through the host's trust settings, the build needs the host's CA store and its
# global pip configuration (cert, constraints); both are mounted read-only, only for the build.
HOST_BUILD_MOUNTS = ("/etc/ssl/certs", "/etc/pip.conf", "/etc/xdg/pip")


class PodmanError(RuntimeError):
    pass


# The same limits for containers podman starts on its own (a pod's pause container), which take no --ulimit.
CONTAINERS_CONF = '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'


def podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    conf = CACHE / "containers.conf"
    if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
        CACHE.mkdir(parents=True, exist_ok=True)
        conf.write_text(CONTAINERS_CONF)
    result = subprocess.run(
        [*PODMAN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "CONTAINERS_CONF": str(conf)},
    )
    if check and result.returncode != 0:
        raise PodmanError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def unavailable_reason() -> str | None:
    """Why podman cannot run containers here, or None when it can (the tests skip with this reason)."""
    missing = [tool for tool in ("podman", "runc", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (scripts/bootstrap.sh dev installs them from Debian)"
    if os.getuid() != 0:
        return "the container tests run rootful podman (own store, host files mounted into the build) and need root"
    try:
        podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60)
        podman("run", "--rm", *ULIMITS, "--network", "none", ensure_base_image(), "true", timeout=120)
    except (PodmanError, subprocess.TimeoutExpired) as exc:
        return f"podman cannot run a container here: {exc}"
    return None


def ensure_base_image() -> str:
    """The base image made from Debian packages: imported from the cached tarball, made with mmdebstrap once."""
    with _cache_lock():
        if podman("image", "exists", BASE_TAG, check=False).returncode == 0:
            return BASE_TAG
        tarball = CACHE / f"{BASE_TAG.rsplit(':', 1)[1]}.tar"
        if not tarball.exists():
            partial = tarball.with_suffix(".partial.tar")
            subprocess.run(
                ["mmdebstrap", "--quiet", "--variant=apt", f"--include={BASE_PACKAGES}", SUITE, str(partial)],
                check=True,
                timeout=600,
                capture_output=True,
            )
            partial.rename(tarball)
        podman("import", "--change", "CMD=python3", str(tarball), BASE_TAG, timeout=300)
        return BASE_TAG


@contextlib.contextmanager
def _cache_lock(name: str = ".lock") -> Iterator[None]:
    """One test run at a time fills the cache (two would write the same tarball and wheels)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _host_build_mounts() -> list[str]:
    return [f"--volume={path}:{path}:ro" for path in HOST_BUILD_MOUNTS if Path(path).exists()]


def ensure_wheels(base: str, requirements: Path = ROOT / "requirements.lock") -> Path:
    """Every wheel the runtime lock names, downloaded once into the cache by pip on the image's own Python.

    Its own, not the host's: the markers differ (redis wants async-timeout below Python 3.11.3, Debian has 3.11.2).
    The downloads are checked against the lock's hashes here already, and again by the build's pip.
    """
    wheels = CACHE / "wheels"
    stamp = wheels / f".complete-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}"
    with _cache_lock():
        if not stamp.exists():
            wheels.mkdir(parents=True, exist_ok=True)
            download = (
                "python -m venv /tmp/venv"
                " && /tmp/venv/bin/pip download --quiet --require-hashes --dest /wheels -r /req.txt"
            )
            podman(
                "run",
                "--rm",
                *ULIMITS,
                *_host_build_mounts(),
                f"--volume={wheels}:/wheels",
                f"--volume={requirements}:/req.txt:ro",
                base,
                "sh",
                "-c",
                download,
                timeout=600,
            )
            stamp.touch()
    return wheels


@dataclass
class Build:
    tag: str
    seconds: float
    log: str


CACHE_TAG = "localhost/parlor-test:cache"


def build_image(tag: str, *, base: str, context: Path = ROOT, timeout: float = 900) -> Build:
    """`podman build` of the Dockerfile on `base`, in Docker format so HEALTHCHECK survives; raises on failure.

    pip in the build installs from the cached wheels only (a pip config mounted for the build, the Dockerfile
    is untouched). The image is also tagged CACHE_TAG, so its layers stay as the next run's cache after the
    caller removes `tag`; dangling images from older builds are pruned after a week.
    """
    wheels = ensure_wheels(base, context / "requirements.lock")
    pip_conf = CACHE / "pip-offline.conf"
    pip_conf.write_text("[global]\nno-index = true\nfind-links = /wheels\n")
    mounts = [
        *_host_build_mounts(),
        f"--volume={wheels}:/wheels:ro",
        f"--volume={pip_conf}:/root/.config/pip/pip.conf:ro",
    ]
    # One build at a time (test_image and test_kube_play each build, on two workers): the second finds every
    # layer in the cache instead of doing the same slow work beside the first.
    with _cache_lock(".build-lock"):
        started = time.monotonic()
        result = _build(tag, base, context, mounts, timeout)
        seconds = time.monotonic() - started
    if result.returncode != 0:
        raise PodmanError(
            f"podman build failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
        )
    podman("image", "prune", "--force", "--filter", "until=168h", check=False, timeout=300)
    return Build(tag, seconds, result.stdout)


def _build(tag: str, base: str, context: Path, mounts: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return podman(
        "build",
        "--format",
        "docker",
        "--layers",
        "--build-arg",
        f"BASE_IMAGE={base}",
        *ULIMITS,
        *mounts,
        "--tag",
        tag,
        "--tag",
        CACHE_TAG,
        "--file",
        str(context / "Dockerfile"),
        str(context),
        timeout=timeout,
        check=False,
    )


def remove_image(tag: str) -> None:
    """Remove `tag`; an image also tagged CACHE_TAG is only untagged, and stays as the build cache."""
    podman("rmi", "--force", tag, check=False, timeout=300)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Container:
    name: str

    def inspect(self) -> dict[str, Any]:
        data = json.loads(podman("inspect", "--type", "container", self.name).stdout)
        assert isinstance(data, list) and data
        return dict(data[0])

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *argv, timeout=timeout, check=False)

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        return bool(self.inspect()["State"]["Running"])

    def wait_http(self, url: str, timeout: float) -> None:
        """Wait until `url` answers; fail at once, with the container's log, if the container has exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code < 500:
                    return
            if not self.running():
                state = self.inspect()["State"]
                raise RuntimeError(f"{self.name} exited ({state['ExitCode']}) before {url} answered:\n{self.logs()}")
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer within {timeout} s; {self.name} log:\n{self.logs()}")


@contextlib.contextmanager
def run_container(
    image: str, name: str, options: Sequence[str] = (), command: Sequence[str] = ()
) -> Iterator[Container]:
    """`podman run -d` under `name` with the sandbox's limits; the container is removed however the test ends."""
    try:
        podman("run", "--detach", "--name", name, *ULIMITS, *options, image, *command, timeout=120)
        yield Container(name)
    finally:
        podman("rm", "--force", "--time", "0", "--volumes", name, check=False, timeout=120)


@contextlib.contextmanager
def pod(name: str, publish: Sequence[str]) -> Iterator[str]:
    """A pod (one network namespace, bridge networking) publishing `publish` (podman -p syntax) on the host."""
    try:
        podman("pod", "create", "--name", name, *(f"--publish={p}" for p in publish), timeout=60)
        yield name
    finally:
        podman("pod", "rm", "--force", "--time", "0", name, check=False, timeout=120)


@contextlib.contextmanager
def volume(name: str) -> Iterator[str]:
    try:
        podman("volume", "create", name)
        yield name
    finally:
        podman("volume", "rm", "--force", name, check=False)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not within {timeout} s")

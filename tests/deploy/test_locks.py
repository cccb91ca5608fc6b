"""The locks (requirements.lock, requirements-dev.lock) against pyproject.toml: complete, hashed, fresh.

Offline, every requirement pyproject.toml declares must be pinned by a version it accepts, and what the lock says
came from pyproject.toml must be exactly what pyproject.toml declares (a dependency added, changed or removed
without relocking fails here). Then scripts/lock.sh itself runs on a copy against the package index: uv keeps
the pins a lock already has, so a fresh lock comes back byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Pin:
    version: str
    hashes: frozenset[str]
    via: frozenset[str]  # what asked for it: package names, or "pyproject.toml" / "pyproject.toml:build"


def read_lock(path: Path) -> dict[str, Pin]:
    """The pins of a `uv pip compile` lock: name -> version, hashes and its `# via` annotation."""
    pins: dict[str, Pin] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    for entry in entries:
        head = re.match(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", entry)
        if head is None:
            continue
        via: set[str] = set()
        for line in re.findall(r"^\s+#\s+(?:via\s+)?(.+)$", entry, re.M):
            if line.strip() != "via":
                found = re.match(r"parlor \((pyproject\.toml(?::\w+)?)\)", line.strip())
                via.add(found[1] if found else canonicalize_name(line.strip().split()[0]))
        pins[canonicalize_name(head[1])] = Pin(
            head[2], frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", entry)), frozenset(via)
        )
    return pins


def declared(pyproject: dict[str, object], extras: tuple[str, ...]) -> tuple[list[Requirement], list[Requirement]]:
    """The project's requirements with `extras` (self-references like parlor[loadtest] expanded), and the build
    group's."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    optional = project.get("optional-dependencies", {})
    wanted, todo, seen = [Requirement(r) for r in project["dependencies"]], list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == canonicalize_name(project["name"]):
                todo.extend(req.extras)
            else:
                wanted.append(req)
    groups = pyproject.get("dependency-groups", {})
    assert isinstance(groups, dict)
    return wanted, [Requirement(r) for r in groups.get("build", [])]


def staleness(pyproject: dict[str, object], lock: dict[str, Pin], extras: tuple[str, ...]) -> list[str]:
    """What makes `lock` stale against `pyproject`; empty when it is fresh."""
    wanted, build = declared(pyproject, extras)
    problems = []
    for origin, reqs in (("pyproject.toml", wanted), ("pyproject.toml:build", build)):
        for req in reqs:
            pin = lock.get(canonicalize_name(req.name))
            if pin is None:
                problems.append(f"{req} is not in the lock")
            elif not req.specifier.contains(Version(pin.version), prereleases=True):
                problems.append(f"{req} is pinned at {pin.version}")
        names = {canonicalize_name(r.name) for r in reqs}
        claimed = {name for name, pin in lock.items() if origin in pin.via}
        problems += [f"{name} is locked as from {origin}, which no longer asks for it" for name in claimed - names]
    return problems


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize(("lock", "extras"), [(RUNTIME_LOCK, ()), (DEV_LOCK, ("dev",))], ids=["runtime", "dev"])
def test_lock_pins_what_pyproject_declares_and_nothing_it_dropped(lock: Path, extras: tuple[str, ...]) -> None:
    """Every declared requirement (and the build backend) is pinned by a version it accepts; nothing the lock
    credits to pyproject.toml is gone from it; every pin carries sha256 hashes."""
    pins = read_lock(lock)
    assert staleness(pyproject(), pins, extras) == []
    assert not [name for name, pin in pins.items() if not pin.hashes]


def test_the_check_catches_a_dependency_added_changed_or_removed() -> None:
    """A new dependency, a raised lower bound and a removed one each make the committed lock stale."""
    base = pyproject()
    pins = read_lock(RUNTIME_LOCK)
    project = base["project"]
    assert isinstance(project, dict)
    deps: list[str] = project["dependencies"]
    added = {**base, "project": {**project, "dependencies": [*deps, "six>=1.16"]}}
    raised = {**base, "project": {**project, "dependencies": [d.replace(">=0.165.0", ">=99") for d in deps]}}
    removed = {**base, "project": {**project, "dependencies": [d for d in deps if not d.startswith("disarm")]}}
    assert staleness(added, pins, ()) == ["six>=1.16 is not in the lock"]
    assert staleness(raised, pins, ()) == ["fastapi>=99 is pinned at 0.165.0"]
    assert staleness(removed, pins, ()) == ["disarm is locked as from pyproject.toml, which no longer asks for it"]


def test_dev_lock_pins_the_runtime_packages_exactly_as_the_runtime_lock() -> None:
    """Tests run against the versions and files the image installs: same version, same hashes."""
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    assert {name: (pin.version, pin.hashes) for name, pin in runtime.items()} == {
        name: (dev[name].version, dev[name].hashes) for name in runtime if name in dev
    }
    assert set(runtime) <= set(dev)


def test_bootstrap_and_the_dockerfile_install_from_the_locks_with_hashes() -> None:
    """The two installers (CI runs bootstrap through scripts/test.sh) read the locks in --require-hashes mode."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock" in dockerfile
    assert 'pip install -q --require-hashes -r "$lock"' in bootstrap
    assert 'lock="requirements.lock"' in bootstrap and 'lock="requirements-dev.lock"' in bootstrap


@pytest.mark.slow
def test_relocking_a_copy_changes_nothing(tmp_path: Path) -> None:
    """scripts/lock.sh run on a copy of pyproject.toml and the locks (uv against the index) writes them back
    unchanged: a lock behind pyproject.toml, or written by hand, differs here."""
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lock.sh", tmp_path / "scripts" / "lock.sh")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {**os.environ}
    if HOST_CA.exists():
        env.setdefault("SSL_CERT_FILE", str(HOST_CA))
    result = subprocess.run(
        ["bash", "scripts/lock.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("requirements.lock", "requirements-dev.lock"):
        assert (tmp_path / name).read_text() == (ROOT / name).read_text(), f"{name} is stale: bash scripts/lock.sh"

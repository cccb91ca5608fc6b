"""Parlor as a package: `pip install .` into a fresh virtualenv gives the four console scripts, and the wheel
carries what the code reads at run time (word packs, static files, the page's Streamlit config, the rules).

The fresh virtualenv gets the runtime lock first (uv, hashes checked: its cache makes a second run take seconds),
then `pip install --no-deps --no-build-isolation .` as the Dockerfile does. Everything runs from a directory
outside the checkout, so nothing is imported from the working tree.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launchers.process import ROOT, Server, free_port, running

pytestmark = pytest.mark.slow

SCRIPTS = ("parlor-backend", "parlor-frontend", "parlor-flags", "parlor-rollout")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
UV = ROOT / ".venv" / "bin" / "uv"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
PACKAGE_DATA = {
    "backend/game/packs/en-classic.json",
    "backend/game/packs/fr-classique.json",
    "frontend/static/bridge.js",
    "frontend/static/bridge/protocol.js",
    "frontend/static/style.css",
    "parlor_protocol/py.typed",
    "parlor_runtime/py.typed",
    "frontend/.streamlit/config.toml",
    "frontend/rules/rules.md",
    "frontend/rules/rules.fr.md",
}


def run(argv: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if HOST_CA.exists():
        env.setdefault("SSL_CERT_FILE", str(HOST_CA))  # uv's own store otherwise (docs/deploy.md)
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("package")


@pytest.fixture(scope="module")
def wheel(workdir: Path) -> Path:
    """The wheel `pip wheel .` builds with the locked build backend."""
    out = workdir / "dist"
    pip = [ROOT / ".venv/bin/python", "-m", "pip"]
    run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--wheel-dir", out, ROOT], workdir)
    (found,) = out.glob("parlor-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_venv(workdir: Path) -> Iterator[Path]:
    """A new virtualenv with the runtime lock and `pip install .`; its bin directory."""
    home = workdir / "venv"
    venv.EnvBuilder(with_pip=False).create(home)  # pip comes from the checkout's venv (--python): no ensurepip
    python = home / "bin" / "python"
    run([UV, "pip", "install", "-q", "--python", python, "--require-hashes", "-r", ROOT / "requirements.lock"], workdir)
    pip = [ROOT / ".venv/bin/python", "-m", "pip", "--python", python]
    run([*pip, "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", ROOT], workdir)
    yield home / "bin"


def test_wheel_carries_the_package_data_and_no_tests(wheel: Path) -> None:
    """Packs, static files, the Streamlit config, the rules and the two shared packages (typed) are in the wheel;
    tests and load tests are not."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert names >= PACKAGE_DATA
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"backend", "frontend", "parlor_protocol", "parlor_runtime", f"parlor-{VERSION}.dist-info"}
    entry_points = zipfile.ZipFile(wheel).read(f"parlor-{VERSION}.dist-info/entry_points.txt").decode()
    assert all(f"{script} = " in entry_points for script in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_console_script_answers_version_and_help(fresh_venv: Path, workdir: Path, script: str) -> None:
    """Each console script prints the package's version and its usage, started outside the checkout."""
    version = run([fresh_venv / script, "--version"], workdir, timeout=60)
    assert version.stdout.strip() == f"{script} (parlor {VERSION})"
    usage = run([fresh_venv / script, "--help"], workdir, timeout=60)
    assert usage.stdout.startswith(f"usage: {script}")
    if script == "parlor-frontend":
        assert "--server.port" in usage.stdout  # streamlit run's own options follow ours


def test_installed_code_reads_its_data_from_the_installed_package(fresh_venv: Path, workdir: Path) -> None:
    """The frontend's rules and the backend's packs resolve inside the virtualenv, not the checkout."""
    probe = (
        "import backend.game.words as w, frontend.views.room as r;"
        "print(w.PACKS_DIR); print(r.RULES_PATH, r.RULES_PATH.exists())"
    )
    packs, rules = run([fresh_venv / "python", "-c", probe], workdir, timeout=60).stdout.splitlines()
    venv_root = str(fresh_venv.parent)
    assert packs.startswith(venv_root) and rules.startswith(venv_root) and rules.endswith("rules.md True")


def test_installed_backend_serves_the_bundled_packs(fresh_venv: Path, workdir: Path) -> None:
    """`parlor-backend` from the fresh virtualenv answers /healthz and lists the four bundled packs."""
    port = free_port()
    server = Server(
        [str(fresh_venv / "parlor-backend"), "--port", str(port)], port, workdir / "backend.log", cwd=workdir
    )
    with running(server, timeout=60):
        packs = httpx.get(f"{server.url}/api/packs", timeout=10).json()
    assert sorted(pack["id"] for pack in packs) == sorted(p.stem for p in (ROOT / "backend/game/packs").glob("*.json"))


def test_installed_frontend_serves_the_page_with_its_own_streamlit_config(fresh_venv: Path, workdir: Path) -> None:
    """`parlor-frontend` started outside the checkout applies frontend/.streamlit/config.toml (no embedding host
    may message the page: allowedOrigins is empty, where Streamlit's default lists its cloud's domains)."""
    port = free_port()
    argv = [str(fresh_venv / "parlor-frontend"), "--server.port", str(port), "--server.address", "127.0.0.1"]
    env = {**os.environ, "FRONTEND_METRICS_PORT": "0"}
    server = Server(argv, port, workdir / "frontend.log", env=env, health="/_stcore/health", cwd=workdir)
    with running(server, timeout=90):
        host_config = httpx.get(f"{server.url}/_stcore/host-config", timeout=10).json()
    assert host_config["allowedOrigins"] == []

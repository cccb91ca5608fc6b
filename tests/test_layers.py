"""The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md's layer table) hold on this
tree, and `lint-imports` refuses a copy of it with one import pointing the wrong way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {c["id"]: c["name"] for c in CONFIG["contracts"]}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the packages of `cwd`, never the checkout the editable install points at.
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def python_only(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or (not n.endswith(".py") and not Path(directory, n).is_dir())}


def test_every_contract_holds_on_the_tree() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract", "message"),
    [
        (
            "backend/game/text.py",
            "import backend.api",
            "backend-layers",
            "backend.game is not allowed to import backend.api",
        ),
        ("frontend/api.py", "import loadtest.report", "production-alone", "frontend is not allowed to import loadtest"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, wrong_import: str, contract: str, message: str
) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=python_only)
    with (tmp_path / module).open("a") as f:
        f.write(f"\n{wrong_import}  # deliberately the wrong way\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{CONTRACTS[contract]} BROKEN" in result.stdout
    assert message in result.stdout

"""The routers stay thin: they reach the game only through the service (issue 11's "one door")."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[3] / "backend" / "api"


def test_nothing_under_backend_api_imports_the_game() -> None:
    offenders = []
    for path in sorted(API.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n == "backend.game" or n.startswith("backend.game.")]
    assert not offenders

"""What crosses a tier is one package: the frontend imports nothing from `backend`, `parlor_protocol` only the
standard library, and `parlor_runtime` neither tier."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    """{top-level module imported: {file, ...}} for every absolute import in the package."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_frontend_imports_no_backend_module() -> None:
    used = imports("frontend")
    assert "backend" not in used, used.get("backend")
    assert "parlor_protocol" in used


def test_parlor_protocol_needs_only_the_standard_library() -> None:
    outside = set(imports("parlor_protocol")) - set(sys.stdlib_module_names) - {"__future__", "parlor_protocol"}
    assert not outside, outside


def test_parlor_runtime_imports_neither_tier() -> None:
    used = imports("parlor_runtime")
    assert not set(used) & {"backend", "frontend", "loadtest", "launchers"}, used

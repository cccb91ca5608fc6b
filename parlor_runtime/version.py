"""Parlor's version, read from the installed package's metadata (pyproject.toml's `version` is the one source).

A checkout run without `pip install` (tests from a bare tree, `python -m backend` next to an old venv) has no
metadata: the version is then FALLBACK_VERSION, a PEP 440 local version that no release carries, so a build
info metric or `--version` makes it obvious the code is not an installed release.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "parlor"
FALLBACK_VERSION = "0+unknown"


def _installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return FALLBACK_VERSION


VERSION: str = _installed_version()

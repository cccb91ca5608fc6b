"""Parlor's version, from the installed package's metadata ("0+unknown" when run from a bare source tree)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION: str = version("parlor")
except PackageNotFoundError:
    VERSION = "0+unknown"

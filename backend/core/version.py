"""Parlor's version, shared with the frontend: defined in `parlor_runtime.version`, re-exported here."""

from __future__ import annotations

from parlor_runtime.version import VERSION

__all__ = ["VERSION"]

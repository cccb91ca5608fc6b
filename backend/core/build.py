"""The build info metric, shared with the frontend: defined in `parlor_runtime.build`, re-exported here."""

from __future__ import annotations

from parlor_runtime.build import build_labels, register_build_info

__all__ = ["build_labels", "register_build_info"]

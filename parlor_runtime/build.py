"""What build a process runs, for `parlor_build_info` on every /metrics: version, commit and Python.

The commit comes from PARLOR_COMMIT (the image sets it at build time: `--build-arg PARLOR_COMMIT=$(git
rev-parse --short HEAD)`), else from git when run from a checkout, else "unknown".
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import cache
from pathlib import Path

from prometheus_client import CollectorRegistry, Info

from parlor_runtime.version import VERSION

ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    if os.environ.get("PARLOR_COMMIT"):
        return os.environ["PARLOR_COMMIT"]
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else "unknown"


@cache
def build_labels() -> dict[str, str]:
    return {"version": VERSION, "commit": _commit(), "python": platform.python_version()}


def register_build_info(registry: CollectorRegistry) -> Info:
    """`parlor_build_info{version,commit,python} 1` in `registry`."""
    info = Info("parlor_build", "The build this process runs: version, commit and Python", registry=registry)
    info.info(build_labels())
    return info

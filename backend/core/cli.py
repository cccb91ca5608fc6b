"""What the command-line tools share: the name they were started under and their `--version`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.core.version import VERSION


def prog(module_form: str) -> str:
    """`parlor-flags` when started as the console script, else the `python -m ...` form the docs show."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name.startswith("parlor-") else module_form


def add_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"%(prog)s (parlor {VERSION})")

"""Write one benchmark's section of docs/benchmarks.md without touching the others.

Each benchmark owns the text between `<!-- BEGIN name -->` and `<!-- END name -->`; a section that does not
exist yet is appended. Figures always come from the run that writes them, never from a hand-typed table.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
HEADER = (
    "# Parlor benchmarks\n\nEvery figure below was measured by the script named in its section; rerun it to refresh.\n"
)


def machine_line(packages: Sequence[str] = ("fastapi", "uvicorn", "websockets")) -> str:
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured {now} on {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}, "
        + ", ".join(versions)
        + "."
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def update_section(name: str, markdown: str, path: Path = REPORT) -> None:
    text = path.read_text() if path.exists() else HEADER
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

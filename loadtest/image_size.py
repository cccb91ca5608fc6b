"""What the image weighs and what takes the space: writes section "image" of docs/benchmarks.md.

    python -m loadtest.image_size                 # build with podman on the Debian-made base, measure, write
    python -m loadtest.image_size --tag TAG       # measure an image built already (podman store of the tests)
    python -m loadtest.image_size --no-report     # print only

The build is the container test's (launchers/container.py: podman with runc and vfs, the mmdebstrap base,
pip's cache kept between runs), so its time depends on what the cache held; the section says which. Sizes
come from `podman image inspect` and `podman history`, and `du` over the image's mounted root filesystem.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import os
import platform
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from launchers import container as ctr
from loadtest.report import REPORT, update_section

MiB = 2**20
# Top-level areas of the root filesystem, largest first in the report.
AREAS = ("opt/venv", "usr/lib/python3.11", "usr/lib/x86_64-linux-gnu", "usr/share", "usr/bin", "var/lib", "app")


@dataclass
class Layer:
    created_by: str
    size_bytes: int


@dataclass
class ImageSize:
    tag: str
    total_bytes: int
    base_bytes: int
    layers: list[Layer] = field(default_factory=list)
    areas: list[tuple[str, int]] = field(default_factory=list)
    packages: list[tuple[str, int]] = field(default_factory=list)

    def markdown(self, build_seconds: float | None, cache_note: str = "") -> str:
        lines = [
            "## Image size (`loadtest/image_size.py`)",
            "",
            f"{_machine_line()}",
            "",
            "`python -m loadtest.image_size`: the Dockerfile built with podman (runc) on a base made from "
            "Debian packages (`mmdebstrap --variant=apt --include=python3,python3-venv,python-is-python3,"
            "ca-certificates bookworm`), as the container test builds it. The official `python:3.11-slim-bookworm` "
            "base could not be pulled here; it is a different base, so its total differs.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| image (uncompressed, all layers) | {_mib(self.total_bytes)} |",
            f"| of which the Debian-made base | {_mib(self.base_bytes)} |",
            f"| of which Parlor's layers | {_mib(self.total_bytes - self.base_bytes)} |",
        ]
        if build_seconds is not None:
            lines.append(f"| build time | {build_seconds:.0f} s {cache_note} |")
        lines += ["", "Layers (from `podman history`, largest first, empty ones left out):", ""]
        lines += ["| layer | size |", "|---|---|"]
        for layer in sorted(self.layers, key=lambda item: -item.size_bytes):
            if layer.size_bytes:
                lines.append(f"| `{_short(layer.created_by)}` | {_mib(layer.size_bytes)} |")
        lines += ["", "Where the space goes (`du` over the image's root filesystem):", ""]
        lines += ["| path | size |", "|---|---|"]
        lines += [f"| /{path} | {_mib(size)} |" for path, size in self.areas]
        lines += [
            "",
            "Largest distributions in /opt/venv (the files each one's RECORD lists, bundled `.libs` and bytecode "
            "included). pyarrow, pandas, numpy, pydeck, altair and pillow are there for streamlit, which requires "
            "them:",
            "",
        ]
        lines += ["| package | size |", "|---|---|"]
        lines += [f"| {name} | {_mib(size)} |" for name, size in self.packages[:12]]
        return "\n".join(lines)

    def write(self, path: Path = REPORT, build_seconds: float | None = None, cache_note: str = "") -> None:
        update_section("image", self.markdown(build_seconds, cache_note), path)


def _machine_line() -> str:
    podman = ctr.podman("version", "--format", "{{.Client.Version}}").stdout.strip()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured {now} on {platform.machine()} with {os.cpu_count()} cores, podman {podman} "
        f"({ctr.STORAGE_DRIVER} storage), load average {load}."
    )


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB"


def _short(created_by: str) -> str:
    text = " ".join(created_by.replace("/bin/sh -c ", "").replace("#(nop) ", "").split())
    return (text[:90] + "…" if len(text) > 90 else text).replace("|", "\\|")


def _du(path: Path) -> int:
    result = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=False, timeout=120)
    return int(result.stdout.split()[0]) if result.stdout else 0


def _distribution_sizes(site: Path) -> dict[str, int]:
    """Bytes per installed distribution: the files its RECORD lists (bundled .libs and the bytecode pip compiled)."""
    sizes: dict[str, int] = defaultdict(int)
    for record in site.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        for row in csv.reader(record.read_text().splitlines()):
            path = site / row[0] if row else None
            if path is not None and path.is_file() and not path.is_symlink():
                sizes[name] += path.stat().st_size
    return dict(sizes)


def measure(tag: str) -> ImageSize:
    """Total and per-layer sizes from podman, and `du` of the main areas and venv packages of the image."""
    total = int(ctr.podman("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    history = json.loads(ctr.podman("history", "--format", "json", "--no-trunc", tag).stdout)
    layers = [
        Layer(str(entry.get("CreatedBy") or entry.get("created_by") or ""), int(entry["size"])) for entry in history
    ]
    base = ctr.podman("image", "inspect", "--format", "{{.Size}}", ctr.BASE_TAG, check=False)
    base_bytes = int(base.stdout.strip()) if base.returncode == 0 else 0
    root = Path(ctr.podman("image", "mount", tag, timeout=120).stdout.strip())
    try:
        areas = sorted(((area, _du(root / area)) for area in AREAS), key=lambda item: -item[1])
        site = next((root / "opt/venv/lib").glob("python3*/site-packages"))
        packages = sorted(_distribution_sizes(site).items(), key=lambda item: -item[1])
    finally:
        ctr.podman("image", "unmount", tag, check=False)
    return ImageSize(tag, total, base_bytes, layers, areas, packages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", help="measure this image (in the container tests' podman store) instead of building")
    parser.add_argument("--no-report", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    reason = ctr.unavailable_reason()
    if reason:
        parser.exit(1, f"podman cannot run here: {reason}\n")
    build_seconds: float | None = None
    cache_note = ""
    tag = args.tag
    if tag is None:
        warm = ctr.podman("image", "exists", ctr.CACHE_TAG, check=False).returncode == 0
        cache_note = "(the last build's layers cached)" if warm else "(no cached layers: pip installs every wheel)"
        tag = f"localhost/{ctr.unique_name('parlor-size')}:latest"
        build_seconds = ctr.build_image(tag, base=ctr.ensure_base_image()).seconds
    try:
        size = measure(tag)
        print(size.markdown(build_seconds, cache_note))
        if not args.no_report:
            size.write(build_seconds=build_seconds, cache_note=cache_note)
    finally:
        if args.tag is None:
            ctr.remove_image(tag)


if __name__ == "__main__":
    main()

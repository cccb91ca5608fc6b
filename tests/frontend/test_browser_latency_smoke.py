"""The browser latency benchmark runs end to end in its quick mode (figures are not judged here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from launchers.process import ROOT
from tests.conftest import scaled

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MODES = ("event-driven bridge", "click to screen", "long-poll fallback", "seed loop", "legacy polling")


def test_quick_benchmark_measures_every_mode(tmp_path: Path) -> None:
    """`--quick` takes 5 positive samples in each of the five modes and leaves docs/benchmarks.md alone."""
    before = _section()
    out = tmp_path / "samples.json"
    proc = subprocess.run(
        [sys.executable, "-m", "loadtest.browser_latency", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=scaled(240),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    samples = json.loads(out.read_text())
    assert list(samples) == list(MODES)
    for mode, got in samples.items():
        assert len(got["seen"]) == 5, mode
        assert all(v > 0 for v in got["seen"]), (mode, got)
        # the bridge's share is measured wherever the page has a bridge, and it comes before the screen
        assert len(got["bridge"]) == (0 if mode == "legacy polling" else 5), (mode, got)
        assert all(0 < b < s for b, s in zip(got["bridge"], got["seen"], strict=False)), (mode, got)
    assert _section() == before


def _section() -> str:
    """This benchmark's part of docs/benchmarks.md (other benchmarks may write theirs meanwhile)."""
    report = ROOT / "docs" / "benchmarks.md"
    text = report.read_text() if report.exists() else ""
    match = re.search(r"<!-- BEGIN browser-latency -->.*?<!-- END browser-latency -->", text, re.S)
    return match.group(0) if match else ""

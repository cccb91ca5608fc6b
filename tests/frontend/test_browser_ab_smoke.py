"""The side-by-side browser tool runs end to end, both phases and the CPU reading (figures are not judged here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from launchers.process import ROOT
from tests.conftest import scaled

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ab_compares_head_with_the_working_tree() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtest.browser_ab", "--ref", "HEAD", "--samples", "3", "--no-report"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=scaled(240),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if " n=  3 " in line]
    sides = [line.split()[0] for line in lines]
    phases = [line.split()[2 if line.startswith("working") else 1] for line in lines]
    assert sides == ["HEAD", "HEAD", "working", "working"], proc.stdout
    assert phases == ["push", "click", "push", "click"], proc.stdout
    assert all("p50" in line and "by tenths" in line and "cpu/session/clue" in line for line in lines)

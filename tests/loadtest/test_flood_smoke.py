"""The flood benchmark runs as a program on a short window: honest rooms lose nothing, the attacker is refused."""

from __future__ import annotations

import json
import subprocess

from launchers.process import PYTHON, ROOT


def test_flood_smoke_run_loses_nothing_and_refuses_the_attacker() -> None:
    """2 rooms, 4 s: every committed clue reaches every socket once, and the flood meets 429s or close codes."""
    out = subprocess.run(
        [PYTHON, "-m", "loadtest.flood", "--rooms", "2", "--seconds", "4", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    for run in ("quiet", "flood"):
        assert figures[run]["posted"] > 0
        assert figures[run]["missing"] == 0 and figures[run]["doubled"] == 0
        assert figures[run]["failed_moves"] == 0
    attacker = figures["flood"]["attacker"]
    refused = sum(n for kind, n in attacker.items() if " 429" in kind or "close" in kind or " 404" in kind)
    assert refused > 0, attacker

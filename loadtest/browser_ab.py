"""Side-by-side browser latency of two frontends: a git revision against the working tree, in one run.

    python -m loadtest.browser_ab                     # HEAD against the working tree, 60 samples each
    python -m loadtest.browser_ab --ref HEAD~3 --samples 100

Separate runs of loadtest/browser_latency.py on this kind of machine differ by up to 10 ms at p50, which
hides most frontend changes. Here one backend serves two Streamlit servers, one per frontend (the revision's
files come from `git archive`), each with a player B in its own room of headless Chromium, and the samples
alternate between the two in random order, so both see the same machine. Event-driven bridge mode only;
prints p50/p95/mean and the median of each tenth of the run (the feed grows by one clue per sample). Nothing
is written to docs/benchmarks.md: this is a tool for deciding, not a figure of record.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from launchers.backend import run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.process import ROOT, free_port
from launchers.streamlit import run_streamlit
from loadtest.browser_latency import UI_TIMEOUT_MS, _sample, seat_player_b
from loadtest.report import percentile


def export_revision(ref: str, dest: Path) -> Path:
    """The tree of `ref` (a commit, tag or branch) as files under `dest`."""
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def summary(samples: list[float]) -> str:
    tenth = max(1, len(samples) // 10)
    deciles = " ".join(f"{statistics.median(samples[i : i + tenth]):.0f}" for i in range(0, len(samples), tenth))
    return (
        f"p50 {statistics.median(samples):6.1f} ms  p95 {percentile(samples, 95):6.1f} ms  "
        f"mean {statistics.mean(samples):6.1f} ms  by tenths: {deciles}"
    )


def run(ref: str, samples: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="parlor-ab-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        roots = {ref: export_revision(ref, tmp / "ref"), "working tree": ROOT}
        ports = {name: free_port() for name in roots}
        origins = [f"http://127.0.0.1:{port}" for port in ports.values()]
        env = {"ALLOWED_ORIGINS": json.dumps(origins), "MAX_CLUES_PER_ROUND": "1000"}
        backend = stack.enter_context(run_backend(env=env, tmp=tmp))
        fronts = {}
        for name, root in roots.items():
            server = run_streamlit(backend.url, port=ports[name], tmp=tmp, root=root)
            fronts[name] = stack.enter_context(server)
        pw = stack.enter_context(sync_playwright())
        http = stack.enter_context(httpx.Client(base_url=backend.url, timeout=30))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        players = {}
        for name, front in fronts.items():
            page, seat = seat_player_b(browser, http, front.url + "/")
            expect(page.locator(".parlor-status-text")).to_have_text("🟢 Connected (Real-time)", timeout=UI_TIMEOUT_MS)
            _sample(http, page, seat, "warm-up clue")
            players[name] = (page, seat)
        results: dict[str, list[float]] = {name: [] for name in fronts}
        for n in range(samples):
            order = list(fronts)
            random.shuffle(order)
            for name in order:
                page, seat = players[name]
                results[name].append(_sample(http, page, seat, f"clue {n} {random.randrange(10**6)}")[0])
                page.wait_for_timeout(random.uniform(100, 250))
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="git revision to compare with the working tree")
    parser.add_argument("--samples", type=int, default=60, help="samples per frontend")
    args = parser.parse_args(argv)
    results = run(args.ref, args.samples)
    for name, values in results.items():
        print(f"{name:14s} n={len(values):3d}  {summary(values)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Side-by-side browser figures of two frontends: a git revision against the working tree, in one run.

    python -m loadtest.browser_ab --ref fe-live~5          # a revision against the working tree, writes the report
    python -m loadtest.browser_ab --ref HEAD --samples 3 --no-report

Separate runs of loadtest/browser_latency.py on this kind of machine differ by up to 10 ms at p50, which
hides most frontend changes. Here one backend serves two Streamlit servers, one per frontend (the revision's
files come from `git archive`), each with a room of two players in headless Chromium: A created it through the
landing page, B joined by its link. Samples alternate between the two frontends in random order, so both see
the same machine, in two phases:
  push     a clue posted by REST with A's token; push-to-screen time in B's page (both pages receive it)
  click    A types the clue and clicks Send; from the click to the text in B's page
For each phase it reads each Streamlit process's CPU time (user + system, psutil) before and after, and divides
by clues x sessions: the Streamlit CPU one session costs per clue. Writes its section of docs/benchmarks.md
unless --no-report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import psutil
from playwright.sync_api import Page, expect, sync_playwright

from launchers.backend import run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.process import ROOT, free_port
from launchers.streamlit import run_streamlit
from loadtest.browser_latency import UI_TIMEOUT_MS, _sample, click_sample, seat_two_pages
from loadtest.report import machine_line, percentile, update_section

PHASES = ("push", "click")
SESSIONS = 2  # A and B, each one Streamlit session on its frontend


@dataclass
class Side:
    """One frontend's figures: samples (ms) and Streamlit CPU seconds per phase."""

    name: str
    samples: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    cpu_s: dict[str, float] = field(default_factory=dict)
    lost: str = ""  # why this side stopped taking samples (its clue box vanished), if it did

    def cpu_ms_per_session_clue(self, phase: str) -> float:
        taken = len(self.samples[phase])
        return 1000 * self.cpu_s[phase] / (taken * SESSIONS) if taken else float("nan")


def export_revision(ref: str, dest: Path) -> Path:
    """The tree of `ref` (a commit, tag or branch) as files under `dest`."""
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def commit_of(ref: str) -> str:
    out = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def summary(samples: list[float]) -> str:
    tenth = max(1, len(samples) // 10)
    deciles = " ".join(f"{statistics.median(samples[i : i + tenth]):.0f}" for i in range(0, len(samples), tenth))
    return (
        f"p50 {statistics.median(samples):6.1f} ms  p95 {percentile(samples, 95):6.1f} ms  "
        f"mean {statistics.mean(samples):6.1f} ms  by tenths: {deciles}"
    )


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def run(ref: str, samples: int) -> dict[str, Side]:
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
        procs = {name: psutil.Process(front.process.pid) for name, front in fronts.items() if front.process}
        pw = stack.enter_context(sync_playwright())
        http = stack.enter_context(httpx.Client(base_url=backend.url, timeout=30))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        rooms: dict[str, tuple[Page, Page, dict[str, Any]]] = {}
        for name, front in fronts.items():
            page_a, page_b, seat = seat_two_pages(browser, http, front.url + "/")
            for page in (page_a, page_b):
                expect(page.locator(".parlor-status-text")).to_have_text(
                    "🟢 Connected (Real-time)", timeout=UI_TIMEOUT_MS
                )
            _sample(http, page_b, seat, "warm-up clue")
            click_sample(page_a, page_b, "warm-up click")
            rooms[name] = (page_a, page_b, seat)
        sides = {name: Side(name) for name in fronts}

        def push(name: str, n: int) -> float:
            _page_a, page_b, seat = rooms[name]
            return _sample(http, page_b, seat, f"clue {n} {random.randrange(10**6)}")[0]

        def click(name: str, n: int) -> float:
            page_a, page_b, _seat = rooms[name]
            return click_sample(page_a, page_b, f"click {n} {random.randrange(10**6)}")[0]

        takers: dict[str, Callable[[str, int], float]] = {"push": push, "click": click}
        for phase in PHASES:
            before = {name: _cpu(proc) for name, proc in procs.items()}
            for n in range(samples):
                order = [name for name in fronts if not sides[name].lost]
                random.shuffle(order)
                for name in order:
                    try:
                        sides[name].samples[phase].append(takers[phase](name, n))
                    except AssertionError as exc:
                        # issue 12's vanishing clue box: the side can take no more samples, and that is a finding
                        if rooms[name][0].get_by_label("Your clue").count():
                            raise
                        sides[name].lost = f"{phase} sample {n}: A's clue box vanished ({str(exc).splitlines()[0]})"
                        print(f"{name}: {sides[name].lost}", flush=True)
                        continue
                    rooms[name][1].wait_for_timeout(random.uniform(100, 250))
            for name, proc in procs.items():
                sides[name].cpu_s[phase] = _cpu(proc) - before[name]
        return sides


def markdown(ref: str, sides: dict[str, Side], load: tuple[float, float], commit: str) -> str:
    old, new = sides[ref], sides["working tree"]
    lines = [
        "## Frontend A/B: a revision against the working tree, side by side",
        "",
        f"`python -m loadtest.browser_ab --ref {ref}` (`{ref}` was commit `{commit}`) — one backend, two",
        "Streamlit servers (the revision's files and the working tree's), a room of two Chromium players on each,",
        "samples alternating between them in random order. *push*: a clue posted by REST, until it is on B's",
        "screen; *click*: A types it and clicks Send, until it is on B's screen. CPU: the Streamlit process's user +",
        "system seconds over the phase, divided by clues x sessions (2).",
        "",
        "| frontend | phase | samples | p50 (ms) | p95 (ms) | Streamlit CPU per session per clue (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for side in (old, new):
        for phase in PHASES:
            s = side.samples[phase]
            if not s:
                lines.append(f"| {side.name} | {phase} | 0 | – | – | – |")
                continue
            lines.append(
                f"| {side.name} | {phase} | {len(s)} | {statistics.median(s):.1f} | {percentile(s, 95):.1f} "
                f"| {side.cpu_ms_per_session_clue(phase):.2f} |"
            )
    lines.append("")
    for phase in PHASES:
        before, after = old.cpu_ms_per_session_clue(phase), new.cpu_ms_per_session_clue(phase)
        ratio = after / before if before > 0 else float("nan")
        ok = "✅" if ratio <= 0.2 else "❌"
        lines.append(f"- {phase}: the working tree costs {ratio:.3f} of the revision's CPU per session per clue {ok}")
    lines.append("  (target: at most a fifth).")
    for side in (old, new):
        if side.lost:
            lines.append(
                f"- **{side.name} stopped early**: {side.lost}; its CPU for that phase is over the whole phase, "
                "divided by the samples it took (an overestimate)."
            )
    lines += [
        "",
        machine_line(("streamlit", "streamlit-js-eval", "playwright", "fastapi", "uvicorn")),
        f"1-minute load average {load[0]:.2f} at the start, {load[1]:.2f} at the end (2 cores, shared).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="git revision to compare with the working tree")
    parser.add_argument("--samples", type=int, default=60, help="samples per frontend and phase")
    parser.add_argument("--no-report", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    commit = commit_of(args.ref)  # now: the ref may move while the run takes its samples
    sides = run(args.ref, args.samples)
    load = (load_before, os.getloadavg()[0])
    for name, side in sides.items():
        for phase in PHASES:
            values = side.samples[phase]
            if not values:
                print(f"{name:14s} {phase:5s} n=  0  (stopped: {side.lost})", flush=True)
                continue
            cpu = side.cpu_ms_per_session_clue(phase)
            line = f"{name:14s} {phase:5s} n={len(values):3d}  {summary(values)}  cpu/session/clue {cpu:.2f} ms"
            print(line, flush=True)
    print(f"1-minute load average: {load[0]:.2f} before, {load[1]:.2f} after", flush=True)
    if not args.no_report:
        update_section("browser-ab", markdown(args.ref, sides, load, commit))
    return 0


if __name__ == "__main__":
    sys.exit(main())

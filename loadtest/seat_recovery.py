"""Seat recovery: how long a player in Chromium waits after a reload, a network cut and a Streamlit restart.

    python -m loadtest.seat_recovery             # 10 reloads, 20 network cuts of 6 s, 3 restarts; docs/benchmarks.md
    python -m loadtest.seat_recovery --quick     # 2 of each, a 2 s cut, prints only

Real uvicorn, real Streamlit and real headless Chromium; the browser reaches the backend through
launchers.netcut, a TCP proxy that resets every connection and refuses new ones while cut. Player A is driven
from Python (REST), player B is the page measured:
  reload             F5 to the page showing its room again with the green light (seat restore)
  network cut        the network back (proxy restored) to the light green again; the clue posted during the cut
                     must be on the page exactly once
  Streamlit restart  the process answering its health check again to the page back in its seat, light green,
                     with the clue posted while Streamlit was down exactly once
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect, sync_playwright

from launchers.backend import run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.netcut import NetCut, run_netcut
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from loadtest.report import machine_line, percentile, update_section
from loadtest.watched_room import UI_TIMEOUT_MS, WatchedRoom

CONNECTED = "🟢 Connected (Real-time)"
FALLBACK = "🔴 Disconnected (Fallback to polling)"
TARGETS_S = {"reload": 2.0, "network cut": 2.0, "Streamlit restart": 10.0}


@dataclass
class Kind:
    name: str
    seconds: list[float] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # clues missing or doubled

    def summary(self) -> dict[str, float]:
        s = self.seconds
        return {"n": len(s), "p50": statistics.median(s), "p95": percentile(s, 95), "max": max(s)}


class Room(WatchedRoom):
    """The watched room, with what a recovery is judged by: the light's words and whether the page reloaded."""

    def status(self) -> str:
        try:
            return str(self.page.locator(".parlor-status-text").first.text_content(timeout=200) or "")
        except Exception:
            return ""

    def mark(self) -> None:
        """Tag the page in the browser, so `wait_back(reloaded=True)` can tell a fresh page from this one."""
        self.page.evaluate("() => { window.__parlorOldPage = true; }")

    def reloaded(self) -> bool:
        try:
            return bool(self.page.evaluate("() => !window.__parlorOldPage && document.readyState === 'complete'"))
        except Exception:  # the page is navigating
            return False

    def wait_back(self, since: float, *, reloaded: bool = False) -> tuple[float, str]:
        """Seconds from `since` until the light is green with every clue on the page; and a fault, if any.

        `reloaded`: only a page that has reloaded since `mark()` counts (after a Streamlit restart the old page
        keeps its feed and light through the bridge, but its Streamlit session is gone until it reloads)."""
        deadline = since + 60
        while time.monotonic() < deadline:
            shown = self.shown()
            fresh = not reloaded or self.reloaded()
            if fresh and shown is not None and self.status() == CONNECTED and set(shown) >= set(self.clues):
                took = time.monotonic() - since
                doubled = len(shown) != len(set(shown))
                missing = set(self.clues) - set(shown)
                return took, ("doubled " if doubled else "") + ("missing " if missing else "")
            time.sleep(0.02)
        return 60.0, "not back in 60 s"


def measure_reload(room: Room, result: Kind, tries: int) -> None:
    for i in range(tries):
        room.clue(f"before reload {i}")
        room.page.wait_for_timeout(300)
        start = time.monotonic()
        room.page.reload()
        took, fault = room.wait_back(start)
        result.seconds.append(took)
        if fault:
            result.faults.append(fault)


def measure_cuts(room: Room, net: NetCut, result: Kind, tries: int, cut_s: float) -> None:
    for i in range(tries):
        net.cut()
        expect(room.page.locator(".parlor-status-text")).to_have_text(FALLBACK, timeout=UI_TIMEOUT_MS)
        time.sleep(cut_s / 2)
        room.clue(f"during cut {i}")
        time.sleep(cut_s / 2)
        start = time.monotonic()
        net.restore()
        took, fault = room.wait_back(start)
        result.seconds.append(took)
        if fault:
            result.faults.append(fault)


def measure_restarts(room: Room, frontend: Frontend, result: Kind, tries: int) -> None:
    for i in range(tries):
        room.mark()
        frontend.stop()
        room.clue(f"while Streamlit is down {i}")
        frontend.start(timeout=120)
        took, fault = room.wait_back(time.monotonic(), reloaded=True)
        result.seconds.append(took)
        if fault:
            result.faults.append(fault)


def run_benchmark(reloads: int, cuts: int, restarts: int, cut_s: float) -> tuple[dict[str, Kind], tuple[float, float]]:
    results = {name: Kind(name) for name in TARGETS_S}
    load_before = os.getloadavg()[0]
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="parlor-seat-") as tmp,
        run_backend(
            env={"ALLOWED_ORIGINS": frontend_origins(port), "MAX_CLUES_PER_ROUND": "1000"}, tmp=Path(tmp)
        ) as backend,
        run_netcut(backend.port) as net,
        run_streamlit(backend.url, port=port, tmp=Path(tmp), env={"PUBLIC_BACKEND_URL": net.url}) as frontend,
        sync_playwright() as pw,
        httpx.Client(base_url=backend.url, timeout=30) as http,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            room = Room(http, page, frontend)
            measure_reload(room, results["reload"], reloads)
            measure_cuts(room, net, results["network cut"], cuts, cut_s)
            measure_restarts(room, frontend, results["Streamlit restart"], restarts)
        finally:
            browser.close()
    for kind in results.values():
        s = kind.summary()
        print(
            f"{kind.name:18s} n={s['n']:3.0f}  p50 {s['p50']:5.2f} s  p95 {s['p95']:5.2f} s  max {s['max']:5.2f} s"
            f"  faults {kind.faults or 'none'}",
            flush=True,
        )
    load = (load_before, os.getloadavg()[0])
    print(f"1-minute load average: {load[0]:.2f} before, {load[1]:.2f} after", flush=True)
    return results, load


def markdown(results: dict[str, Kind], load: tuple[float, float], cut_s: float) -> str:
    lines = [
        "## Seat recovery: reload, network cut, Streamlit restart",
        "",
        "`python -m loadtest.seat_recovery` — real uvicorn, real Streamlit, real headless Chromium; the browser",
        "reaches the backend through a TCP proxy that resets every connection and refuses new ones while cut.",
        f"Reload: F5 to the room shown again with the green light. Network cut ({cut_s:g} s): the network back to",
        "the light green again with the clue posted during the cut on the page. Streamlit restart: the process",
        "answering its health check to the page reloaded (a new Streamlit session) and back in its seat with the",
        "clue posted meanwhile. A fault is a",
        "clue missing or shown twice.",
        "",
        "| what | tries | p50 (s) | p95 (s) | max (s) | target (s) | within target | faults |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in results.values():
        s = kind.summary()
        target = TARGETS_S[kind.name]
        within = sum(1 for x in kind.seconds if x <= target)
        lines.append(
            f"| {kind.name} | {s['n']:.0f} | {s['p50']:.2f} | {s['p95']:.2f} | {s['max']:.2f} | {target:g} "
            f"| {within}/{s['n']:.0f} | {len(kind.faults)} |"
        )
    lines += ["", f"1-minute load average {load[0]:.2f} before, {load[1]:.2f} after. " + machine_line()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 tries of each, 2 s cuts, no report")
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--cut-seconds", type=float, default=6.0)
    parser.add_argument("--json", type=Path, help="also write the raw seconds per kind to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.reloads = args.cuts = args.restarts = 2
        args.cut_seconds = 2.0
    results, load = run_benchmark(args.reloads, args.cuts, args.restarts, args.cut_seconds)
    if args.json:
        raw: dict[str, Any] = {k.name: {"seconds": k.seconds, "faults": k.faults} for k in results.values()}
        args.json.write_text(json.dumps(raw))
    if not args.quick:
        update_section("seat-recovery", markdown(results, load, args.cut_seconds))
    return 1 if any(kind.faults for kind in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

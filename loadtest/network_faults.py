"""Network faults a phone's network makes, against a player in real Chromium: what the page does about each.

    python -m loadtest.network_faults            # 3 runs of each fault; writes docs/benchmarks.md
    python -m loadtest.network_faults --quick    # 1 run of each, prints only

Real uvicorn, real Streamlit, real headless Chromium; the browser reaches the backend through launchers.netcut
(Streamlit's own calls go direct). Player A is driven from Python (REST), player B is the page measured. Each
fault starts with B green; A posts a clue 1 s into it:
  freeze             open connections stop both ways, no RST/FIN, new ones pass (a half-open link), for 15 s
  blackhole          new connections accepted and never answered, open ones frozen, for 20 s
  cut after welcome  every WebSocket dropped 0.2 s after the server's welcome (a flapping server), for 30 s
Figures per run: seconds from the fault to the light leaving green (none when it never showed anything but
green), from the network's return to green again, WebSockets the page started during the fault (the bridge's
own count) and those Chromium opened, and seconds from the clue's post to the clue on the page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from launchers.backend import run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.netcut import NetCut, run_netcut
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from loadtest.report import machine_line, update_section
from loadtest.watched_room import UI_TIMEOUT_MS, WatchedRoom

GIVE_UP_S = 60.0
FAULTS: dict[str, tuple[float, Callable[[NetCut], None]]] = {
    "freeze": (15.0, NetCut.freeze),
    "blackhole": (20.0, NetCut.blackhole),
    "cut after welcome": (30.0, lambda net: net.cut_after_welcome(0.2)),
}


@dataclass
class Run:
    leave_green_s: float | None
    green_again_s: float
    started: int  # WebSockets the bridge started during the fault
    opened: int  # WebSockets Chromium reported
    clue_s: float
    faults: list[str] = field(default_factory=list)


class Room(WatchedRoom):
    """The watched room, counting the WebSockets Chromium opens."""

    def __init__(self, http: httpx.Client, page: Page, frontend: Frontend) -> None:
        super().__init__(http, page, frontend)
        self.opened = 0
        page.on("websocket", lambda _ws: self.count())

    def count(self) -> None:
        self.opened += 1

    def texts(self) -> list[str]:
        return self.shown() or []

    def light(self) -> str:
        try:
            return str(self.page.evaluate("document.querySelector('.parlor-status').dataset.status"))
        except Exception:
            return ""

    def page_now(self) -> float:
        return float(self.page.evaluate("performance.timeOrigin + performance.now()"))

    def started_since(self, since: float) -> int:
        return int(self.page.evaluate(f"window.parlorBridge.starts.filter(t => t >= {since}).length"))

    def wait(self, check: Callable[[], bool]) -> float:
        start = time.monotonic()
        while not check():
            if time.monotonic() - start > GIVE_UP_S:
                return GIVE_UP_S
            time.sleep(0.02)
        return time.monotonic() - start


def measure(room: Room, net: NetCut, name: str, i: int) -> Run:
    seconds, apply = FAULTS[name]
    room.wait(lambda: room.light() == "connected")
    opened, since = room.opened, room.page_now()
    start = time.monotonic()
    apply(net)
    left: float | None = None
    posted = shown = None
    text = f"{name} {i}"
    while time.monotonic() - start < seconds:
        now = time.monotonic() - start
        if left is None and room.light() != "connected":
            left = now
        if posted is None and now >= 1.0:
            room.clue(text)
            posted = time.monotonic()
        if posted is not None and shown is None and text in room.texts():
            shown = time.monotonic()
        time.sleep(0.02)
    started, opened = room.started_since(since), room.opened - opened
    net.restore()
    green = room.wait(lambda: room.light() == "connected")
    if shown is None:
        room.wait(lambda: text in room.texts())
        shown = time.monotonic()
    assert posted is not None
    run = Run(left, green if green < GIVE_UP_S else GIVE_UP_S, started, opened, shown - posted)
    texts = room.texts()
    if len(texts) != len(set(texts)):
        run.faults.append("doubled")
    if set(room.clues) - set(texts):
        run.faults.append("missing")
    return run


def run_benchmark(runs: int) -> tuple[dict[str, list[Run]], tuple[float, float]]:
    results: dict[str, list[Run]] = {name: [] for name in FAULTS}
    load_before = os.getloadavg()[0]
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="parlor-faults-") as tmp,
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
            for i in range(runs):
                for name in FAULTS:
                    run = measure(room, net, name, i)
                    results[name].append(run)
                    left = "never" if run.leave_green_s is None else f"{run.leave_green_s:5.2f} s"
                    print(
                        f"{name:18s} #{i}  left green {left}  green again {run.green_again_s:5.2f} s  "
                        f"sockets started {run.started:2d} (Chromium {run.opened:2d})  clue {run.clue_s:5.2f} s  "
                        f"faults {run.faults or 'none'}",
                        flush=True,
                    )
        finally:
            browser.close()
    load = (load_before, os.getloadavg()[0])
    print(f"1-minute load average: {load[0]:.2f} before, {load[1]:.2f} after", flush=True)
    return results, load


def _span(values: list[float]) -> str:
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.2f} ({low:.2f}-{high:.2f})"


def markdown(results: dict[str, list[Run]], load: tuple[float, float]) -> str:
    lines = [
        "## Network faults: freeze, blackhole, a flapping server",
        "",
        "`python -m loadtest.network_faults` — real uvicorn, real Streamlit, real headless Chromium; the browser",
        "reaches the backend through launchers.netcut. Freeze (15 s): open connections stop with no RST or FIN,",
        "new ones pass. Blackhole (20 s): new connections accepted and never answered, open ones frozen. Cut after",
        "welcome (30 s): every WebSocket dropped 0.2 s after the server's welcome. A clue is posted 1 s into each.",
        "Figures: median (min-max) over the runs; green again is counted from the network's return, the clue from",
        "its post (so a blackholed clue shows at ~19 s: at the network's return); sockets are those the page started",
        "during the fault (Chromium's own count in brackets: it may hold a handshake back while an abandoned one to",
        "the same host is unanswered).",
        "Goals (issue 20): leave green within 10 s; green again within 10 s (5 s after a blackhole); at most 12",
        "sockets in 30 s of flapping; a fault is a clue missing or shown twice.",
        "",
        "| fault | runs | left green (s) | green again after (s) | sockets started | clue on the page (s) | faults |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        left = [r.leave_green_s for r in runs if r.leave_green_s is not None]
        never = len(runs) - len(left)
        left_text = _span(left) + (f", {never} never" if never else "")
        sockets = ", ".join(f"{r.started} ({r.opened})" for r in runs)
        faults = sum(len(r.faults) for r in runs)
        lines.append(
            f"| {name} | {len(runs)} | {left_text} | {_span([r.green_again_s for r in runs])} | {sockets} "
            f"| {_span([r.clue_s for r in runs])} | {faults} |"
        )
    lines += ["", f"1-minute load average {load[0]:.2f} before, {load[1]:.2f} after. " + machine_line()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run of each fault, no report")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    results, load = run_benchmark(1 if args.quick else args.runs)
    if not args.quick:
        update_section("network-faults", markdown(results, load))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Browser latency: from player A's clue (a REST call, or a click in A's page) to the text in player B's page.

    python -m loadtest.browser_latency            # 50 samples per mode, writes docs/benchmarks.md
    python -m loadtest.browser_latency --quick    # 5 samples per mode, prints only

Real servers (uvicorn, two Streamlits) and real headless Chromium. For each sample, Python reads time.time()
just before the POST; a MutationObserver in B's page records performance.timeOrigin + performance.now() when
the clue's text enters the feed; the difference is one sample. Modes, all in one run:
  event-driven bridge  WebSocket -> bridge buffer -> the live view draws it (static/live_view.js)
  click to screen      A types the clue in its own page and clicks Send (both players through the real UI);
                       from the click (its event.timeStamp in A's page) to the text in B's page
  long-poll fallback   the same, with every socket refused through the backend's test hook
  seed loop            the seed's design: a full rerun every 0.5 s reading what the bridge buffered
                       (its own page, loadtest/seed_loop_page.py, on a third Streamlit server)
  legacy polling       WEBSOCKET_ENABLED=false: a run_every fragment fetching the state every 0.4 s
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from launchers.backend import Backend, run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.process import free_port
from launchers.streamlit import Frontend, run_streamlit
from loadtest.report import machine_line, percentile, update_section

MODES = ("event-driven bridge", "click to screen", "long-poll fallback", "seed loop", "legacy polling")
TARGETS = {
    "event-driven bridge": (25.0, 50.0),
    "click to screen": (60.0, 100.0),
    "long-poll fallback": (None, 250.0),
}
OBSERVER_JS = (Path(__file__).resolve().parent / "latency_probe.js").read_text(encoding="utf-8")
CLICK_JS = (Path(__file__).resolve().parent / "click_probe.js").read_text(encoding="utf-8")
UI_TIMEOUT_MS = 60_000


@dataclass
class ModeResult:
    mode: str
    samples_ms: list[float] = field(default_factory=list)
    # POST to the bridge holding the event, where the page has a bridge: the backend's and the network's share
    bridge_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        s = self.samples_ms
        out = {"n": len(s), "p50": statistics.median(s), "p95": percentile(s, 95), "max": max(s)}
        if self.bridge_ms:
            out["bridge_p50"] = statistics.median(self.bridge_ms)
        return out


SEED_LOOP_PAGE = "loadtest/seed_loop_page.py"


@contextlib.contextmanager
def stack(tmp: Path, seed_loop: bool = True) -> Iterator[tuple[Backend, dict[str, Frontend]]]:
    """The backend and the Streamlit servers by name: the game's page, the same with WEBSOCKET_ENABLED=false,
    and (if `seed_loop`) the seed-loop page."""
    pages: dict[str, tuple[dict[str, str], str]] = {
        "bridge": ({}, "frontend/app.py"),
        "legacy": ({"WEBSOCKET_ENABLED": "false"}, "frontend/app.py"),
    }
    if seed_loop:
        pages["seed loop"] = ({}, SEED_LOOP_PAGE)
    ports = {name: free_port() for name in pages}
    origins = [f"http://127.0.0.1:{p}" for p in ports.values()]
    env = {"ALLOWED_ORIGINS": json.dumps(origins), "MAX_CLUES_PER_ROUND": "1000"}
    with run_backend(env=env, tmp=tmp) as backend, contextlib.ExitStack() as servers:
        fronts = {
            name: servers.enter_context(run_streamlit(backend.url, port=ports[name], tmp=tmp, env=extra, script=script))
            for name, (extra, script) in pages.items()
        }
        yield backend, fronts


def _room(http: httpx.Client) -> dict[str, Any]:
    """A room whose host is player A, driven from Python; returns A's seat."""
    seat = http.post("/api/rooms", json={"name": "Alice"}).json()
    seat["auth"] = {"Authorization": f"Bearer {seat['token']}"}
    return dict(seat)


def _start(http: httpx.Client, seat: dict[str, Any]) -> None:
    code = seat["room_code"]
    http.post(f"/api/rooms/{code}/bots", headers=seat["auth"]).raise_for_status()
    http.patch(
        f"/api/rooms/{code}/settings", json={"discussion_seconds": 600, "voting_seconds": 300}, headers=seat["auth"]
    ).raise_for_status()
    http.post(f"/api/rooms/{code}/start", headers=seat["auth"]).raise_for_status()


def _join(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    form = page.get_by_test_id("stForm").filter(has_text="Join a room")
    form.get_by_label("Your name").fill("Bob")
    form.get_by_role("button", name="Join room").click()
    page.get_by_test_id("connection-status").wait_for()
    page.add_script_tag(content=OBSERVER_JS)
    return page


def _sample(http: httpx.Client, page: Page, seat: dict[str, Any], text: str) -> tuple[float, float | None]:
    """(POST to on screen, POST to the bridge holding the event or None without a bridge), in ms."""
    page.evaluate("t => window.parlorProbe.arm(t)", text)
    t0 = time.time() * 1000
    resp = http.post(f"/api/rooms/{seat['room_code']}/clues", json={"text": text}, headers=seat["auth"])
    resp.raise_for_status()
    got = page.evaluate("ms => window.parlorProbe.wait(ms)", UI_TIMEOUT_MS)
    bridge = got.get("bridge")
    return float(got["seen"]) - t0, (float(bridge) - t0 if bridge is not None else None)


def seat_player_b(browser: Browser, http: httpx.Client, url: str) -> tuple[Page, dict[str, Any]]:
    """A started game: A (driven from Python) hosts, B joins in Chromium at `url`; returns B's page, A's seat."""
    seat = _room(http)
    sep = "&" if "?" in url else "?"
    page = _join(browser, f"{url}{sep}room={seat['room_code']}")
    _start(http, seat)
    expect(page.get_by_test_id("word")).to_be_visible(timeout=UI_TIMEOUT_MS)
    return page, seat


def seat_two_pages(browser: Browser, http: httpx.Client, url: str) -> tuple[Page, Page, dict[str, Any]]:
    """A started game with both humans in Chromium: A creates the room through the landing page, B joins by its
    link; returns A's page, B's page and A's seat (the bot, the settings and the start go by REST)."""
    page_a = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page_a.set_default_timeout(UI_TIMEOUT_MS)
    page_a.goto(url)
    form = page_a.get_by_test_id("stForm").filter(has_text="Create a room")
    form.get_by_label("Your name").fill("Alice")
    form.get_by_role("button", name="Create room").click()
    page_a.get_by_test_id("connection-status").wait_for()
    page_a.wait_for_function("window.parlorBridge && window.parlorBridge.config")
    cfg = page_a.evaluate("({room: window.parlorBridge.config.room, token: window.parlorBridge.config.token})")
    seat: dict[str, Any] = {"room_code": cfg["room"], "auth": {"Authorization": f"Bearer {cfg['token']}"}}
    sep = "&" if "?" in url else "?"
    page_b = _join(browser, f"{url}{sep}room={seat['room_code']}")
    _start(http, seat)
    for page in (page_a, page_b):
        expect(page.get_by_test_id("word")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page_a.add_script_tag(content=CLICK_JS)
    return page_a, page_b, seat


def click_sample(page_a: Page, page_b: Page, text: str) -> tuple[float, float | None]:
    """(A's click on Send to the text on B's screen, the click to B's bridge holding the event), in ms."""
    page_b.evaluate("t => window.parlorProbe.arm(t)", text)
    box = page_a.get_by_label("Your clue")
    box.fill(text)
    page_a.evaluate("window.parlorClick.at = null")
    page_a.get_by_role("button", name="Send", exact=True).click()
    got = page_b.evaluate("ms => window.parlorProbe.wait(ms)", UI_TIMEOUT_MS)
    clicked = float(page_a.evaluate("window.parlorClick.at"))
    expect(box).to_have_value("", timeout=UI_TIMEOUT_MS)  # the sender's page is done with it too
    bridge = got.get("bridge")
    return float(got["seen"]) - clicked, (float(bridge) - clicked if bridge is not None else None)


def measure(browser: Browser, http: httpx.Client, backend: Backend, url: str, mode: str, samples: int) -> ModeResult:
    if mode == "click to screen":
        return measure_clicks(browser, http, url, samples)
    page, seat = seat_player_b(browser, http, url)
    if mode == "event-driven bridge":
        expect(page.locator(".parlor-status-text")).to_have_text("🟢 Connected (Real-time)", timeout=UI_TIMEOUT_MS)
    if mode == "long-poll fallback":
        httpx.post(f"{backend.url}/api/test/websocket", json={"refuse": True}).raise_for_status()
        expect(page.locator(".parlor-status-text")).to_have_text(
            "🔴 Disconnected (Fallback to polling)", timeout=UI_TIMEOUT_MS
        )
    result = ModeResult(mode)
    try:
        _sample(http, page, seat, "warm-up clue")  # the first rerun after a phase change also loads fonts
        for n in range(samples):
            seen, bridge = _sample(http, page, seat, f"clue {n} {random.randrange(10**6)}")
            result.samples_ms.append(seen)
            if bridge is not None:
                result.bridge_ms.append(bridge)
            page.wait_for_timeout(random.uniform(100, 250))  # not in lock-step with any polling period
    finally:
        if mode == "long-poll fallback":
            httpx.post(f"{backend.url}/api/test/websocket", json={"refuse": False}).raise_for_status()
        page.context.close()
    return result


def measure_clicks(browser: Browser, http: httpx.Client, url: str, samples: int) -> ModeResult:
    page_a, page_b, _seat = seat_two_pages(browser, http, url)
    result = ModeResult("click to screen")
    try:
        click_sample(page_a, page_b, "warm-up clue")
        for n in range(samples):
            seen, bridge = click_sample(page_a, page_b, f"click {n} {random.randrange(10**6)}")
            result.samples_ms.append(seen)
            if bridge is not None:
                result.bridge_ms.append(bridge)
            page_a.wait_for_timeout(random.uniform(100, 250))
    finally:
        page_a.context.close()
        page_b.context.close()
    return result


def run_benchmark(samples: int, *, write: bool, modes: tuple[str, ...] = MODES) -> dict[str, ModeResult]:
    results: dict[str, ModeResult] = {}
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="parlor-latency-") as tmp,
        stack(Path(tmp), seed_loop="seed loop" in modes) as (backend, fronts),
        sync_playwright() as pw,
        httpx.Client(base_url=backend.url, timeout=30) as http,
    ):
        if True:  # one block for the servers, the browser and the HTTP client
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                front = {"seed loop": "seed loop", "legacy polling": "legacy"}
                urls = {mode: fronts[front.get(mode, "bridge")].url + "/" for mode in modes}
                for mode in modes:
                    results[mode] = measure(browser, http, backend, urls[mode], mode, samples)
                    s = results[mode].summary()
                    split = f"  (bridge has it: p50 {s['bridge_p50']:.1f} ms)" if "bridge_p50" in s else ""
                    line = f"{mode:22s} n={s['n']:3.0f}  p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms"
                    print(line + split, flush=True)
            finally:
                browser.close()
    load = (load_before, os.getloadavg()[0])
    print(f"1-minute load average: {load[0]:.2f} before, {load[1]:.2f} after", flush=True)
    if write:
        update_section("browser-latency", markdown(results, load))
    return results


def markdown(results: dict[str, ModeResult], load: tuple[float, float] | None = None) -> str:
    lines = [
        "## Browser latency: a clue posted by player A, visible in player B's page",
        "",
        "`python -m loadtest.browser_latency` — real uvicorn, real Streamlit, real headless Chromium. Time from",
        "Python's `time.time()` just before A's `POST /clues` to a MutationObserver in B's page seeing the clue's",
        "text in the feed (`performance.timeOrigin + performance.now()`); in *click to screen* A is a page too and",
        "the time starts at A's click on Send (the click event's own timestamp). Where the page has the bridge, the",
        "probe also notes when the bridge took the event in: up to there is the backend and the network, the rest",
        "is drawing it (the live view in the bridge modes; a Streamlit rerun in the seed loop).",
        "",
        "| mode | samples | p50 (ms) | p95 (ms) | max (ms) | bridge has it, p50 (ms) | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode, res in results.items():
        s = res.summary()
        target = TARGETS.get(mode)
        goal = ""
        if target:
            parts = []
            if target[0] is not None:
                parts.append(f"p50 ≤ {target[0]:g}")
            parts.append(f"p95 ≤ {target[1]:g}")
            ok = (target[0] is None or s["p50"] <= target[0]) and s["p95"] <= target[1]
            goal = ", ".join(parts) + (" ✅" if ok else " ❌")
        split = f"{s['bridge_p50']:.1f}" if "bridge_p50" in s else "–"
        lines.append(f"| {mode} | {s['n']:.0f} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | {split} | {goal} |")
    lines += ["", machine_line(("streamlit", "streamlit-js-eval", "playwright", "fastapi", "uvicorn"))]
    if load is not None:
        # Chromium, Streamlit and uvicorn share the cores: other work on the machine shows up in these figures.
        lines.append(f"1-minute load average {load[0]:.2f} at the start, {load[1]:.2f} at the end.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 samples per mode and no report")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the raw samples (ms) per mode to this file")
    parser.add_argument(
        "--mode", action="append", choices=MODES, help="measure only this mode (repeatable); implies no report"
    )
    args = parser.parse_args(argv)
    samples = 5 if args.quick else args.samples
    modes = tuple(args.mode or MODES)
    results = run_benchmark(samples, write=not args.quick and modes == MODES, modes=modes)
    if args.json:
        raw = {mode: {"seen": r.samples_ms, "bridge": r.bridge_ms} for mode, r in results.items()}
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

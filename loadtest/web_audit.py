"""Phones first (issue 21): Parlor's page audited as a web performance engineer would, beside a bare Streamlit app.

    python -m loadtest.web_audit [--write]

One run starts the real stack (backend, Streamlit behind deploy/nginx-frontend.conf) and, for the anchor, a bare
Streamlit app (loadtest/bare_app.py: text, an input, a button) served as Streamlit serves any app. Then:
- Lighthouse (npm, package-lock.json) with its default mobile profile on both, cold; Parlor again with a warm
  cache (the next game night); its desktop preset for CLS; the accessibility score of Parlor's landing page.
- In headless Chromium at 375x740, three browsers of one page each, side by side: the bare app, a visitor on
  Parlor's landing page, and a Parlor discussion with its countdown running. While nothing happens, read at the
  same moments over several windows (medians): Chromium's own counters for the renderer's main thread (CDP
  Performance.getMetrics: TaskDuration, ScriptDuration, LayoutCount), and the whole browser's CPU, every thread
  of every process (loadtest/chromium_cpu.py, from /proc), which also sees the compositor and the display
  compositor. Then what a clue costs the watching page (both ways), and the bytes over Streamlit's WebSocket
  from the landing page to a started game.
- Every view (landing, lobby, discussion, voting, Mr. White's guess, game over) walked at phone width in English
  and French (axe-core violations, CLS as the view comes up) and at desktop width (CLS).
Prints the table and, with --write, puts it in docs/benchmarks.md (section web-audit).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, CDPSession, Page, WebSocket, sync_playwright

from frontend.config import get_settings
from launchers.backend import Backend, run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.nginx import run_frontend_nginx
from launchers.process import free_port, wait_http
from launchers.streamlit import run_streamlit
from loadtest.chromium_cpu import ROLES, ChromiumCpu, Reading
from loadtest.page_audit import (
    ROOT,
    VIEWS,
    Table,
    axe_available,
    axe_violations,
    chromium_metrics,
    cls_since,
    open_phone,
    shift_mark,
)
from loadtest.report import machine_line, update_section

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
BARE_APP = "loadtest/bare_app.py"
IDLE_WINDOWS = 6
IDLE_WINDOW_S = 10
CLUES = 10
CLUE_EVERY_SECONDS = 1.5
CLUE_SETTLE_S = 0.5
WAIT_MS = 60_000
# What a clue's main-thread time is made of, as Chromium counts it (each window's share, not less idle).
CLUE_PARTS = {"script_ms": "ScriptDuration", "style_ms": "RecalcStyleDuration", "layout_ms": "LayoutDuration"}
BACKEND_ENV = {"MAX_CLUES_PER_ROUND": "1000", "CLUE_INTERVAL_SECONDS": "0"}
# A long discussion, and the four players who only post over REST (no socket: "dropped") keep their seats: with
# the default grace of 60 s, stand-in bots took their seats and posted four clues inside the idle windows.
GAME = {"discussion_seconds": 600, "grace_seconds": 600}


# ---- Lighthouse ------------------------------------------------------------------------------------------------


def lighthouse(url: str, *, desktop: bool = False, port: int | None = None, warm: bool = False) -> dict[str, Any]:
    """One Lighthouse run's figures. `port`: a running Chromium to drive (its cache survives between runs)."""
    argv = [
        str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet",
        "--only-categories=performance,accessibility", "--max-wait-for-load=60000",
    ]  # fmt: skip
    if desktop:
        argv.append("--preset=desktop")
    if port is not None:
        argv.append(f"--port={port}")
    else:
        argv.append("--chrome-flags=" + " ".join(CHROMIUM_ARGS))
    if warm:
        argv.append("--disable-storage-reset")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=True).stdout
    report = json.loads(out)
    audits = report["audits"]
    compression = audits.get("uses-text-compression", {})
    savings = compression.get("metricSavings") or {}
    return {
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "compression_saves_s": float(savings.get("LCP") or savings.get("FCP") or 0) / 1000,
        "accessibility": round(100 * (report["categories"]["accessibility"]["score"] or 0)),
    }


@contextlib.contextmanager
def debuggable_chromium() -> Iterator[int]:
    """A headless Chromium with a remote-debugging port and a profile of its own, for the warm-cache runs."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="parlor-lh-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_ARGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/json/version", timeout=30, proc=proc)
            yield port
        finally:
            proc.terminate()
            proc.wait(10)


def lighthouse_runs(bare_url: str, parlor_url: str) -> dict[str, dict[str, Any]]:
    runs = {
        "bare mobile": lighthouse(bare_url),
        "parlor mobile": lighthouse(parlor_url),
        "bare desktop": lighthouse(bare_url, desktop=True),
        "parlor desktop": lighthouse(parlor_url, desktop=True),
    }
    with debuggable_chromium() as port:
        lighthouse(parlor_url, port=port)  # the first game night fills the cache
        runs["parlor mobile warm"] = lighthouse(parlor_url, port=port, warm=True)
    return runs


# ---- Chromium's counters and the browsers' CPU -----------------------------------------------------------------


def main_thread_ms(before: dict[str, float], after: dict[str, float]) -> float:
    """The renderer main thread's busy milliseconds between two readings, less the time it spent answering the
    audit's own DevTools commands (the readings themselves, the evaluations that wait for a clue)."""
    busy = after["TaskDuration"] - before["TaskDuration"]
    answering = after.get("DevToolsCommandDuration", 0.0) - before.get("DevToolsCommandDuration", 0.0)
    return (busy - answering) * 1000


@dataclass
class Watched:
    """A page whose costs are read: Chromium's counters for its renderer main thread (its own DevTools session),
    the CPU of the whole browser it is the only page of (/proc, every thread), and the messages over Streamlit's
    socket so far (`messages`)."""

    page: Page
    cpu: ChromiumCpu
    messages: Callable[[], int] = lambda: 0
    cdp: CDPSession = field(init=False)

    def __post_init__(self) -> None:
        self.cdp = self.page.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")

    def reading(self) -> tuple[dict[str, float], Reading, int]:
        return chromium_metrics(self.cdp), self.cpu.read(), self.messages()

    def between(self, before: tuple[dict[str, float], Reading, int], after: tuple[dict[str, float], Reading, int],
                seconds: float) -> dict[str, float]:  # fmt: skip
        """Per second of `seconds` between two readings (layouts and messages: how many)."""
        (m0, c0, n0), (m1, c1, n1) = before, after
        browser = ChromiumCpu.spent(c0, c1)
        return {
            "ms_per_s": main_thread_ms(m0, m1) / seconds,
            # the thread's CPU time: what its tasks took less the time it waited for a core (a loaded machine)
            "cpu_ms_per_s": (m1.get("ThreadTime", 0.0) - m0.get("ThreadTime", 0.0)) * 1000 / seconds,
            "script_ms_per_s": (m1["ScriptDuration"] - m0["ScriptDuration"]) * 1000 / seconds,
            "layouts": m1["LayoutCount"] - m0["LayoutCount"],
            "streamlit_messages": n1 - n0,
            **{f"browser {role} ms_per_s": ms / seconds for role, ms in browser.items()},
        }


def idle(watched: dict[str, Watched], windows: int = IDLE_WINDOWS, seconds: float = IDLE_WINDOW_S) -> dict[str, Any]:
    """Every watched page while nothing happens, side by side: all read at the same moments, `windows` windows of
    `seconds` each. Per page the median of the windows for each rate (a window that caught Chromium's own periodic
    work, which lands in every browser at once, does not decide the figure), the layouts and Streamlit messages of
    all windows together, and each window's main-thread and whole-browser rates."""
    first = next(iter(watched.values())).page
    found: dict[str, list[dict[str, float]]] = {name: [] for name in watched}
    before = {name: w.reading() for name, w in watched.items()}
    for _ in range(windows):
        first.wait_for_timeout(seconds * 1000)  # Playwright's events (the socket's messages) run meanwhile
        after = {name: w.reading() for name, w in watched.items()}
        for name, w in watched.items():
            found[name].append(w.between(before[name], after[name], seconds))
        before = after
    summary: dict[str, Any] = {}
    for name, rows in found.items():
        summary[name] = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        summary[name]["layouts"] = sum(row["layouts"] for row in rows)
        summary[name]["streamlit_messages"] = sum(row["streamlit_messages"] for row in rows)
        summary[name]["windows"] = [
            (round(row["ms_per_s"], 2), round(row["browser total ms_per_s"], 2)) for row in rows
        ]
    return summary


# Sets window.__parlorLanded, a promise resolved once the feed shows a row with `text`: a MutationObserver in the
# page, awaited over one DevTools call (Playwright's own waits poll the page every animation frame, which would be
# counted as the clue's cost).
WATCH_FEED_JS = """text => {
  const feed = () => Array.from(document.querySelectorAll(".parlor-feed > p"));
  const landed = () => feed().some(p => p.textContent.includes(text));
  window.__parlorLanded = new Promise(resolve => {
    if (landed()) return resolve(true);
    const watch = new MutationObserver(() => { if (landed()) { watch.disconnect(); resolve(true); } });
    watch.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}"""


def clue_cost(game: Watched, table: Table, idle_rates: dict[str, float]) -> dict[str, Any]:
    """What a clue costs the watching page beyond what it spends idle meanwhile: milliseconds of its renderer main
    thread (Chromium's counters) and of its whole browser (/proc, every thread).

    Each clue has its own window: from just before it is posted until CLUE_SETTLE_S after it is on screen (the
    frame that paints it, the report the bridge keeps), read at both ends; each window's idle share (`idle_rates`,
    the page's idle medians) is taken off. The gaps between clues are not counted. Median and mean over CLUES."""
    page = game.page
    main: list[float] = []
    browser: list[float] = []
    parts = dict.fromkeys(CLUE_PARTS, 0.0)
    windows = 0.0
    for n in range(CLUES):
        text = f"watched clue {n}"
        page.wait_for_timeout(CLUE_EVERY_SECONDS * 1000)
        page.evaluate(WATCH_FEED_JS, text)  # watching before the clue leaves
        before = game.reading()
        start = time.monotonic()
        table.call("POST", "clues", table.others[n % len(table.others)], {"text": text})
        page.evaluate("() => window.__parlorLanded")  # one call, answered when the promise resolves
        page.wait_for_timeout(CLUE_SETTLE_S * 1000)
        after = game.reading()
        window = time.monotonic() - start
        windows += window
        main.append(main_thread_ms(before[0], after[0]) - idle_rates["ms_per_s"] * window)
        browser.append(ChromiumCpu.spent(before[1], after[1])["total"] - idle_rates["browser total ms_per_s"] * window)
        for part, metric in CLUE_PARTS.items():
            parts[part] += (after[0][metric] - before[0][metric]) * 1000
    return {
        "ms": statistics.median(main),
        "mean_ms": statistics.fmean(main),
        "browser_ms": statistics.median(browser),
        "browser_mean_ms": statistics.fmean(browser),
        "window_s": windows / CLUES,
        "per_clue_ms": [round(ms, 2) for ms in main],
        "per_clue_browser_ms": [round(ms, 2) for ms in browser],
        **{part: total / CLUES for part, total in parts.items()},
    }


def counters(launch: Callable[[], Browser], backend: Backend, bare_url: str, parlor_url: str) -> dict[str, Any]:
    """Three browsers, one page each, measured side by side: the bare app, a visitor on Parlor's landing page, and a
    host who creates a room and starts a game (the page the clues are then measured on)."""
    found: dict[str, Any] = {}
    browsers = {name: launch() for name in ("bare", "landing", "game")}
    _, bare = open_phone(browsers["bare"], bare_url, "en-US", WAIT_MS)
    bare.get_by_role("button", name="Go").wait_for()
    _, landing = open_phone(browsers["landing"], parlor_url, "en-US", WAIT_MS)
    landing.get_by_test_id("stForm").first.wait_for()

    _, page = open_phone(browsers["game"], "about:blank", "en-US", WAIT_MS)
    frames: list[int] = []

    def on_socket(ws: WebSocket) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(len(payload)))
            ws.on("framesent", lambda payload: frames.append(len(payload)))

    page.on("websocket", on_socket)
    page.goto(parlor_url)
    table = Table(backend.url, page, "en", WAIT_MS, settings=GAME)
    views = table.views()
    next(views)  # landing
    next(views)  # lobby
    next(views)  # discussion: the game has started
    found["ws_kib"] = sum(frames) / 1024
    # The bridge hands the game's first render times to Python at its next heartbeat (one fragment rerun, the
    # tail of the game's start); idle begins after it.
    page.wait_for_timeout(get_settings().bridge_heartbeat_ms + 3000)
    watched = {
        "bare": Watched(bare, ChromiumCpu.of(browsers["bare"])),
        "landing": Watched(landing, ChromiumCpu.of(browsers["landing"])),
        "game": Watched(page, ChromiumCpu.of(browsers["game"]), lambda: len(frames)),
    }
    idle_found = idle(watched)
    found |= {f"{name} idle": rates for name, rates in idle_found.items()}
    found["clue"] = clue_cost(watched["game"], table, found["game idle"])
    for browser in browsers.values():
        browser.close()
    return found


def walks(browser: Browser, backend: Backend, parlor_url: str) -> dict[str, dict[str, Any]]:
    """Per view: axe-core violations (phone, EN and FR) and CLS as it comes up (phone EN/FR, desktop EN)."""
    found: dict[str, dict[str, Any]] = {view: {} for view in VIEWS}
    for label, language, desktop in (("phone en", "en", False), ("phone fr", "fr", False), ("desktop", "en", True)):
        context, page = open_phone(browser, parlor_url, f"{language}-{language.upper()}", WAIT_MS, desktop=desktop)
        mark = 0
        for view in Table(backend.url, page, language, WAIT_MS).views():
            page.wait_for_timeout(1000)
            found[view][f"CLS {label}"] = cls_since(page, mark)
            if not desktop:
                found[view][f"axe {label}"] = [v["id"] for v in axe_violations(page)]
            mark = shift_mark(page)
        context.close()
    return found


# ---- the run -------------------------------------------------------------------------------------------------


def run(counters_only: bool = False) -> dict[str, Any]:
    if not (axe_available() and LIGHTHOUSE.exists()):
        raise SystemExit("needs node_modules: npm ci (scripts/bootstrap.sh dev)")
    nginx_port, front_port, bare_port = free_port(), free_port(), free_port()
    origins = json.dumps([f"http://127.0.0.1:{nginx_port}", f"http://localhost:{nginx_port}"])
    with tempfile.TemporaryDirectory(prefix="parlor-audit-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        backend = stack.enter_context(run_backend(env={"ALLOWED_ORIGINS": origins, **BACKEND_ENV}, tmp=tmp))
        front = stack.enter_context(run_streamlit(backend.url, port=front_port, tmp=tmp))
        bare = stack.enter_context(run_streamlit(backend.url, port=bare_port, tmp=tmp, script=BARE_APP))
        nginx = stack.enter_context(run_frontend_nginx([front.port], tmp / "nginx", port=nginx_port))
        for url in (nginx.url, bare.url):
            httpx.get(url, timeout=30)  # Streamlit compiles nothing on the first request, but warm the sockets
        result: dict[str, Any] = {}
        if not counters_only:
            result["lighthouse"] = lighthouse_runs(bare.url, nginx.url + "/")
        with sync_playwright() as pw:

            def launch() -> Browser:
                return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            result["counters"] = counters(launch, backend, bare.url, nginx.url)
            if not counters_only:
                browser = launch()
                result["views"] = walks(browser, backend, nginx.url)
                browser.close()
    return result


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _ratio(c: dict[str, Any], key: str) -> str:
    bare = c["bare idle"][key]
    return f"{c['game idle'][key] / bare:.1f}x" if bare else "inf"


def counter_rows(c: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    b, la, g, clue = c["bare idle"], c["landing idle"], c["game idle"], c["clue"]
    idle_s = IDLE_WINDOWS * IDLE_WINDOW_S

    def row(label: str, key: str, digits: int = 1) -> tuple[str, str, str, str]:
        return label, _f(b[key], digits), _f(la[key], digits), _f(g[key], digits)

    def each(label: str, show: Callable[[dict[str, Any]], str]) -> tuple[str, str, str, str]:
        return label, show(b), show(la), show(g)

    return [
        row(f"renderer main thread while idle (ms/s, CDP TaskDuration; median of {IDLE_WINDOWS} windows of "
            f"{IDLE_WINDOW_S} s, the three pages side by side)", "ms_per_s", 2),
        ("... Parlor in game against the bare app", "", "", _ratio(c, "ms_per_s")),
        row("... of it script (ms/s, CDP ScriptDuration)", "script_ms_per_s", 2),
        ("whole browser while idle, every thread of every process (ms/s of CPU, /proc schedstat; median)",
         _f(b["browser total ms_per_s"], 2), _f(la["browser total ms_per_s"], 2), _f(g["browser total ms_per_s"], 2)),
        ("... Parlor in game against the bare app", "", "", _ratio(c, "browser total ms_per_s")),
        each("... of it renderer main / compositor / display compositor / rest (ms/s)",
             lambda p: " / ".join(_f(p[f"browser {role} ms_per_s"], 2) for role in ROLES)),
        each("... each window: main thread, whole browser (ms/s)",
             lambda p: "; ".join(f"{m:.1f}, {w:.1f}" for m, w in p["windows"])),
        (f"layouts in {idle_s} idle seconds", _f(b["layouts"], 0), _f(la["layouts"], 0), _f(g["layouts"], 0)),
        ("messages over Streamlit's WebSocket meanwhile (a fragment rerun is some)", "-",
         "-", _f(g["streamlit_messages"], 0)),
        (f"a clue on a watching page, renderer main thread (ms; median, mean of {CLUES} clues)", "-", "-",
         f"{_f(clue['ms'])}, {_f(clue['mean_ms'])}"),
        ("... of it script / style / layout (ms, CDP ScriptDuration / RecalcStyleDuration / LayoutDuration; mean)",
         "-", "-", " / ".join(_f(clue.get(part, 0.0), 2) for part in CLUE_PARTS)),
        ("... whole browser, every thread (ms; median, mean)", "-", "-",
         f"{_f(clue['browser_ms'])}, {_f(clue['browser_mean_ms'])}"),
        ("bytes over Streamlit's WebSocket, landing to a started game (KiB)", "-", "-", _f(c["ws_kib"], 0)),
    ]  # fmt: skip


def counters_markdown(c: dict[str, Any]) -> str:
    lines = ["| | bare Streamlit app | Parlor landing | Parlor in game (discussion) |", "|---|---:|---:|---:|"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in counter_rows(c))])


def markdown(r: dict[str, Any]) -> str:
    lh, c, views = r["lighthouse"], r["counters"], r["views"]
    bm, pm, pw = lh["bare mobile"], lh["parlor mobile"], lh["parlor mobile warm"]
    rows = [
        ("Lighthouse mobile: first contentful paint (s)", _f(bm["fcp_s"]), _f(pm["fcp_s"]), "-"),
        ("Lighthouse mobile: largest contentful paint (s)", _f(bm["lcp_s"]), _f(pm["lcp_s"]), "-"),
        ("... Parlor's share of the bare app's", "", f"{pm['lcp_s'] / bm['lcp_s']:.0%}", ""),
        ("bytes transferred (KiB)", _f(bm["kib"], 0), _f(pm["kib"], 0), "-"),
        ("... Parlor's share of the bare app's", "", f"{pm['kib'] / bm['kib']:.0%}", ""),
        ("Lighthouse's estimate of what compression alone saves (s)", _f(bm["compression_saves_s"]),
         _f(pm["compression_saves_s"]), "-"),
        ("Lighthouse mobile, warm cache (next visit): FCP / LCP (s), KiB", "", f"{_f(pw['fcp_s'])} / "
         f"{_f(pw['lcp_s'])}, {_f(pw['kib'], 0)}", "-"),
        ("Lighthouse accessibility score", str(bm["accessibility"]), str(pm["accessibility"]), "-"),
        ("Lighthouse CLS: mobile / desktop", f"{bm['cls']:.3f} / {lh['bare desktop']['cls']:.3f}",
         f"{pm['cls']:.3f} / {lh['parlor desktop']['cls']:.3f}", "-"),
        *counter_rows(c),
    ]  # fmt: skip
    lines = [
        "| | bare Streamlit app (text + input + button) | Parlor landing | Parlor in game (discussion) |",
        "|---|---:|---:|---:|",
        *(f"| {' | '.join(row)} |" for row in rows),
        "",
        "Every view, at 375x740 (phone) in English and French and at 1350x940 (desktop) in English: axe-core "
        "violations (ids) and CLS as the view comes up (largest session window of layout shifts).",
        "",
        "| view | axe, phone EN | axe, phone FR | CLS phone EN | CLS phone FR | CLS desktop |",
        "|---|---|---|---:|---:|---:|",
    ]
    for view in VIEWS:
        v = views[view]
        axe = [", ".join(v[f"axe phone {lang}"]) or "none" for lang in ("en", "fr")]
        cls = [f"{v[key]:.3f}" for key in ("CLS phone en", "CLS phone fr", "CLS desktop")]
        lines.append(f"| {view} | {axe[0]} | {axe[1]} | {' | '.join(cls)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    parser.add_argument(
        "--counters",
        action="store_true",
        help="only Chromium's counters (idle, per clue, WebSocket bytes), bare app and Parlor side by side: no "
        "Lighthouse, no walk through the views; printed, never written",
    )
    args = parser.parse_args(argv)
    if args.counters and args.write:
        parser.error("--counters measures part of the table: run without it to write")
    result = run(counters_only=args.counters)
    if args.counters:
        print(counters_markdown(result["counters"]))
        print(json.dumps(result, indent=1, default=str), file=sys.stderr)
        return 0
    table = markdown(result)
    print(table)
    print(json.dumps(result, indent=1, default=str), file=sys.stderr)
    if args.write:
        lighthouse_version = subprocess.run(
            [str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        axe_version = json.loads((ROOT / "node_modules" / "axe-core" / "package.json").read_text())["version"]
        update_section(
            "web-audit",
            "## Phones first: Lighthouse, axe-core and Chromium's counters (`loadtest/web_audit.py`)\n\n"
            "`python -m loadtest.web_audit --write`: the real stack (backend, Streamlit behind "
            "`deploy/nginx-frontend.conf`) and a bare Streamlit app (`loadtest/bare_app.py`, served as Streamlit "
            f"serves any app) in one run. Lighthouse {lighthouse_version} with its default mobile profile "
            "(simulated slow 4G and 4x CPU slowdown), cold unless said; the warm run reuses the browser of a first "
            f"visit. axe-core {axe_version}. At 375x740, three browsers of one page each read side by side (the "
            "bare app, a visitor on Parlor's landing page, the host's page in discussion with 10 minutes on the "
            f"countdown), idle from the bridge's first heartbeat after the game started: {IDLE_WINDOWS} windows of "
            f"{IDLE_WINDOW_S} s, the median of each rate. Main thread: Chromium's counters (CDP "
            "Performance.getMetrics), the audit's own DevTools calls taken off. Whole browser: every thread of "
            "every process of that page's browser, nanoseconds on a core from /proc (`loadtest/chromium_cpu.py`); "
            "it sees what the main thread's counters cannot, the compositor and the display compositor drawing "
            "frames. A clue's cost is counted from its post until 0.5 s after the page's own observer saw it in "
            "the feed, less the idle rate.\n\n" + table + "\n\n" + machine_line(("streamlit", "playwright")) + "\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

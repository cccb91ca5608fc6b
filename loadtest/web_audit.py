"""Phones first (issue 21): Parlor's page audited as a web performance engineer would, beside a bare Streamlit app.

    python -m loadtest.web_audit [--write]

One run starts the real stack (backend, Streamlit behind deploy/nginx-frontend.conf) and, for the anchor, a bare
Streamlit app (loadtest/bare_app.py: text, an input, a button) served as Streamlit serves any app. Then:
- Lighthouse (npm, package-lock.json) with its default mobile profile on both, cold; Parlor again with a warm
  cache (the next game night); its desktop preset for CLS; the accessibility score of Parlor's landing page.
- In headless Chromium at 375x740, with Chromium's own counters (CDP Performance.getMetrics): the renderer's
  main-thread time (TaskDuration) and layouts while nothing happens, on the bare app, Parlor's landing page
  and a Parlor discussion with its countdown running; the main-thread time a clue costs a watching page; the
  bytes over Streamlit's WebSocket from the landing page to a started game.
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
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

from frontend.config import get_settings
from launchers.backend import Backend, run_backend
from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from launchers.nginx import run_frontend_nginx
from launchers.process import free_port, wait_http
from launchers.streamlit import run_streamlit
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
IDLE_SECONDS = 30
CLUES = 10
CLUE_EVERY_SECONDS = 1.5
CLUE_SETTLE_S = 0.5
WAIT_MS = 60_000
# What a clue's main-thread time is made of, as Chromium counts it (each window's share, not less idle).
CLUE_PARTS = {"script_ms": "ScriptDuration", "style_ms": "RecalcStyleDuration", "layout_ms": "LayoutDuration"}
BACKEND_ENV = {"MAX_CLUES_PER_ROUND": "1000", "CLUE_INTERVAL_SECONDS": "0"}
GAME = {"discussion_seconds": 600}


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


# ---- Chromium's counters -------------------------------------------------------------------------------------


def main_thread_ms(before: dict[str, float], after: dict[str, float]) -> float:
    """The renderer main thread's busy milliseconds between two readings, less the time it spent answering the
    audit's own DevTools commands (the readings themselves, the evaluations that wait for a clue)."""
    busy = after["TaskDuration"] - before["TaskDuration"]
    answering = after.get("DevToolsCommandDuration", 0.0) - before.get("DevToolsCommandDuration", 0.0)
    return (busy - answering) * 1000


def idle(page: Page, seconds: float, messages: Callable[[], int] = lambda: 0) -> dict[str, float]:
    """Main-thread milliseconds per second (TaskDuration) and layouts while nothing happens for `seconds`, with
    what of it was script, and the messages over Streamlit's socket meanwhile (`messages()`: those so far), so a
    window that caught a fragment rerun says so."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before, sent = chromium_metrics(cdp), messages()
    page.wait_for_timeout(seconds * 1000)
    after = chromium_metrics(cdp)
    cdp.detach()
    return {
        "script_ms_per_s": (after["ScriptDuration"] - before["ScriptDuration"]) * 1000 / seconds,
        "streamlit_messages": messages() - sent,
        "ms_per_s": main_thread_ms(before, after) / seconds,
        # the thread's CPU time: what the tasks took less the time the thread waited for a core (a loaded machine)
        "cpu_ms_per_s": (after.get("ThreadTime", 0.0) - before.get("ThreadTime", 0.0)) * 1000 / seconds,
        "layouts": after["LayoutCount"] - before["LayoutCount"],
    }


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


def clue_cost(page: Page, table: Table, idle_ms_per_s: float) -> dict[str, Any]:
    """Main-thread milliseconds a clue costs the watching page, beyond what the page spends idle meanwhile.

    Each clue has its own window: from just before it is posted until CLUE_SETTLE_S after it is on screen (the
    frame that paints it, the report the bridge keeps), counters read at both ends; the windows' idle share
    (`idle_ms_per_s`) is taken off. The gaps between clues are not counted."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    busy_ms = window_s = 0.0
    per_clue: list[float] = []
    parts = dict.fromkeys(CLUE_PARTS, 0.0)
    for n in range(CLUES):
        text = f"watched clue {n}"
        page.wait_for_timeout(CLUE_EVERY_SECONDS * 1000)
        page.evaluate(WATCH_FEED_JS, text)  # watching before the clue leaves
        before = chromium_metrics(cdp)
        start = time.monotonic()
        table.call("POST", "clues", table.others[n % len(table.others)], {"text": text})
        page.evaluate("() => window.__parlorLanded")  # one call, answered when the promise resolves
        page.wait_for_timeout(CLUE_SETTLE_S * 1000)
        after = chromium_metrics(cdp)
        window, busy = time.monotonic() - start, main_thread_ms(before, after)
        window_s += window
        busy_ms += busy
        per_clue.append(busy - idle_ms_per_s * window)
        for part, metric in CLUE_PARTS.items():
            parts[part] += (after[metric] - before[metric]) * 1000
    cdp.detach()
    return {
        "ms": (busy_ms - idle_ms_per_s * window_s) / CLUES,
        "busy_ms": busy_ms / CLUES,
        "window_s": window_s / CLUES,
        "median_ms": statistics.median(per_clue),
        "per_clue_ms": [round(ms, 2) for ms in per_clue],
        **{part: total / CLUES for part, total in parts.items()},
    }


def counters(browser: Browser, backend: Backend, bare_url: str, parlor_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    context, page = open_phone(browser, bare_url, "en-US", WAIT_MS)
    page.get_by_role("button", name="Go").wait_for()
    page.wait_for_timeout(3000)
    found["bare idle"] = idle(page, IDLE_SECONDS)
    context.close()

    context, page = open_phone(browser, "about:blank", "en-US", WAIT_MS)
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
    page.wait_for_timeout(3000)
    found["landing idle"] = idle(page, IDLE_SECONDS, lambda: len(frames))
    next(views)  # lobby
    next(views)  # discussion: the game has started
    found["ws_kib"] = sum(frames) / 1024
    # The bridge hands the game's first render times to Python at its next heartbeat (one fragment rerun, the
    # tail of the game's start); idle begins after it.
    page.wait_for_timeout(get_settings().bridge_heartbeat_ms + 3000)
    found["game idle"] = idle(page, IDLE_SECONDS, lambda: len(frames))
    found["clue"] = clue_cost(page, table, found["game idle"]["ms_per_s"])
    context.close()
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
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            result["counters"] = counters(browser, backend, bare.url, nginx.url)
            if not counters_only:
                result["views"] = walks(browser, backend, nginx.url)
            browser.close()
    return result


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def counter_rows(c: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    ratio = c["game idle"]["ms_per_s"] / c["bare idle"]["ms_per_s"] if c["bare idle"]["ms_per_s"] else float("inf")
    bare_cpu = c["bare idle"]["cpu_ms_per_s"]
    cpu_ratio = c["game idle"]["cpu_ms_per_s"] / bare_cpu if bare_cpu else float("inf")
    return [
        (f"renderer main thread while idle, {IDLE_SECONDS} s (ms/s, CDP TaskDuration)",
         _f(c["bare idle"]["ms_per_s"]), _f(c["landing idle"]["ms_per_s"]), _f(c["game idle"]["ms_per_s"])),
        ("... Parlor in game against the bare app", "", "", f"{ratio:.2f}x"),
        ("... its CPU time (ms/s, CDP ThreadTime)", _f(c["bare idle"]["cpu_ms_per_s"]),
         _f(c["landing idle"]["cpu_ms_per_s"]), _f(c["game idle"]["cpu_ms_per_s"])),
        ("... ... Parlor in game against the bare app", "", "", f"{cpu_ratio:.2f}x"),
        ("... of it script (ms/s, CDP ScriptDuration)", _f(c["bare idle"]["script_ms_per_s"]),
         _f(c["landing idle"]["script_ms_per_s"]), _f(c["game idle"]["script_ms_per_s"])),
        ("... messages over Streamlit's WebSocket meanwhile (a fragment rerun is some)", "-",
         _f(c["landing idle"]["streamlit_messages"], 0), _f(c["game idle"]["streamlit_messages"], 0)),
        (f"layouts in {IDLE_SECONDS} idle seconds", _f(c["bare idle"]["layouts"], 0),
         _f(c["landing idle"]["layouts"], 0), _f(c["game idle"]["layouts"], 0)),
        (f"main thread per clue on a watching page (ms, {CLUES} clues)", "-", "-", _f(c["clue"]["ms"])),
        ("... of it script / style / layout (ms, CDP ScriptDuration / RecalcStyleDuration / LayoutDuration)", "-",
         "-", " / ".join(_f(c["clue"].get(part, 0.0), 2) for part in CLUE_PARTS)),
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
            f"visit. axe-core {axe_version}. Chromium's counters at 375x740 (CDP Performance.getMetrics): idle "
            "windows begin 3 s after the page settled, and in game after the bridge's first heartbeat (the one "
            "fragment rerun that hands the game's first render times to Python); a clue's cost is counted from "
            "its post until 0.5 s after the page's own observer saw it in the feed, less the idle rate, the "
            "audit's DevTools calls taken off.\n\n" + table + "\n\n" + machine_line(("streamlit", "playwright")) + "\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

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
WAIT_MS = 60_000
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


def idle(page: Page, seconds: float) -> dict[str, float]:
    """Main-thread milliseconds per second (TaskDuration) and layouts while nothing happens for `seconds`."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before = chromium_metrics(cdp)
    page.wait_for_timeout(seconds * 1000)
    after = chromium_metrics(cdp)
    cdp.detach()
    return {
        "ms_per_s": (after["TaskDuration"] - before["TaskDuration"]) * 1000 / seconds,
        "layouts": after["LayoutCount"] - before["LayoutCount"],
    }


def clue_cost(page: Page, table: Table, idle_ms_per_s: float) -> float:
    """Main-thread milliseconds a clue costs the watching page, beyond what the page spends idle meanwhile."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before = chromium_metrics(cdp)
    start = time.monotonic()
    for n in range(CLUES):
        table.call("POST", "clues", table.others[n % len(table.others)], {"text": f"watched clue {n}"})
        page.locator(".parlor-feed > p").filter(has_text=f"watched clue {n}").wait_for(timeout=WAIT_MS)
        time.sleep(CLUE_EVERY_SECONDS)
    spent_s = time.monotonic() - start
    after = chromium_metrics(cdp)
    cdp.detach()
    busy_ms = (after["TaskDuration"] - before["TaskDuration"]) * 1000
    return max(0.0, busy_ms - idle_ms_per_s * spent_s) / CLUES


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
    found["landing idle"] = idle(page, IDLE_SECONDS)
    next(views)  # lobby
    next(views)  # discussion: the game has started
    found["ws_kib"] = sum(frames) / 1024
    page.wait_for_timeout(3000)
    found["game idle"] = idle(page, IDLE_SECONDS)
    found["clue_ms"] = clue_cost(page, table, found["game idle"]["ms_per_s"])
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


def run() -> dict[str, Any]:
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
        result: dict[str, Any] = {"lighthouse": lighthouse_runs(bare.url, nginx.url + "/")}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            result["counters"] = counters(browser, backend, bare.url, nginx.url)
            result["views"] = walks(browser, backend, nginx.url)
            browser.close()
    return result


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def markdown(r: dict[str, Any]) -> str:
    lh, c, views = r["lighthouse"], r["counters"], r["views"]
    bm, pm, pw = lh["bare mobile"], lh["parlor mobile"], lh["parlor mobile warm"]
    ratio = c["game idle"]["ms_per_s"] / c["bare idle"]["ms_per_s"] if c["bare idle"]["ms_per_s"] else float("inf")
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
        (f"renderer main thread while idle, {IDLE_SECONDS} s (ms/s, CDP TaskDuration)",
         _f(c["bare idle"]["ms_per_s"]), _f(c["landing idle"]["ms_per_s"]), _f(c["game idle"]["ms_per_s"])),
        ("... Parlor in game against the bare app", "", "", f"{ratio:.2f}x"),
        (f"layouts in {IDLE_SECONDS} idle seconds", _f(c["bare idle"]["layouts"], 0),
         _f(c["landing idle"]["layouts"], 0), _f(c["game idle"]["layouts"], 0)),
        (f"main thread per clue on a watching page (ms, {CLUES} clues)", "-", "-", _f(c["clue_ms"])),
        ("bytes over Streamlit's WebSocket, landing to a started game (KiB)", "-", "-", _f(c["ws_kib"], 0)),
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
    args = parser.parse_args(argv)
    result = run()
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
            f"visit. axe-core {axe_version}. Chromium's counters at 375x740 (CDP Performance.getMetrics).\n\n"
            + table
            + "\n\n"
            + machine_line(("streamlit", "playwright"))
            + "\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

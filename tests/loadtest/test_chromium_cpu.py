"""loadtest/chromium_cpu.py reads a real Chromium's threads: a page that runs an animation on the compositor costs
the compositor and the display compositor CPU that Chromium's main-thread counters do not show, and a still page
costs them (almost) nothing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from loadtest.chromium_cpu import ROLES, ChromiumCpu, process_threads_ns

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPINNING = """<style>@keyframes spin { to { transform: rotate(360deg) } }
div { width: 50px; height: 50px; background: teal; animation: spin 1s linear infinite }</style><div></div>"""
STILL = "<div>nothing moves here</div>"


@pytest.fixture
def launch() -> Iterator[Callable[[], Browser]]:
    with sync_playwright() as pw:
        browsers: list[Browser] = []

        def launch() -> Browser:
            browsers.append(pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS))
            return browsers[-1]

        yield launch
        for browser in browsers:
            browser.close()


def test_a_thread_of_this_process_is_read_to_the_nanosecond() -> None:
    """The reader sees a thread that burns 0.2 s of CPU (by its thread id) with that much more run time."""
    done = threading.Event()

    def burn() -> None:
        end = time.thread_time() + 0.2
        while time.thread_time() < end:
            pass
        done.wait()

    worker = threading.Thread(target=burn, name="parlor-burn")
    before = process_threads_ns(os.getpid())
    worker.start()
    time.sleep(0.5)
    after = process_threads_ns(os.getpid())
    done.set()
    worker.join()
    burned = [ns - before.get(key, 0) for key, ns in after.items() if key[0] == worker.native_id]
    assert len(burned) == 1 and 0.19e9 <= burned[0] <= 0.5e9, burned


def test_an_animation_costs_the_compositors_and_a_still_page_does_not(launch: Callable[[], Browser]) -> None:
    """Two browsers side by side, 3 s: the spinning square's compositor and display compositor run every frame;
    the still page's barely run (the same reading of the same seconds)."""
    pages = {}
    for name, html in (("spinning", SPINNING), ("still", STILL)):
        browser = launch()
        page = browser.new_page()
        page.set_content(html)
        pages[name] = (page, ChromiumCpu.of(browser))
    page = pages["still"][0]
    page.wait_for_timeout(1000)  # both have painted their first frames
    before = {name: cpu.read() for name, (_, cpu) in pages.items()}
    page.wait_for_timeout(3000)
    spent = {name: ChromiumCpu.spent(before[name], cpu.read()) for name, (_, cpu) in pages.items()}
    assert set(spent["still"]) == {*ROLES, "total"}
    spinning, still = spent["spinning"], spent["still"]
    assert spinning["compositor"] > 5 * max(still["compositor"], 1.0), spent
    assert spinning["display compositor"] > 5 * max(still["display compositor"], 1.0), spent
    assert spinning["total"] > still["total"], spent

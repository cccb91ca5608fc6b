"""Shared fixtures: a real backend process per test module, and timing constants scaled from one place."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from launchers.backend import Backend, run_backend
from launchers.process import TIME_SCALE, scaled

# Timing constants are scaled from one place (PARLOR_TIME_SCALE), shared with the launchers' waits.
__all__ = ["TIME_SCALE", "scaled"]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A real uvicorn serving backend.main:app on 127.0.0.1 with an ephemeral port."""
    tmp: Path = tmp_path_factory.mktemp("backend")
    with run_backend(tmp=tmp) as server:
        yield server


# ---- evidence of failed browser tests ------------------------------------------------------------------------

# Every failed test that drove Chromium leaves a Playwright trace (DOM snapshots of each step, console, network) and
# a screenshot of each open page here; scripts/test.sh prints the folder at the end of a red run.
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(autouse=True)
def _browser_evidence(request: pytest.FixtureRequest) -> Iterator[None]:
    """Trace every context a browser test opens; keep the trace and screenshots only when the test failed."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    if not hasattr(browser, "new_context"):  # an async browser or something else named so: nothing to wrap
        yield
        return
    traced: list[Any] = []
    new_context, new_page = browser.new_context, browser.new_page

    def traced_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.tracing.start(snapshots=True, screenshots=False, sources=False)
        traced.append(context)
        return context

    def traced_page(*args: Any, **kwargs: Any) -> Any:
        page = new_page(*args, **kwargs)
        page.context.tracing.start(snapshots=True, screenshots=False, sources=False)
        traced.append(page.context)
        return page

    browser.new_context, browser.new_page = traced_context, traced_page
    try:
        yield
    finally:
        browser.new_context, browser.new_page = new_context, new_page
        reports = request.node.stash.get(_REPORTS, {})
        failed = any(r.failed for r in reports.values())
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        for i, context in enumerate(traced):
            try:
                if failed:
                    folder.mkdir(parents=True, exist_ok=True)
                    for j, page in enumerate(context.pages):
                        page.screenshot(path=str(folder / f"context{i}-page{j}.png"), full_page=True, timeout=5000)
                    context.tracing.stop(path=str(folder / f"context{i}-trace.zip"))
                else:
                    context.tracing.stop()
            except Exception:  # a context the test closed itself, or a browser already gone: nothing to keep
                pass


def screenshot_dir() -> Path:
    """Where the browser tests' screenshots go: docs/img with PARLOR_UPDATE_SCREENSHOTS=1 (to refresh the docs'
    pictures on purpose), else var/screenshots, so a test run never leaves the checkout modified."""
    root = Path(__file__).resolve().parents[1]
    update = os.environ.get("PARLOR_UPDATE_SCREENSHOTS") == "1"
    folder = root / "docs" / "img" if update else root / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder

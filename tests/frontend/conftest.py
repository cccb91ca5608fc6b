"""Browser tests: a real backend, a real Streamlit, and real headless Chromium (Debian's, not a download)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.frontend.player import UI_TIMEOUT_MS

# Playwright's `expect` waits 5 s by default, whatever the page's own default timeout: on a 2-core machine
# running four workers of browser tests, a Streamlit rerun can take longer than that. The same patience as
# every other UI wait (scaled with PARLOR_TIME_SCALE); an assertion that cannot become true still fails.
expect.set_options(timeout=UI_TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

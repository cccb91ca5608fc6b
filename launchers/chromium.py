"""Debian's Chromium, headless, for Playwright (never a downloaded browser)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"

# Without the background-networking flags it keeps dialling out of this sandbox.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

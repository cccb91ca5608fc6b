"""The page on a phone (375x740), in real Chromium: every view passes axe-core in English and French and comes up
without jumping (CLS <= 0.1), an idle discussion page lays nothing out, and the front door compresses and caches."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from frontend.live import PAGE_FILES, static_url
from launchers.backend import Backend, run_backend
from launchers.nginx import Nginx, nginx_available, run_frontend_nginx
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from loadtest.page_audit import (
    VIEWS,
    Table,
    axe_available,
    axe_violations,
    chromium_metrics,
    cls_since,
    open_phone,
    shift_mark,
    shifts_since,
)
from tests.conftest import scaled
from tests.frontend.player import UI_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = scaled(30) * 1000
IDLE_SECONDS = 10
CLS_LIMIT = 0.1
SLOW_DELTAS = Path(__file__).resolve().parent / "slow_deltas"
DELTA_DELAY_MS = 30
# What animations run in the page (CSS or script, the compositor's included), by the element they move.
RUNNING_ANIMATIONS_JS = """() => document.getAnimations().filter(a => a.playState === "running")
    .map(a => (a.effect && a.effect.target ? a.effect.target.className || a.effect.target.tagName : "?"))"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Frontend]]:
    if not axe_available():
        pytest.skip("needs axe-core (npm ci, scripts/bootstrap.sh dev)")
    tmp = tmp_path_factory.mktemp("phone")
    port = free_port()
    # The bridge's heartbeat that hands the game's first render times to Python (one fragment rerun, a heartbeat
    # after the game starts) would land in the idle window.
    front_env = {"BRIDGE_HEARTBEAT_MS": "60000"}
    # A loaded server (slow_deltas/sitecustomize.py): each view reaches the page element by element, as under the
    # suite's load, where old views' leftovers pushed down by a new view's first elements shifted the page by 0.4.
    path = [str(SLOW_DELTAS), *filter(None, [os.environ.get("PYTHONPATH")])]
    front_env |= {"PYTHONPATH": os.pathsep.join(path), "PARLOR_TEST_DELTA_DELAY_MS": str(DELTA_DELAY_MS)}
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp, env=front_env) as frontend,
    ):
        yield backend, frontend


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_view_is_accessible_and_steady(browser: Browser, stack: tuple[Backend, Frontend], language: str) -> None:
    """Landing, lobby, discussion, voting, Mr. White's guess and game over on a phone: no axe-core violation, and
    a CLS of at most 0.1 as each view comes up, however slowly Streamlit's elements arrive (a new view replaces the
    old one whole, drawn in screen order: frontend/page.py's _view); in discussion (English run), 10 idle seconds
    with the countdown running cause no layout at all and leave no animation running (the countdown moves once a
    second, and still moves). Measured on the second game of the tab: Streamlit loads
    each widget's code on its first use behind a shorter placeholder, so on a loaded machine a first lobby's
    widgets can arrive late and move what is below them (loadtest/web_audit.py reports the first visit's CLS)."""
    backend, frontend = stack
    context, page = open_phone(browser, frontend.url, f"{language}-{language.upper()}", UI_TIMEOUT_MS)
    assert list(Table(backend.url, page, language, WAIT_MS).views()) == list(VIEWS)
    page.evaluate("sessionStorage.clear()")  # a new player in the same browser: the landing page again
    page.goto(frontend.url)
    problems: dict[str, object] = {}
    seen = []
    mark = 0
    for view in Table(backend.url, page, language, WAIT_MS).views():
        seen.append(view)
        page.wait_for_timeout(500)  # what the view's own scripts do right after it arrives counts too
        if (violations := axe_violations(page)) != []:
            problems[f"{view} axe"] = violations
        if (cls := cls_since(page, mark)) > CLS_LIMIT:
            problems[f"{view} CLS"] = [cls, shifts_since(page, mark)]
        if view == "discussion" and language == "en":
            timer = page.locator(".parlor-countdown-text [role=timer]")
            expect(timer).to_have_count(1)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            before = chromium_metrics(cdp)["LayoutCount"]
            shown = timer.get_attribute("aria-label")
            page.wait_for_timeout(IDLE_SECONDS * 1000)
            layouts = chromium_metrics(cdp)["LayoutCount"] - before
            if layouts:
                problems["discussion idle layouts"] = layouts
            if timer.get_attribute("aria-label") == shown:
                problems["countdown stood still"] = shown
            # A running animation (even a compositor one) has Chromium draw a frame every vsync while idle.
            if running := page.evaluate(RUNNING_ANIMATIONS_JS):
                problems["animations running while idle"] = running
        mark = shift_mark(page)
    context.close()
    assert seen == list(VIEWS)
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


def test_front_door_compresses_and_caches(
    stack: tuple[Backend, Frontend], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Through deploy/nginx-frontend.conf: Streamlit's hashed bundles and Parlor's own scripts (with ?v=) come
    gzipped and cacheable for a year; the page itself is revalidated and preloads no font; the icon font's face
    covers only the characters of icon names (a page without icons never fetches it) and Streamlit's text font
    matches no family (the theme uses the phone's own)."""
    if not nginx_available():
        pytest.skip("needs nginx")
    _backend, frontend = stack
    with run_frontend_nginx([frontend.port], tmp_path_factory.mktemp("phone-nginx")) as nginx:
        check_front_door(nginx)


def check_front_door(nginx: Nginx) -> None:
    with httpx.Client(base_url=nginx.url, headers={"Accept-Encoding": "gzip"}, timeout=10) as http:
        index = http.get("/")
        assert index.headers["content-encoding"] == "gzip"
        assert "immutable" not in index.headers.get("cache-control", "")
        bundle = next(part.split('"')[1] for part in index.text.split("src=")[1:] if part.startswith('"./static/'))
        raw = http.get(bundle.lstrip("."))
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert 'rel="preload"' not in index.text
        sheet = next(part.split('"')[1] for part in index.text.split("href=")[1:] if part.startswith('"./static/css/'))
        faces = http.get(sheet.lstrip(".")).text.split("@font-face")
        icons = [face for face in faces if "MaterialSymbols" in face]
        assert len(icons) == 1 and "unicode-range:U+30-39,U+41-5A,U+5F,U+61-7A;" in icons[0], icons
        text = [face for face in faces if "SourceSansVF" in face]
        assert len(text) == 2 and all("font-family:Source Sans (not used by Parlor);" in face for face in text), text
        for name in PAGE_FILES:
            script = http.get(static_url(name))
            assert script.status_code == 200
            assert "javascript" in script.headers["content-type"]
            assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert script.headers["content-encoding"] == "gzip"

"""Today's bridge, in real Chromium, against a backend that speaks the next protocol version (a real uvicorn
started by the test-only tests/e2e/next_protocol_backend.py): refused with 4426, the page reloads once, and refused
again within the minute it says so and retries instead of reloading in a loop."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from frontend.live import BRIDGE_FILES
from launchers.backend import Backend, backend_env
from launchers.process import PYTHON, ROOT, Server, free_port, log_dir, running
from parlor_protocol import PROTOCOL_VERSION, CloseCode, ErrorCode, version
from tests.conftest import scaled
from tests.e2e.next_protocol_backend import NEXT

pytestmark = pytest.mark.browser

STATIC = ROOT / "frontend" / "static"
# Every socket's close and every load of the page, kept in the tab's sessionStorage so they outlive a reload.
RECORDER = """(() => {
  const log = (key, item) => {
    const items = JSON.parse(sessionStorage.getItem(key) || "[]");
    items.push(item);
    sessionStorage.setItem(key, JSON.stringify(items));
  };
  log("test:loads", performance.getEntriesByType("navigation")[0]?.type || "navigate");
  const nativeFetch = window.fetch.bind(window);
  window.fetch = async (url, init) => {
    const resp = await nativeFetch(url, init);
    if (String(url).includes("/events?")) log("test:polls", [resp.status, (init.headers || {})["X-Parlor-Protocol"]]);
    return resp;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", (e) => log("test:closes", [e.code, e.reason]));
    }
  };
})();"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Site:
    """A static page server on 127.0.0.1 (standard library): the page with the bridge comes from its own origin."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(QuietHandler, directory=str(root))
        self.root = root
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    served = Site(tmp_path_factory.mktemp("site"))
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture(scope="module")
def next_backend(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Backend]:
    """`python -m backend` speaking protocol NEXT only, with the test page's origin allowed."""
    tmp: Path = tmp_path_factory.mktemp("next-backend")
    port = free_port()
    argv = [PYTHON, "-m", "tests.e2e.next_protocol_backend", "--host", "127.0.0.1", "--port", str(port)]
    env = backend_env({"ALLOWED_ORIGINS": site.origin}, tmp)
    server = Server([*argv, "--log-level", "warning"], port, log_dir(tmp) / "next-backend.log", env=env)
    with running(server) as started:
        yield started


def page_html(backend: Backend, seat: dict[str, Any]) -> str:
    scripts = "\n".join(f"<script>{(STATIC / name).read_text()}</script>" for name in BRIDGE_FILES)
    config = {"room": seat["room_code"], "player": seat["player_id"], "token": seat["token"], "baseUrl": backend.url}
    return f"<html><body>{scripts}<script>window.parlorBridge.configure({json.dumps(config)});</script></body></html>"


def test_todays_bridge_is_refused_by_the_next_version_and_the_page_reloads_once(
    next_backend: Backend, site: Site, browser: Browser
) -> None:
    """The next release's backend closes today's hello with 4426 and a reason naming both versions; the page
    reloads, is refused again, and then shows the version mismatch rather than reloading again within a minute.
    The long-poll it falls back to is refused too (426, `unsupported_protocol`)."""
    headers = {version.HEADER: str(NEXT)}
    seat = httpx.post(f"{next_backend.url}/api/rooms", json={"name": "Alice"}, headers=headers, timeout=10).json()
    polled = httpx.get(
        f"{next_backend.url}/api/rooms/{seat['room_code']}/events?after=0",
        headers={"Authorization": f"Bearer {seat['token']}", version.HEADER: str(PROTOCOL_VERSION)},
        timeout=10,
    )
    assert polled.status_code == 426 and polled.json()["error"]["code"] == ErrorCode.UNSUPPORTED_PROTOCOL

    (site.root / "room.html").write_text(page_html(next_backend, seat))
    page: Page = browser.new_page()
    try:
        page.add_init_script(RECORDER)
        page.goto(f"{site.origin}/room.html")
        page.wait_for_function(
            """() => {
                const b = window.parlorBridge;
                const seen = (key) => JSON.parse(sessionStorage.getItem(key) || "[]");
                return b && seen("test:loads").length === 2 && seen("test:polls").length > 0 &&
                    /different versions/.test(b.state().detail);
            }""",
            timeout=scaled(15) * 1000,
        )
        seen = page.evaluate(
            """() => ({
                loads: JSON.parse(sessionStorage.getItem("test:loads")),
                closes: JSON.parse(sessionStorage.getItem("test:closes")),
                polls: JSON.parse(sessionStorage.getItem("test:polls")),
                reloadedAt: sessionStorage.getItem("parlor:protocol-reload"),
                status: window.parlorBridge.status,
            })"""
        )
    finally:
        page.close()
    assert seen["loads"] == ["navigate", "reload"]
    assert len(seen["closes"]) >= 2 and seen["reloadedAt"]
    reason = (
        f"protocol {PROTOCOL_VERSION} unsupported (server speaks {NEXT}-{NEXT}): reload the page for the new version"
    )
    assert all(close == [CloseCode.UNSUPPORTED_PROTOCOL, reason] for close in seen["closes"]), seen["closes"]
    assert seen["status"] == "fallback"
    assert seen["polls"][0] == [426, str(PROTOCOL_VERSION)]  # the long-poll names its version and is refused too

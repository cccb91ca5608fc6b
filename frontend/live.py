"""Python's side of the browser bridge: install it into the page once, then wait for batches of events.

The bridge (static/bridge.js) lives in the Streamlit page, not in a component iframe, so its socket survives
reruns; the live view (static/live_view.js) draws the live parts from its events into placeholders that the
views emit, so only events that change the layout come back to Python. `streamlit_js_eval` is only the
doorway: its iframe evaluates a short expression and sends the resolved value back, which reruns the enclosing
fragment. Because the component re-evaluates only when its
expression changes, each wait carries a sequence number; a value is consumed once, when its number matches.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from streamlit_js_eval import streamlit_js_eval

STATIC = Path(__file__).resolve().parent / "static"
# Streamlit serves the app's `static/` folder here (server.enableStaticServing, .streamlit/config.toml).
STATIC_URL = "/app/static/"
INSTALL_KEY = "parlor-install"
PROBE_KEY = "parlor-probe"
WAIT_KEY = "parlor-wait"
# The bridge's parts, then the bridge that wires them (static/bridge.js says what each does), in load order.
BRIDGE_FILES = (
    "bridge/protocol.js",
    "bridge/machine.js",
    "bridge/transports.js",
    "bridge/buffer.js",
    "bridge/outbox.js",
    "bridge/seat.js",
    "bridge/watchdog.js",
    "bridge.js",
)
# Everything the page loads, in order: the bridge, then the countdown and the live view that use it.
PAGE_FILES = (*BRIDGE_FILES, "countdown.js", "live_view.js")


@lru_cache
def _script(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@lru_cache
def _loader() -> str:
    """loader.js without its comment lines: it travels with every rerun that installs or probes."""
    lines = _script("loader.js").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("//"))


@lru_cache
def static_url(name: str) -> str:
    """The file's URL with its content hash, so the front door may let browsers keep it for a year."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_URL}{name}?v={digest}"


def install_expression(config: dict[str, Any] | None) -> str:
    """Load the browser files into window.parent (once per page) and configure the bridge for this seat.

    Only the loader and the files' URLs travel with each rerun; the browser fetches the files once and caches them.
    """
    urls = {name: static_url(name) for name in PAGE_FILES}
    return f"({_loader()})(window.parent, {json.dumps(urls)}, {json.dumps(config)})"


def install(config: dict[str, Any] | None) -> None:
    """Point the bridge at a seat (a config), or with `{"forget": {"room", "player"}}` or None stop it and
    forget that seat in the tab."""
    # No output wanted: a value would rerun the whole app for nothing.
    streamlit_js_eval(js_expressions=install_expression(config), key=INSTALL_KEY, want_output=False)


def probe(room: str | None) -> dict[str, Any] | None:
    """The tab's stored seat and a "Continue as" offer for `room`; None until the page has answered (one rerun)."""
    answer = streamlit_js_eval(js_expressions=install_expression({"probe": room or ""}), key=PROBE_KEY)
    return answer if isinstance(answer, dict) else None


def await_bridge(call: str) -> str:
    """An expression that waits for the bridge to be installed, then evaluates `call` with it as `b`."""
    # The install iframe and the wait iframe load independently, so a wait may be evaluated first.
    return (
        "(function w() { const b = window.parent.parlorBridge; "
        "return b ? Promise.resolve(b) : new Promise(r => setTimeout(() => r(w()), 20)); })()"
        f".then(b => {call})"
    )


def wait_expression(seq: int, last_id: int, timeout_ms: int, known_status: str) -> str:
    call = f"b.next({int(last_id)}, {int(timeout_ms)}, {json.dumps(known_status)}).then(v => ({{...v, seq: {seq}}}))"
    return await_bridge(call)


def request(expression: str, key: str) -> None:
    streamlit_js_eval(js_expressions=expression, key=key)

"""Parlor's Streamlit frontend: `streamlit run frontend/app.py` (settings in frontend/config.py).

Transports: the browser bridge (WebSocket, long-poll fallback) feeding an event-driven fragment; legacy
polling of the state endpoint when WEBSOCKET_ENABLED=false; and the seed's 0.5 s rerun loop, kept only for
the benchmark (PARLOR_TRANSPORT_MODE=seed-loop or ?transport=seed-loop).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import streamlit as st

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run frontend/app.py`

from frontend import live
from frontend.api import Api, ApiError, Seat
from frontend.bridge_reports import record_report, track_session
from frontend.config import get_settings
from frontend.metrics import get_bridge_metrics
from frontend.state import apply_events
from frontend.views import landing, room
from frontend.views.common import STATUS_TEXT, esc, md

STATIC = Path(__file__).resolve().parent / "static"

st.set_page_config(page_title="Parlor · Undercover", page_icon="🕵️", layout="wide")
settings = get_settings()
metrics = get_bridge_metrics(settings.frontend_metrics_port or None, addr=settings.frontend_metrics_addr)
ss = st.session_state


@st.cache_resource
def _css() -> str:
    return (STATIC / "style.css").read_text(encoding="utf-8")


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "unknown"


def _mode() -> str:
    if not settings.websocket_enabled:
        return "legacy"
    if st.query_params.get("transport") == "seed-loop" or settings.parlor_transport_mode == "seed-loop":
        return "seed-loop"
    return "bridge"


def _api() -> Api:
    if "api" not in ss:
        ss.api = Api(settings.backend_url, settings.request_timeout_seconds)
    return ss.api


def _take_seat(seat: Seat, name: str) -> None:
    try:
        snap = _api().state(seat)
    except ApiError as err:
        st.error(md(err.text))
        return
    ss.seat, ss.name, ss.game_state = seat, name, snap
    ss.last_id = int(snap.get("last_event_id") or 0)
    ss.wait_seq = 1
    ss.bridge_status = "connecting" if _mode() != "legacy" else "polling"
    ss.detail = ""
    st.query_params["room"] = seat.room_code
    st.rerun()


def _leave() -> None:
    seat = ss.get("seat")
    if seat is not None:
        with contextlib.suppress(ApiError):  # leaving a room that is gone is still leaving
            _api().remove_player(seat, seat.player_id)
    for key in ("seat", "game_state", "last_id", "wait_seq", "bridge_status", "detail", "layout_key"):
        ss.pop(key, None)
    ss.left = True


def _share_url(code: str) -> str:
    base = "http://localhost:8501/"
    try:
        url = st.context.url
        if url:
            base = url.split("?")[0].rstrip("/") + "/"
    except AttributeError:
        pass
    return f"{base}?room={code}"


def _consume(value: dict[str, Any]) -> None:
    """Apply one batch from the bridge: events, a snapshot if the log was too short, status and the report."""
    frames = list(value.get("events") or [])
    if value.get("snapshot"):
        frames.insert(0, {"id": None, "type": "snapshot", "data": value["snapshot"]})
    if frames:
        ss.game_state = apply_events(ss.game_state, frames)
        # a snapshot may move the id down (the room's history was reset): it replaces the state and the id
        new_id = int(ss.game_state.get("last_event_id") or 0)
        ss.last_id = new_id if value.get("snapshot") else max(ss.last_id, new_id)
    ss.bridge_status = str(value.get("status") or ss.bridge_status)
    ss.detail = str(value.get("detail") or "")
    record_report(metrics, value.get("report") or {}, _session_id())
    track_session(metrics, _session_id(), str(value.get("transport") or "websocket"), ss.bridge_status)


def _bridge_config(seat: Seat) -> dict[str, Any]:
    return {
        "room": seat.room_code,
        "player": seat.player_id,
        "token": seat.token,
        "baseUrl": settings.browser_backend_url,
        "lastId": ss.last_id,
        "transport": seat.transport,
        "labels": STATUS_TEXT,
    }


# ---- the three live panels --------------------------------------------------------------------------------


@st.fragment
def bridge_panel() -> None:
    """Reruns only when the bridge resolves a wait: new events, a status change, or the heartbeat.

    It draws only the room's live HTML (one delta per batch); a batch that changes anything drawn outside it
    (see `room.layout_key`) reruns the whole app instead.
    """
    value = ss.get(live.WAIT_KEY)
    if isinstance(value, dict) and value.get("seq") == ss.wait_seq:
        _consume(value)
        ss.wait_seq += 1
        if room.layout_key(ss.game_state) != ss.get("layout_key"):
            st.rerun()
    room.render_live(ss.game_state)
    if ss.bridge_status == "stopped":
        st.error(ss.detail or "Live updates stopped.", icon="⛔")
    live.request(
        live.wait_expression(ss.wait_seq, ss.last_id, settings.bridge_heartbeat_ms, ss.bridge_status), live.WAIT_KEY
    )


def _sidebar_card(name: str, code: str, status: str, detail: str, mode: str) -> None:
    """Who you are, the room, and the connection light, as one element (each element costs every rerun).

    In bridge mode the bridge repaints the light the moment its status changes.
    """
    st.html(
        f'<div class="parlor-me"><div class="parlor-me-name">{esc(name)}</div>'
        f'<div class="parlor-caption">Room <b>{esc(code)}</b></div></div>'
        f'<div class="parlor-status" data-testid="connection-status" data-mode="{mode}" data-status="{esc(status)}">'
        f'<div class="parlor-status-text">{esc(STATUS_TEXT.get(status, status))}</div>'
        f'<div class="parlor-status-detail">{esc(detail)}</div></div>'
    )


@st.fragment(run_every=settings.legacy_poll_seconds)
def legacy_panel() -> None:
    """WEBSOCKET_ENABLED=false: the state endpoint, polled every LEGACY_POLL_SECONDS."""
    try:
        ss.game_state = _api().state(ss.seat)
    except ApiError as err:
        st.error(md(err.text), icon="⚠️")
        return
    track_session(metrics, _session_id(), "polling", "polling")
    room.render(ss.game_state, _api(), ss.seat, _share_url(ss.seat.room_code))


def seed_loop_panel() -> None:
    """The seed's design, for the benchmark only: a full rerun every 0.5 s; a check at most every 0.5 s."""
    value = ss.get(live.SEED_KEY)
    if isinstance(value, dict) and value.get("seq") == ss.wait_seq and ss.get("seed_consumed") != ss.wait_seq:
        _consume(value)
        ss.seed_consumed = ss.wait_seq
    now = time.monotonic()
    if now - ss.get("seed_checked", 0.0) >= 0.5 and ss.get("seed_consumed") == ss.wait_seq:
        ss.wait_seq += 1
        ss.seed_checked = now
    room.render(ss.game_state, _api(), ss.seat, _share_url(ss.seat.room_code))
    live.request(live.peek_expression(ss.wait_seq, ss.last_id), live.SEED_KEY)


# ---- page ----------------------------------------------------------------------------------------------------

# A style-only st.html goes to Streamlit's event container, where it takes no room in the layout. The sheet must
# not contain "<" (tests/frontend/test_views.py): DOMPurify would drop it whole.
st.html(f"<style>{_css()}</style>")
mode = _mode()

if "seat" not in ss:
    if mode != "legacy" and ss.get("left"):
        live.install(None)
    landing.render(_api(), _take_seat)
else:
    with st.sidebar:
        status = "polling" if mode == "legacy" else ss.bridge_status
        _sidebar_card(ss.name, ss.seat.room_code, status, ss.get("detail", ""), mode)
        st.button("Leave room", on_click=_leave, use_container_width=True)
    if mode == "legacy":
        legacy_panel()
    else:
        live.install(_bridge_config(ss.seat))
        if mode == "bridge":
            ss.layout_key = room.layout_key(ss.game_state)
            room.render(ss.game_state, _api(), ss.seat, _share_url(ss.seat.room_code), live=bridge_panel)
        else:
            seed_loop_panel()
            time.sleep(0.5)
            st.rerun()

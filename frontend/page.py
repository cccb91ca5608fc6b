"""The game's page as functions: `frontend/app.py` runs it; a benchmark page may run it with its own live panel.

Transports: the browser bridge (WebSocket, long-poll fallback) feeding an event-driven fragment, and legacy
polling of the state endpoint when WEBSOCKET_ENABLED=false.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from frontend import live
from frontend.api import Api, ApiError, Seat, forwarded_chain
from frontend.bridge_reports import record_report, track_session
from frontend.config import get_settings
from frontend.i18n import language_of, status_labels, t
from frontend.metrics import BridgeMetrics, get_bridge_metrics
from frontend.state import State, apply_events, needs_snapshot
from frontend.views import landing, room
from frontend.views.common import esc, md
from parlor_protocol import Transport

STATIC = Path(__file__).resolve().parent / "static"
BRIDGE = "bridge"
LEGACY = "legacy"

settings = get_settings()
ss = st.session_state


def metrics() -> BridgeMetrics:
    return get_bridge_metrics(settings.frontend_metrics_port or None, addr=settings.frontend_metrics_addr)


@st.cache_resource
def _css() -> str:
    return (STATIC / "style.css").read_text(encoding="utf-8")


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "unknown"


def api() -> Api:
    if "api" not in ss:
        chain = forwarded_chain(st.context.headers.get("X-Forwarded-For"), st.context.ip_address)
        ss.api = Api(settings.backend_url, settings.request_timeout_seconds, forwarded_for=chain)
    client: Api = ss.api
    return client


def seat() -> Seat:
    current: Seat = ss.seat
    return current


def game_state() -> State:
    state: State = ss.game_state
    return state


def _take_seat(new_seat: Seat, name: str) -> None:
    """Sit in `new_seat` (new, stored in the tab, or offered): the backend's state with its token proves it valid.

    A seat the backend rejects (401: removed or bad token, 404: the room is gone) is forgotten in the tab, with a
    message; any other failure keeps it, so reloading tries again.
    """
    try:
        snap = api().state(new_seat)
    except ApiError as err:
        if err.status in (401, 404):
            ss.forget = {"room": new_seat.room_code, "player": new_seat.player_id}
            ss.pop("offer", None)
            ss.notice = _seat_gone_text(err, new_seat.room_code)
        else:
            ss.notice = err.text
        st.rerun()
    name = str((snap.get("you") or {}).get("name") or name)
    for key in ("forget", "offer", "notice"):
        ss.pop(key, None)
    ss.seat, ss.name, ss.game_state = new_seat, name, snap
    ss.last_id = int(snap.get("last_event_id") or 0)
    ss.wait_seq = 1
    ss.bridge_status = "connecting" if settings.websocket_enabled else "polling"
    ss.detail = ""
    st.query_params["room"] = new_seat.room_code
    st.rerun()


def _leave() -> None:
    """Leave the room for good: the backend drops the player and the tab forgets the seat in both storages."""
    current = ss.get("seat")
    if current is not None:
        with contextlib.suppress(ApiError):  # leaving a room that is gone is still leaving
            api().remove_player(current, current.player_id)
        ss.forget = {"room": current.room_code, "player": current.player_id}
    for key in ("seat", "game_state", "last_id", "wait_seq", "bridge_status", "detail", "layout_key"):
        ss.pop(key, None)


def _seat_gone_text(err: ApiError, code: str) -> str:
    if err.status == 404 and err.code == "unknown_room":
        return t(landing.page_language(), "seat_room_ended", code=code)
    return t(landing.page_language(), "seat_invalid", code=code)


def _stored_seat(raw: Any) -> tuple[Seat, str] | None:
    """A seat record from the page's storage ({room, player, token, name}), or None when it is not one."""
    if not isinstance(raw, dict):
        return None
    room_code, player, token = (str(raw.get(key) or "") for key in ("room", "player", "token"))
    if not (room_code and player and token):
        return None
    return Seat(room_code, player, token), str(raw.get("name") or "")


def _restore_seat() -> bool:
    """A fresh Streamlit session (new tab, reload, restarted frontend) asks the page for the tab's seat first.

    True while the page has not answered: the caller draws only a short "Restoring your seat…" state. The answer
    takes one component round trip, so a tab without a seat reaches the landing page a moment later.
    """
    if ss.get("probed"):
        return False
    linked = str(st.query_params.get("room", "")).strip().upper()[:5]
    answer = live.probe(linked)
    if answer is None:
        return True
    ss.probed = True
    stored = _stored_seat(answer.get("seat"))
    # A link to another room opened in this tab is a request to join that one: the stored seat stays for later.
    if stored is not None and linked in ("", stored[0].room_code):
        _take_seat(*stored)
    offer = answer.get("offer")
    if _stored_seat(offer) is not None:
        ss.offer = offer
    return False


def _landing() -> None:
    if ss.get("forget"):
        live.install({"forget": ss.forget})
    notice = ss.pop("notice", None)
    if notice:
        st.warning(md(notice), icon="⚠️")  # it may quote a server message: shown literally
    with _view("landing"):
        landing.render(api(), _take_seat, offer=_stored_seat(ss.get("offer")))


def share_url(code: str) -> str:
    base = "http://localhost:8501/"
    try:
        url = st.context.url
        if url:
            base = url.split("?")[0].rstrip("/") + "/"
    except AttributeError:
        pass
    return f"{base}?room={code}"


def consume(value: dict[str, Any]) -> None:
    """Apply one batch from the bridge: events, a snapshot if the log was too short, status and the report.

    Events after which only the engine knows the whole room (a game or a phase begins) are followed by a
    fresh snapshot rather than by a copy of the engine's rules.
    """
    frames = list(value.get("events") or [])
    if value.get("snapshot"):
        frames.insert(0, {"id": None, "type": "snapshot", "data": value["snapshot"]})
    if frames:
        ss.game_state = apply_events(game_state(), frames)
        # a vote of yours: the event does not say for whom, the snapshot does (the ✓ on your choice)
        mine = any(
            f.get("type") == "vote_cast" and (f.get("data") or {}).get("player_id") == seat().player_id for f in frames
        )
        if needs_snapshot(frames) or mine:
            with contextlib.suppress(ApiError):  # the next batch or rerun tries again
                ss.game_state = apply_events(
                    game_state(), [{"id": None, "type": "snapshot", "data": api().state(seat())}]
                )
        # a snapshot may move the id down (the room's history was reset): it replaces the state and the id
        new_id = int(game_state().get("last_event_id") or 0)
        ss.last_id = new_id if value.get("snapshot") else max(ss.last_id, new_id)
    ss.bridge_status = str(value.get("status") or ss.bridge_status)
    ss.detail = str(value.get("detail") or "")
    record_report(metrics(), value.get("report") or {}, _session_id())
    track_session(metrics(), _session_id(), str(value.get("transport") or Transport.WEBSOCKET), ss.bridge_status)


def _bridge_config(current: Seat) -> dict[str, Any]:
    return {
        "room": current.room_code,
        "player": current.player_id,
        "token": current.token,
        "name": ss.name,
        "baseUrl": settings.browser_backend_url,
        "lastId": ss.last_id,
        "transport": current.transport,
        "labels": status_labels(language_of(game_state())),
    }


# ---- the live panels --------------------------------------------------------------------------------------


def bridge_live() -> None:
    """The live parts as empty placeholders (drawn by static/live_view.js), then the fragment that waits."""
    html = room.live_placeholders(game_state())
    if html:
        st.html(html)
    bridge_panel()


@st.fragment
def bridge_panel() -> None:
    """Reruns only when the bridge resolves a wait: events that change the layout, a status change, or the
    heartbeat when quiet events or reports are owed (the live view draws everything else, so a clue reruns
    nothing at once, and an idle page nothing at all).

    A batch that changes anything Python draws (see `room.layout_key`) reruns the whole app.
    """
    value = ss.get(live.WAIT_KEY)
    if isinstance(value, dict) and value.get("seq") == ss.wait_seq:
        consume(value)
        ss.wait_seq += 1
        if room.layout_key(game_state()) != ss.get("layout_key"):
            st.rerun()
    if ss.bridge_status == "stopped":
        st.error(ss.detail or "Live updates stopped.", icon="⛔")
    live.request(
        live.wait_expression(ss.wait_seq, ss.last_id, settings.bridge_heartbeat_ms, ss.bridge_status), live.WAIT_KEY
    )


def _sidebar_card(name: str, code: str, status: str, detail: str, mode: str, lang: str = "en") -> None:
    """Who you are, the room, and the connection light, as one element (each element costs every rerun).

    In bridge mode the bridge repaints the light the moment its status changes.
    """
    st.html(
        f'<div class="parlor-me"><div class="parlor-me-name">{esc(name)}</div>'
        f'<div class="parlor-caption">{t(lang, "me_room", code=f"<b>{esc(code)}</b>")}</div></div>'
        f'<div class="parlor-status" data-testid="connection-status" data-mode="{mode}" data-status="{esc(status)}">'
        f'<div class="parlor-status-text">{esc(status_labels(lang).get(status, status))}</div>'
        f'<div class="parlor-status-detail">{esc(detail)}</div></div>'
    )


@st.fragment(run_every=settings.legacy_poll_seconds)
def legacy_panel() -> None:
    """WEBSOCKET_ENABLED=false: the state endpoint, polled every LEGACY_POLL_SECONDS."""
    try:
        ss.game_state = api().state(seat())
    except ApiError as err:
        st.error(md(err.text), icon="⚠️")
        return
    track_session(metrics(), _session_id(), Transport.POLLING, "polling")
    room.render(game_state(), api(), seat(), share_url(seat().room_code))


def _view(name: str) -> DeltaGenerator:
    """The view (the landing page, or the room in one phase) as one keyed container, replaced as a whole.

    Streamlit sends a run's elements one by one, and a container that replaces one of the same kind at the same
    place keeps the old one's elements until the new ones take their places or the run ends: on a loaded server
    the old view's elements stayed on screen below the new view's first ones, and were pushed down by each that
    arrived (seen: CLS 0.25 to 0.4 as a discussion, a lobby or Mr. White's guess came up). So the first run of
    another view empties the place first (an element, which keeps nothing), then draws the container into it;
    the same view's later runs update it in place.
    """
    slot = st.empty() if ss.get("view_drawn") != name else st
    ss.view_drawn = name
    return slot.container(key=f"parlor-view-{name}")


def _bridge_room() -> None:
    ss.layout_key = room.layout_key(game_state())
    with _view(str(game_state().get("phase"))):
        room.render(game_state(), api(), seat(), share_url(seat().room_code), live=bridge_live, clue_box=False)


# ---- page ----------------------------------------------------------------------------------------------------


def run(mode: str = BRIDGE, panel: Callable[[], None] = _bridge_room) -> None:
    """Draw the page: the landing page, or the seated player's room with the bridge feeding `panel`.

    `mode` names the page in the sidebar light's data-mode; the bridge repaints only a "bridge" light.
    """
    # Centered, Streamlit's default: the page comes up in its final width (wide, then narrowed by the style sheet,
    # moved it twice as it loaded).
    st.set_page_config(page_title="Parlor · Undercover", page_icon="🕵️", layout="centered")
    metrics()
    # A style-only st.html goes to Streamlit's event container, where it takes no room in the layout. The sheet
    # must not contain "<" (tests/frontend/test_views.py): DOMPurify would drop it whole.
    st.html(f"<style>{_css()}</style>")
    if not settings.websocket_enabled:
        mode = LEGACY
    if "seat" not in ss:
        if _restore_seat():
            restoring = esc(t(landing.page_language(), "restoring"))
            st.html(f'<div class="parlor-restoring" data-testid="restoring">{restoring}</div>')
        else:
            _landing()
        return
    with st.sidebar:
        status = "polling" if mode == LEGACY else ss.bridge_status
        lang = language_of(game_state())
        _sidebar_card(ss.name, seat().room_code, status, ss.get("detail", ""), mode, lang)
        st.button(t(lang, "leave_room"), on_click=_leave, use_container_width=True)
    if mode == LEGACY:
        legacy_panel()
    else:
        live.install(_bridge_config(seat()))
        panel()

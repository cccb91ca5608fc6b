"""The landing page: create a room, or join one by code (a `?room=CODE` link prefills the code)."""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st
from streamlit_js_eval import streamlit_js_eval

from frontend.api import Api, ApiError, Seat
from frontend.state import limit
from frontend.views.common import md

OnSeat = Callable[[Seat, str], None]

SAVED_SEAT_KEY = "parlor-saved-seat"


def render(api: Api, on_seat: OnSeat) -> None:
    st.html(
        '<div class="parlor-hero"><h1>🕵️ Parlor</h1>'
        "<p>Undercover, the party word game. Everyone shares a secret word, except the undercover.</p></div>"
    )
    prefill = str(st.query_params.get("room", "")).strip().upper()[:5]
    if prefill.isalnum() and len(prefill) == 5:
        _offer_saved_seat(prefill, on_seat)
    columns = st.columns(2, gap="large")
    join_col, create_col = columns if prefill else columns[::-1]
    with join_col, st.form("join", border=True):
        st.subheader("Join a room")
        code = st.text_input("Room code", value=prefill, max_chars=5, placeholder="ABCDE")
        name = st.text_input("Your name", max_chars=limit(None, "name_max"), key="join_name", placeholder="e.g. Bob")
        if st.form_submit_button("Join room", type="primary", use_container_width=True):
            if len(code.strip()) != 5:
                st.error("Room codes have 5 characters, like ABCDE.")
            else:
                _enter(lambda: api.join_room(code, name), code=code, name=name, on_seat=on_seat)
    with create_col, st.form("create", border=True):
        st.subheader("Create a room")
        st.caption("You will be the host: invite friends with the room code, add bots, start the game.")
        host_name = st.text_input(
            "Your name", max_chars=limit(None, "name_max"), key="create_name", placeholder="e.g. Alice"
        )
        if st.form_submit_button("Create room", type="primary", use_container_width=True):
            _enter(lambda: api.create_room(host_name), code="", name=host_name, on_seat=on_seat)
    players = f"{limit(None, 'min_players')} to {limit(None, 'max_players')} players"
    st.caption(f"{players}. Give clues about your word without saying it, then vote out the undercover.")


def _offer_saved_seat(code: str, on_seat: OnSeat) -> None:
    """A player who closed the tab mid-game opens the room link again: offer them their own seat back."""
    raw = streamlit_js_eval(js_expressions=f'localStorage.getItem("parlor:seat:{code}")', key=SAVED_SEAT_KEY)
    try:
        saved = json.loads(raw) if isinstance(raw, str) else {}
        seat = Seat(room_code=str(saved["room"]), player_id=str(saved["player"]), token=str(saved["token"]))
        name = str(saved.get("name") or "")
    except (TypeError, ValueError, KeyError, AttributeError):
        return
    if st.button(f"Back to your seat as {name}", type="primary", icon="↩️", use_container_width=True):
        on_seat(seat, name)


def _enter(call: Callable[[], Seat], *, code: str, name: str, on_seat: OnSeat) -> None:
    if not name.strip():
        st.error("Please enter your name.")
        return
    try:
        seat: Seat = call()
    except ApiError as err:
        st.error(md(err.text), icon="⚠️")
        return
    on_seat(seat, name.strip())

"""The landing page: create a room, or join one by code (a `?room=CODE` link prefills the code)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from frontend.api import Api, ApiError, Seat
from frontend.state import limit
from frontend.views.common import md

OnSeat = Callable[[Seat, str], None]


def render(api: Api, on_seat: OnSeat, offer: tuple[Seat, str] | None = None) -> None:
    """`offer`: a seat this browser held in the linked room, no longer open in any tab ("Continue as NAME")."""
    st.html(
        '<div class="parlor-hero"><h1>🕵️ Parlor</h1>'
        "<p>Undercover, the party word game. Everyone shares a secret word, except the undercover.</p></div>"
    )
    prefill = str(st.query_params.get("room", "")).strip().upper()[:5]
    if offer is not None and offer[0].room_code == prefill:
        seat, name = offer
        with st.container(border=True):
            st.markdown(f"You were in room **{prefill}** as **{name}** in this browser.")
            if st.button(f"Continue as {name}", type="primary", use_container_width=True):
                on_seat(seat, name)
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

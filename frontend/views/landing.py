"""The landing page: create a room, or join one by code (a `?room=CODE` link prefills the code).

There is no room yet, so the page speaks the browser's language (its Accept-Language header) until the
visitor flips the EN/FR switch; a room created from a French page starts in French (the create call carries
the page's language, so the room is never English first).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from frontend.api import Api, ApiError, Seat
from frontend.i18n import LANGUAGE_NAMES, browser_language, error_text, t
from frontend.state import limit
from frontend.views.common import md

OnSeat = Callable[[Seat, str], None]

LANG_KEY = "ui_lang"


def page_language() -> str:
    """The switch's language, first set from the browser's Accept-Language header."""
    if st.session_state.get(LANG_KEY) not in LANGUAGE_NAMES:
        st.session_state[LANG_KEY] = browser_language(st.context.headers.get("Accept-Language"))
    return str(st.session_state[LANG_KEY])


def render(api: Api, on_seat: OnSeat, offer: tuple[Seat, str] | None = None) -> None:
    """`offer`: a seat this browser held in the linked room, no longer open in any tab ("Continue as NAME")."""
    lang = page_language()
    st.radio(
        "🌐", list(LANGUAGE_NAMES), key=LANG_KEY, horizontal=True, format_func=str.upper, label_visibility="collapsed"
    )
    st.html(f'<div class="parlor-hero"><h1>🕵️ Parlor</h1><p>{t(lang, "tagline")}</p></div>')
    prefill = str(st.query_params.get("room", "")).strip().upper()[:5]
    if offer is not None and offer[0].room_code == prefill:
        seat, name = offer
        with st.container(border=True):
            st.markdown(t(lang, "seat_offer", code=prefill, name=name))
            if st.button(t(lang, "continue_as", name=name), type="primary", use_container_width=True):
                on_seat(seat, name)
    name_max = limit(None, "name_max")

    def join_form() -> None:
        with st.form("join", border=True):
            st.header(t(lang, "join_title"))
            code = st.text_input(t(lang, "room_code"), value=prefill, max_chars=5, placeholder="ABCDE")
            name = st.text_input(
                t(lang, "your_name"), max_chars=name_max, key="join_name", placeholder=t(lang, "name_ph", name="Bob")
            )
            if st.form_submit_button(t(lang, "join_button"), type="primary", use_container_width=True):
                if len(code.strip()) != 5:
                    st.error(t(lang, "code_length"))
                else:
                    _enter(lambda: api.join_room(code, name), name=name, on_seat=on_seat, lang=lang)

    def create_form() -> None:
        with st.form("create", border=True):
            st.header(t(lang, "create_title"))
            st.caption(t(lang, "create_help"))
            host_name = st.text_input(
                t(lang, "your_name"),
                max_chars=name_max,
                key="create_name",
                placeholder=t(lang, "name_ph", name="Alice"),
            )
            if st.form_submit_button(t(lang, "create_button"), type="primary", use_container_width=True):
                _enter(lambda: api.create_room(host_name, lang), name=host_name, on_seat=on_seat, lang=lang)

    # Drawn in screen order: on a phone the columns stack, and a first column filled after the second would push
    # the second one down as it arrives.
    forms = (join_form, create_form) if prefill else (create_form, join_form)
    for column, form in zip(st.columns(2, gap="large"), forms, strict=True):
        with column:
            form()
    st.caption(t(lang, "landing_footer", min=limit(None, "min_players"), max=limit(None, "max_players")))


def _enter(call: Callable[[], Seat], *, name: str, on_seat: OnSeat, lang: str) -> None:
    if not name.strip():
        st.error(t(lang, "name_needed"))
        return
    try:
        seat: Seat = call()
    except ApiError as err:
        st.error(md(error_text(lang, err.code, err.message, err.text)), icon="⚠️")
        return
    on_seat(seat, name.strip())

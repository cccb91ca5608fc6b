"""Helpers shared by the views: running an action with a friendly error, and small HTML pieces."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from frontend.api import ApiError
from frontend.i18n import DEFAULT, error_text, language_of, status_labels

# The connection light in English; a room's own language comes from `status_labels(lang)`.
STATUS_TEXT = status_labels(DEFAULT)


def esc(text: Any) -> str:
    return html.escape(str(text))


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~:$=^&\"'")


def md(text: Any) -> str:
    """Player text made literal for Streamlit's Markdown labels, help tooltips and alerts.

    Why: widget labels render Markdown, so a name like `![](http://x.invalid/t)` would make every voter's
    browser fetch an image. Every punctuation character Markdown (and Streamlit's extensions: colours,
    icons, LaTeX) could read is backslash-escaped, which CommonMark defines for all ASCII punctuation.
    """
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in str(text))


def run_action(fn: Callable[..., Any], *args: Any) -> None:
    """Widget callback: call the API; a refusal becomes a friendly message shown on the next render."""
    try:
        fn(*args)
        st.session_state.pop("flash", None)
    except ApiError as err:
        lang = language_of(st.session_state.get("game_state") or {})
        st.session_state["flash"] = error_text(lang, err.code, err.message, err.text, err.lines)


def show_flash() -> None:
    text = st.session_state.pop("flash", None)
    if text:
        st.error(md(text), icon="⚠️")


def countdown_html(deadline: float | None, total: float) -> str:
    if not deadline:
        return ""
    now = time.time()
    left = max(0, int(deadline - now + 0.999))
    # The bar starts where it belongs; countdown.js only moves it on the next whole second. data-drawn: when this
    # was drawn, on the server's clock, so countdown.js's first frame counts from there, not from a browser clock
    # the bridge has not yet checked against the server (just after a reload).
    scale = min(1.0, left / total) if total > 0 else 1.0
    return (
        f'<div class="parlor-countdown" data-deadline="{deadline:.3f}" data-drawn="{now:.3f}" data-total="{total:g}">'
        f'<div class="parlor-countdown-text">{left // 60}:{left % 60:02d}</div>'
        f'<div class="parlor-countdown-bar"><span style="transform:scaleX({scale:.4f})"></span></div></div>'
    )

"""The seed's design, for the browser-latency benchmark only: a full rerun every 0.5 s, a check at most every 0.5 s.

`streamlit run loadtest/seed_loop_page.py` (loadtest/browser_latency.py starts it): the game's own page
(`frontend.page`) with its live panel replaced by the seed's loop, reading what the bridge buffered.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run loadtest/seed_loop_page.py`

from frontend import live, page
from frontend.views import room

SEED_KEY = "parlor-seed"
PERIOD_SECONDS = 0.5
BATCH_CAP = 100  # the bridge's own cap on one batch
PEEK_JS = (Path(__file__).resolve().parent / "seed_loop_peek.js").read_text(encoding="utf-8").strip()


def peek_expression(seq: int, last_id: int) -> str:
    return live.await_bridge(f"({{...({PEEK_JS})(b, {int(last_id)}, {BATCH_CAP}), seq: {seq}}})")


def seed_loop_panel() -> None:
    ss = st.session_state
    value = ss.get(SEED_KEY)
    if isinstance(value, dict) and value.get("seq") == ss.wait_seq and ss.get("seed_consumed") != ss.wait_seq:
        page.consume(value)
        ss.seed_consumed = ss.wait_seq
    now = time.monotonic()
    if now - ss.get("seed_checked", 0.0) >= PERIOD_SECONDS and ss.get("seed_consumed") == ss.wait_seq:
        ss.wait_seq += 1
        ss.seed_checked = now
    room.render(page.game_state(), page.api(), page.seat(), page.share_url(page.seat().room_code))
    live.request(peek_expression(ss.wait_seq, ss.last_id), SEED_KEY)
    time.sleep(PERIOD_SECONDS)
    st.rerun()


page.run(mode="seed-loop", panel=seed_loop_panel)

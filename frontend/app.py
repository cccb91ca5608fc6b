"""Parlor's Streamlit frontend: `streamlit run frontend/app.py` (settings in frontend/config.py, page in page.py).

Two pages: the game at `/`, and the release manager's rollout page at `/rollout` (frontend/rollout_page.py,
ADMIN_TOKEN required), left out of the navigation so players never see it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run frontend/app.py`

import streamlit as st

from frontend import logs, page, rollout_page

logs.setup()
st.navigation(
    [
        st.Page(page.run, title="Parlor", default=True),
        st.Page(rollout_page.run, title="Rollout", url_path="rollout"),
    ],
    position="hidden",
).run()

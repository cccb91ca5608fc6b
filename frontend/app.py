"""Parlor's Streamlit frontend: `streamlit run frontend/app.py` (settings in frontend/config.py, page in page.py)."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run frontend/app.py`

from frontend import logs, page

logs.setup()
page.run()

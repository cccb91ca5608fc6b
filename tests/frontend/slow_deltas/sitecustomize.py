"""A loaded Streamlit server, made on purpose: with this directory on PYTHONPATH and PARLOR_TEST_DELTA_DELAY_MS set,
the script thread pauses that long after each element it sends, so the page receives and paints a view element by
element, as it does when the machine is busy (tests/frontend/test_browser_phone.py checks the page does not jump)."""

import os
from typing import Any

DELAY_MS = float(os.environ.get("PARLOR_TEST_DELTA_DELAY_MS") or 0)

if DELAY_MS > 0:
    import time

    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    _enqueue = ScriptRunContext.enqueue

    def _slow_enqueue(self: Any, msg: Any) -> None:
        _enqueue(self, msg)
        if msg.WhichOneof("type") == "delta":
            time.sleep(DELAY_MS / 1000)

    ScriptRunContext.enqueue = _slow_enqueue  # type: ignore[method-assign]

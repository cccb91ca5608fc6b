"""The frontend's log lines in the one Parlor format (parlor_runtime.logs): LOG_FORMAT, LOG_LEVEL.

Streamlit gives each of its loggers a console handler of its own and stops them from propagating; they are
handed to the root handler instead, so the server's lines and ours come out alike. Done once per process
(the script itself runs again on every interaction).
"""

from __future__ import annotations

import logging
import threading

from parlor_runtime.logs import configure_logging

_lock = threading.Lock()
_done = False


def setup() -> None:
    global _done
    with _lock:
        if _done:
            return
        configure_logging()
        from streamlit import logger as st_logger

        for log in list(st_logger._loggers.values()):
            handler = getattr(log, "streamlit_console_handler", None)
            if handler is not None:
                log.removeHandler(handler)
            log.propagate = True
        _done = True
        logging.getLogger("parlor.frontend").info("frontend logging configured")

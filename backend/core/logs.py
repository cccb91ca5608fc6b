"""The one log format, shared with the frontend: defined in `parlor_runtime.logs`, re-exported for the backend."""

from __future__ import annotations

from parlor_runtime.logs import (
    CONTEXT_FIELDS,
    ContextFilter,
    LogSettings,
    ParlorJsonFormatter,
    ParlorTextFormatter,
    bind,
    bound,
    configure_logging,
    current,
    formatter_for,
    request_started,
)

__all__ = [
    "CONTEXT_FIELDS",
    "ContextFilter",
    "LogSettings",
    "ParlorJsonFormatter",
    "ParlorTextFormatter",
    "bind",
    "bound",
    "configure_logging",
    "current",
    "formatter_for",
    "request_started",
]

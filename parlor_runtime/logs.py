"""One logging configuration for every Parlor process: backend, frontend, rollout autopilot and flag CLI.

`configure_logging()` puts a single handler on the root logger, so Parlor's own loggers (`parlor.*`,
`backend.*`, `frontend.*`), uvicorn's access and error logs and the libraries' warnings all come out in one
format: `LOG_FORMAT=json` (one JSON object a line, for a log pipeline) or `text` (for a terminal), at
`LOG_LEVEL`. Every line has `time` (ISO 8601, UTC), `level`, `logger` and `message`; lines written while a
request, a socket or a room is being handled also carry `request_id`, `room`, `player` and `transport`, and
lines about a closed socket or a finished request `close_code` and `duration_s`.

Why python-json-logger rather than structlog: every module here already logs through the standard
`logging` module (and so do uvicorn, httpx, redis and the flagd provider). python-json-logger is a
`logging.Formatter`, so those lines become JSON without touching a call site and without a second logging
API next to the first; the context fields come from contextvars through a `logging.Filter`. structlog
would bring its own bound-logger API and processor chain, and still need `ProcessorFormatter` to reach
the stdlib lines that are most of what we print.

Never a token: fields named like a secret are dropped, and `Bearer ...` in a message is masked.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pythonjsonlogger.json import JsonFormatter

# The fields a request, a socket or a room binds for every line logged while it is handled.
CONTEXT_FIELDS = ("request_id", "room", "player", "transport")
_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"parlor_log_{name}", default=None) for name in CONTEXT_FIELDS
}
# When the request being handled started (monotonic), for the duration of uvicorn's access line.
request_started: contextvars.ContextVar[float | None] = contextvars.ContextVar("parlor_request_started", default=None)

_SECRET_FIELD = re.compile(r"token|secret|password|authorization", re.I)
_BEARER = re.compile(r"(Bearer\s+)[^\s'\"]+", re.I)
# the order of the standard fields in a JSON line; the context and extra fields follow
_JSON_FIELDS = ("time", "level", "logger", "message")


class LogSettings(BaseSettings):
    """The two logging knobs, read by every Parlor command (documented in the README settings table)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    log_format: Literal["json", "text"] = Field("json", description="json: one JSON object a line; text: a terminal's")
    log_level: str = Field("info", description="Level of Parlor's and the libraries' loggers (debug, info, ...)")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError(f"LOG_LEVEL must be one of debug, info, warning, error, critical, not {value!r}")
        return value.lower()


def bind(**fields: str | None) -> None:
    """Attach context fields (request_id, room, player, transport) to every later line of this task."""
    for name, value in fields.items():
        _context[name].set(value)


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Context fields for the lines logged inside the block only."""
    tokens = [(_context[name], _context[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current(name: str) -> str | None:
    return _context[name].get()


class ContextFilter(logging.Filter):
    """Adds the bound context fields to a record, drops secret-looking fields and masks bearer tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _context.items():
            value = var.get()
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        for key in [k for k in record.__dict__ if _SECRET_FIELD.search(k)]:
            delattr(record, key)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            _access_fields(record)
        if isinstance(record.msg, str) and "earer" in record.msg:
            record.msg = _BEARER.sub(r"\1***", record.msg)
        return True


def _access_fields(record: logging.LogRecord) -> None:
    """uvicorn's access line, `client - "METHOD path HTTP/v" status`, as fields; its duration from our middleware."""
    assert isinstance(record.args, tuple)
    client, method, path, _version, status = record.args
    record.client, record.method, record.path, record.status = client, method, path, status
    started = request_started.get()
    if started is not None and getattr(record, "duration_s", None) is None:
        record.duration_s = round(time.monotonic() - started, 6)


def _iso_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ParlorJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with our field names (time, level, logger, message) and UTC times."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*JsonFormatter().reserved_attrs, "color_message", "taskName"],
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = _iso_time(record)
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()


class ParlorTextFormatter(logging.Formatter):
    """`time level logger: message key=value ...`, the same fields as the JSON lines."""

    _reserved = frozenset([*JsonFormatter().reserved_attrs, "color_message", "taskName", "message", "asctime"])

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in self._reserved and v is not None)
        line = f"{_iso_time(record)} {record.levelname.lower():<7} {record.name}: {message}"
        if extras:
            line += f" [{extras}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(log_format: str) -> logging.Formatter:
    return ParlorJsonFormatter() if log_format == "json" else ParlorTextFormatter()


def configure_logging(settings: LogSettings | None = None, *, stream: TextIO | None = None) -> LogSettings:
    """Route every logger through one handler on the root logger, in LOG_FORMAT at LOG_LEVEL.

    Idempotent (Streamlit reruns the script; tests call it twice): the handler it installed before is
    replaced, a handler someone else put on the root logger is left alone. uvicorn's loggers get no handler
    of their own, so their lines come through this one (run uvicorn with `log_config=None`).
    """
    settings = settings or LogSettings()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_parlor", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._parlor = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter_for(settings.log_format))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # httpx logs every request at info: the frontend's calls would bury everything (the backend logs each
    # request it serves, with its id); LOG_LEVEL=debug brings them back
    logging.getLogger("httpx").setLevel(logging.DEBUG if settings.log_level == "debug" else logging.WARNING)
    return settings

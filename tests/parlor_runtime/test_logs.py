"""parlor_runtime.logs: one format for every logger, the context fields, and no secret in a line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from parlor_runtime import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    yield out
    for handler in [h for h in root.handlers if getattr(h, "_parlor", False)]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_bound_context_and_drop_secrets(stream: io.StringIO) -> None:
    """Bound fields reach every line; a token field is dropped and a bearer token in a message is masked."""
    logs.configure_logging(logs.LogSettings(log_format="json", log_level="info"), stream=stream)
    with logs.bound(request_id="r-1", room="ABCDE", player="p_1"):
        logging.getLogger("parlor.test").info(
            "sent Authorization: Bearer s3cr3t-value", extra={"token": "s3cr3t-value", "close_code": 1000}
        )
    logging.getLogger("uvicorn.error").warning("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "r-1" and first["room"] == "ABCDE" and first["player"] == "p_1"
    assert first["level"] == "info" and first["logger"] == "parlor.test" and first["close_code"] == 1000
    assert first["time"].endswith("Z") and "token" not in first and "s3cr3t" not in stream.getvalue()
    assert second["logger"] == "uvicorn.error" and "request_id" not in second


def test_text_format_and_level(stream: io.StringIO) -> None:
    """LOG_FORMAT=text writes `time level logger: message [fields]`; LOG_LEVEL filters; a bad level is refused."""
    logs.configure_logging(logs.LogSettings(log_format="text", log_level="warning"), stream=stream)
    logging.getLogger("parlor.test").info("hidden")
    with logs.bound(room="ABCDE"):
        logging.getLogger("parlor.test").warning("shown", extra={"duration_s": 0.5})
    (line,) = stream.getvalue().splitlines()
    assert line.split(" ", 1)[1] == "warning parlor.test: shown [duration_s=0.5 room=ABCDE]"
    with pytest.raises(ValidationError):
        logs.LogSettings(log_level="loud")

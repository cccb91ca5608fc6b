"""Refuse the slow way to start: the plain uvicorn CLI negotiates permessage-deflate by default.

Compressing small JSON frames costs CPU on every send and a zlib context per socket; at 2,000 players it
took p99 from 11 ms to 174 ms. `python -m backend` turns it off (and adds the SIGTERM drain), so the uvicorn
CLI is accepted only when it is told the same: `--ws-per-message-deflate false` (or UVICORN_WS_PER_MESSAGE_DEFLATE).
"""

from __future__ import annotations

import sys
from pathlib import Path

HOW_TO_RUN = (
    "Parlor refuses to start under `uvicorn` with permessage-deflate on (its default): it costs CPU on every "
    "frame and a zlib context per socket. Run `python -m backend [--host H] [--port P]` (graceful drain, "
    "deflate off), or add `--ws-per-message-deflate false` to the uvicorn command."
)


def under_uvicorn_cli(argv: list[str]) -> bool:
    if not argv:
        return False
    first = Path(argv[0])
    return first.name == "uvicorn" or (first.name == "__main__.py" and first.parent.name == "uvicorn")


def uvicorn_cli_deflates(argv: list[str]) -> bool:
    """What the uvicorn CLI that started this process negotiates, read with uvicorn's own option parser."""
    from uvicorn.main import main as uvicorn_command

    ctx = uvicorn_command.make_context("uvicorn", list(argv[1:]), resilient_parsing=True)
    return bool(ctx.params.get("ws_per_message_deflate", True))


def check_launch(argv: list[str] | None = None) -> None:
    """Exit with a message saying what to run when started the slow way; anything else is left alone."""
    argv = sys.argv if argv is None else argv
    if under_uvicorn_cli(argv) and uvicorn_cli_deflates(argv):
        raise SystemExit(HOW_TO_RUN)

"""The plain uvicorn CLI is refused while it would negotiate permessage-deflate; every other launch is left alone."""

from __future__ import annotations

import subprocess

import pytest

from backend.core.launch import HOW_TO_RUN, check_launch
from launchers.process import PYTHON, ROOT


@pytest.mark.parametrize(
    "argv",
    [
        ["/venv/bin/uvicorn", "backend.main:app"],
        ["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "backend.main:app", "--port", "8000"],
        ["/venv/bin/uvicorn", "backend.main:app", "--ws-per-message-deflate", "true"],
    ],
)
def test_uvicorn_cli_with_deflate_is_refused(argv: list[str]) -> None:
    """uvicorn's default (deflate on) exits with a message naming the command to run instead."""
    with pytest.raises(SystemExit) as info:
        check_launch(argv)
    assert info.value.code == HOW_TO_RUN and "python -m backend" in HOW_TO_RUN


@pytest.mark.parametrize(
    "argv",
    [
        ["/venv/bin/uvicorn", "backend.main:app", "--ws-per-message-deflate", "false"],
        ["/work/backend/__main__.py", "--port", "8000"],
        ["/venv/bin/pytest", "tests"],
        [],
    ],
)
def test_other_launches_pass(argv: list[str]) -> None:
    """Deflate turned off, python -m backend, pytest and embedding callers start normally."""
    check_launch(argv)


def test_real_uvicorn_cli_exits_with_the_message() -> None:
    """`python -m uvicorn backend.main:app` stops at import with exit status 1 and says what to run."""
    done = subprocess.run(
        [PYTHON, "-m", "uvicorn", "backend.main:app", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "python -m backend" in done.stderr and "--ws-per-message-deflate false" in done.stderr

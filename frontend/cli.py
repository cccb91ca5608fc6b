"""`parlor-frontend`: Streamlit serving the installed game page, `streamlit run <frontend/app.py> [OPTIONS]`.

Every option goes to `streamlit run` (`--server.port 8501 --server.address 0.0.0.0`, ...); the game's own
settings come from the environment (frontend/config.py). Streamlit reads frontend/.streamlit/config.toml, the
page's own, wherever this starts.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")
USAGE = "usage: parlor-frontend [--version] [--help] [STREAMLIT RUN OPTIONS ...]"


def streamlit_args(argv: Sequence[str]) -> list[str]:
    """The arguments of the `streamlit` command that serves the game page with `argv`'s options."""
    return ["run", str(APP), *argv]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-V"]):
        from parlor_runtime.version import VERSION

        print(f"parlor-frontend (parlor {VERSION})")
        return 0
    if args[:1] in (["--help"], ["-h"]):
        print(USAGE)
        print(__doc__.strip().splitlines()[0])
        print("\nOptions of `streamlit run` (all passed on):")
        sys.stdout.flush()
        args = ["--help"]
    from streamlit.web import cli as streamlit_cli

    try:
        streamlit_cli.main.main(args=streamlit_args(args), prog_name="streamlit")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

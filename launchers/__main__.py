"""`python -m launchers wait URL [URL ...]`: wait until each URL answers (for shell scripts such as scripts/run.sh)."""

from __future__ import annotations

import argparse
import sys

from launchers.process import wait_http


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launchers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait", help="wait until every URL answers with a status below 500")
    wait.add_argument("urls", nargs="+")
    wait.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        for url in args.urls:
            wait_http(url, args.timeout)
    except TimeoutError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

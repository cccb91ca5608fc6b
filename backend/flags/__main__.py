"""Release tool for the websocket-transport flag.

    python -m backend.flags [--file PATH] [--audit-log PATH] status
    python -m backend.flags set-rollout N [--reason TEXT] [--actor NAME]
    python -m backend.flags enable|disable [--reason TEXT] [--actor NAME]

Writes are atomic and each change appends a line to the audit log; running servers pick the change up
within 2 s. Exit codes: 0 done, 1 unreadable flag file on status, 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from backend.core.cli import add_version, prog
from backend.core.config import get_settings
from backend.core.logs import configure_logging
from backend.flags.audit import change_flag
from backend.flags.file import DEFAULT_STATE, FLAG_KEY, read_flag_file

log = logging.getLogger("parlor.flags")


def _percent(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be an integer between 0 and 100, not {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"N must be between 0 and 100, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument("--file", type=Path, default=argparse.SUPPRESS, help="flag file (FLAGS_FILE)")
    paths.add_argument("--audit-log", type=Path, default=argparse.SUPPRESS, help="audit log (FLAGS_AUDIT_LOG)")
    change = argparse.ArgumentParser(add_help=False)
    change.add_argument("--reason", help="why; recorded in the audit log")
    change.add_argument("--actor", help="who; defaults to $USER")

    parser = argparse.ArgumentParser(
        prog=prog("python -m backend.flags"), description=f"Show or change the {FLAG_KEY} rollout flag."
    )
    add_version(parser)
    parser.add_argument("--file", type=Path, default=None, help="flag file (default: FLAGS_FILE setting)")
    parser.add_argument("--audit-log", type=Path, default=None, help="audit log (default: FLAGS_AUDIT_LOG setting)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("status", parents=[paths], help="print enabled, percent and the kill switch")
    rollout = commands.add_parser("set-rollout", parents=[paths, change], help="put N %% of players on websocket")
    rollout.add_argument("percent", type=_percent, metavar="N", help="0..100")
    commands.add_parser("enable", parents=[paths, change], help="turn the flag on (keeps the percent)")
    commands.add_parser("disable", parents=[paths, change], help="everyone on polling (rollback)")
    return parser


def _actor(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("USER"):
        return os.environ["USER"]
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _status(flags_file: Path) -> int:
    kill_switch = get_settings().websocket_enabled
    try:
        state = read_flag_file(flags_file)
        note = ""
    except FileNotFoundError:
        state, note = DEFAULT_STATE, " (file missing: servers use this default)"
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"flag:        {FLAG_KEY}{note}")
    print(f"file:        {flags_file}")
    print(f"enabled:     {'true' if state.enabled else 'false'}")
    print(f"percent:     {state.percent}")
    allowed = "websocket allowed" if kill_switch else "everyone on polling"
    print(f"kill switch: WEBSOCKET_ENABLED={'true' if kill_switch else 'false'} ({allowed})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    # Settings are read only for what the command line leaves out, so explicit paths work anywhere.
    flags_file: Path = args.file or get_settings().flags_file
    if args.command == "status":
        return _status(flags_file)

    audit_log: Path = args.audit_log or get_settings().flags_audit_log
    enabled = {"enable": True, "disable": False}.get(args.command)
    percent: int | None = getattr(args, "percent", None)
    actor = _actor(args.actor)
    try:
        change = change_flag(
            flags_file,
            audit_log,
            action=args.command,
            actor=actor,
            reason=args.reason,
            enabled=enabled,
            percent=percent,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    before = change.before.to_dict() if change.before else "missing"
    log.info(
        "%s %s by %s",
        FLAG_KEY,
        args.command,
        actor,
        extra={
            "flag": FLAG_KEY,
            "action": args.command,
            "actor": actor,
            "reason": args.reason,
            "enabled": change.after.enabled,
            "percent": change.after.percent,
        },
    )
    print(f"{FLAG_KEY}: {before} -> {change.after.to_dict()} ({flags_file})")
    if not change.after.enabled and args.command == "set-rollout":
        print("note: the flag is disabled, so nobody is on websocket until `enable`")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The rollout autopilot's command line.

    python -m backend.rollout [--plan P] [--state S] [--file F] [--audit-log A] [--dry-run] COMMAND
      start [--new]     run the plan: begin a rollout, or carry on with the saved one (stays in the foreground)
      status [--json] [--watch [--interval S]]   phase, stage, hold, counters, the last evaluation, whether an
                        autopilot is running; --watch prints it again until the rollout ends
      history [--json] [--limit N]   the decisions so far: the flag's audit chain (who, when, why)
      pause | resume | promote | abort [--leave-flag]   [--reason TEXT] [--actor NAME]

`--dry-run` prints what the command would do (for `start`: one evaluation of every check and the decision
it would lead to) and writes nothing. Exit codes: 0 done (a rollout that completed, rolled back or was
aborted has done its job), 1 refused (nothing to resume, a finished rollout without --new, an unreadable
state), 2 bad plan or arguments, 3 another autopilot already runs for this flag.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from pydantic import ValidationError

from backend.core.cli import add_version, prog
from backend.core.config import get_settings
from backend.core.logs import configure_logging
from backend.metrics import RolloutMetrics
from backend.rollout.analysis import Prometheus, evaluate
from backend.rollout.engine import Autopilot, Phase, RefusedError, RolloutState
from backend.rollout.plan import Plan, PlanError, load_plan
from backend.rollout.runner import Controller, Runner
from backend.rollout.settings import RolloutSettings, get_rollout_settings
from backend.rollout.store import AlreadyRunningError, StateStore, runner_alive, runner_lock
from backend.rollout.view import decide, history

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command, like `python -m backend.flags`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plan", type=Path, default=argparse.SUPPRESS, help="plan file (ROLLOUT_PLAN_FILE)")
    common.add_argument("--state", type=Path, default=argparse.SUPPRESS, help="state file (ROLLOUT_STATE_FILE)")
    common.add_argument("--file", type=Path, default=argparse.SUPPRESS, help="flag file (FLAGS_FILE)")
    common.add_argument("--audit-log", type=Path, default=argparse.SUPPRESS, help="audit log (FLAGS_AUDIT_LOG)")
    common.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS, help="print, write nothing")
    person = argparse.ArgumentParser(add_help=False)
    person.add_argument("--reason", help="why; recorded in the audit log")
    person.add_argument("--actor", help="who; defaults to $USER")

    parser = argparse.ArgumentParser(
        prog=prog("python -m backend.rollout"), description="Roll the websocket-transport flag out by the plan."
    )
    add_version(parser)
    parser.add_argument("--plan", type=Path, default=None, help="plan file (default: ROLLOUT_PLAN_FILE)")
    parser.add_argument("--state", type=Path, default=None, help="state file (default: ROLLOUT_STATE_FILE)")
    parser.add_argument("--file", type=Path, default=None, help="flag file (default: FLAGS_FILE)")
    parser.add_argument("--audit-log", type=Path, default=None, help="audit log (default: FLAGS_AUDIT_LOG)")
    parser.add_argument("--dry-run", action="store_true", help="print what would happen, write nothing")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = commands.add_parser("start", parents=[common], help="run the plan (begin or carry on)")
    start.add_argument("--new", action="store_true", help="begin again after a finished rollout")
    start.add_argument(
        "--linger",
        action="store_true",
        help="when the rollout has ended, keep serving /metrics until stopped instead of exiting "
        "(for a supervisor that restarts whatever exits)",
    )
    status = commands.add_parser("status", parents=[common], help="print the rollout's state")
    status.add_argument("--json", action="store_true", help="the state as JSON")
    status.add_argument("--watch", action="store_true", help="print it again every --interval s until it ends")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between two --watch prints")
    hist = commands.add_parser("history", parents=[common], help="the decisions so far (the flag's audit chain)")
    hist.add_argument("--json", action="store_true", help="the records as a JSON list")
    hist.add_argument("--limit", type=int, default=None, help="only the last N records")
    commands.add_parser("pause", parents=[common, person], help="stop deciding; the flag stays as it is")
    commands.add_parser("resume", parents=[common, person], help="carry on with the same stage")
    commands.add_parser("promote", parents=[common, person], help="go to the next stage now, skipping the hold")
    abort = commands.add_parser("abort", parents=[common, person], help="end the rollout at the safe state")
    abort.add_argument("--leave-flag", action="store_true", help="end it but leave the flag as it is")
    return parser


def _actor(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:
        return "unknown"


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _describe(plan: Plan, state: RolloutState, now: float, flags_file: Path) -> list[str]:
    autopilot = Autopilot(plan)
    stage = plan.stages[state.stage]
    lines = [
        f"flag:          {state.flag} ({flags_file})",
        f"phase:         {state.phase}",
        f"stage:         {state.stage + 1}/{len(plan.stages)} ({stage.percent} %)",
        f"stage since:   {_when(state.stage_started_at)}",
    ]
    if state.phase == Phase.RUNNING:
        if autopilot.in_warmup(state, now):
            lines.append(f"hold:          warming up ({plan.analysis.warmup:g} s from the stage start)")
        else:
            left = autopilot.hold_remaining(state, now)
            lines.append(f"hold:          {left:.0f} s of {plan.hold(state.stage):g} s to go")
    lines += [
        f"failures:      {state.failures} (limit {plan.failure_limit(state.stage)})",
        f"inconclusive:  {state.inconclusive} (limit {plan.inconclusive_limit(state.stage)})",
        f"evaluations:   {state.evaluations}",
    ]
    if state.last_evaluation is not None:
        last = state.last_evaluation
        lines.append(f"last verdict:  {last.verdict} at {_when(last.at)}")
        lines += [f"  {check.verdict:<12} {check.describe()}" for check in last.checks]
    if state.reason:
        lines.append(f"reason:        {state.reason}")
    return lines


class Context:
    """What every command needs, resolved from the command line and the settings."""

    def __init__(self, args: argparse.Namespace, settings: RolloutSettings) -> None:
        self.args = args
        self.settings = settings
        self.dry_run: bool = bool(args.dry_run)
        plan_file: Path = args.plan or settings.plan_file
        self.plan: Plan = load_plan(plan_file).with_timing(
            interval=settings.interval_seconds, hold=settings.hold_seconds, warmup=settings.warmup_seconds
        )
        backend = get_settings()
        self.flags_file: Path = args.file or backend.flags_file
        self.audit_log: Path = args.audit_log or backend.flags_audit_log
        self.store = StateStore(args.state or settings.state_file)

    def controller(self, metrics: RolloutMetrics | None = None) -> Controller:
        return Controller(self.plan, self.store, self.flags_file, self.audit_log, metrics)


def _status(ctx: Context) -> int:
    state = ctx.store.load()
    alive = runner_alive(ctx.flags_file)
    if ctx.args.json:
        print(json.dumps({"autopilot_running": alive, "state": state.model_dump(mode="json") if state else None}))
        return EXIT_OK
    if state is None:
        print(f"no rollout yet ({ctx.store.path}); `python -m backend.rollout start` begins one")
    else:
        try:
            Autopilot(ctx.plan).require_fits(state)
            print("\n".join(_describe(ctx.plan, state, time.time(), ctx.flags_file)))
        except RefusedError as exc:
            print(f"phase:         {state.phase}\nwarning:       {exc}")
    print(f"autopilot:     {'running' if alive else 'not running'}")
    return EXIT_OK


def _command(ctx: Context) -> int:
    """pause, resume, promote, abort: a person's decision, taken through the same lock, writer and audit."""
    args = ctx.args
    actor = _actor(args.actor)
    try:
        decision, state = decide(
            ctx.plan,
            ctx.store,
            ctx.controller(),
            args.command,
            actor,
            args.reason,
            leave_flag=getattr(args, "leave_flag", False),
            dry_run=ctx.dry_run,
        )
    except LookupError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_REFUSED
    except RefusedError as exc:
        print(f"error: cannot {args.command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if ctx.dry_run:
        print(f"dry run: would {decision.kind}: {decision.reason}")
        return EXIT_OK
    print(f"{decision.kind}: {decision.reason}")
    print(f"phase {state.phase}, stage {state.stage + 1}/{len(ctx.plan.stages)} ({state.percent} %)")
    if not state.ended and not runner_alive(ctx.flags_file):
        print("note: no autopilot is running; `python -m backend.rollout start` carries on from here")
    return EXIT_OK


def _history(ctx: Context) -> int:
    """The flag's audit chain: who changed it, when, to what and why (the autopilot's checks and values)."""
    records = history(ctx.audit_log, ctx.args.limit)
    if ctx.args.json:
        print(json.dumps(records))
        return EXIT_OK
    if not records:
        print(f"no decisions yet ({ctx.audit_log})")
    for record in records:
        after = record.get("after") or {}
        print(
            f"{record.get('ts', '?')[:19]}  {record.get('actor', '?'):<18} {record.get('action', '?'):<20} "
            f"enabled={after.get('enabled')} percent={after.get('percent')}"
        )
        if record.get("reason"):
            print(f"    {record['reason']}")
    return EXIT_OK


def _watch(ctx: Context) -> int:
    """`status --watch`: the status again every --interval seconds until the rollout ends (or Ctrl-C)."""
    try:
        while True:
            if not ctx.args.json:
                print(f"\033[2J\033[H{datetime.now(UTC).isoformat(timespec='seconds')}", flush=True)
            _status(ctx)
            state = ctx.store.load()
            if state is not None and state.ended:
                return EXIT_OK
            time.sleep(ctx.args.interval)
    except KeyboardInterrupt:
        return EXIT_OK


def _dry_start(ctx: Context) -> int:
    settings = ctx.settings
    autopilot = Autopilot(ctx.plan)
    now = time.time()
    state = ctx.store.load()
    if state is None or state.ended:
        if state is not None and not ctx.args.new:
            print(f"dry run: the last rollout ended ({state.phase}); start would refuse without --new")
            return EXIT_OK
        step = autopilot.begin(now)
        assert step.decision is not None
        print(f"dry run: would {step.decision.kind}: {step.decision.reason}")
        state = step.state
    else:
        print(f"dry run: would carry on with the saved rollout ({state.phase})")
    prometheus = Prometheus(settings.prometheus_url, settings.query_timeout_seconds)
    try:
        evaluation = evaluate(ctx.plan, prometheus, now)
    finally:
        prometheus.close()
    print(f"evaluation now: {evaluation.verdict}")
    for check in evaluation.checks:
        print(f"  {check.verdict:<12} {check.describe()}")
    if state.phase == Phase.RUNNING:
        outcome = autopilot.observe(state, evaluation)
        if outcome.decision is not None:
            print(f"would {outcome.decision.kind}: {outcome.decision.reason}")
        else:
            left = autopilot.hold_remaining(outcome.state, now)
            print(f"would keep holding stage {outcome.state.stage + 1} ({left:.0f} s of passing checks to go)")
    return EXIT_OK


def _start(ctx: Context) -> int:
    if ctx.dry_run:
        return _dry_start(ctx)
    settings = ctx.settings
    try:
        with runner_lock(ctx.flags_file):
            signal.signal(signal.SIGTERM, _stop_on_sigterm)
            # A registry of its own (with the process metrics): the autopilot's /metrics is only about it.
            registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            metrics = RolloutMetrics(tuple(check.name for check in ctx.plan.analysis.checks), registry)
            prometheus = Prometheus(settings.prometheus_url, settings.query_timeout_seconds)
            try:
                runner = Runner(ctx.controller(metrics), prometheus, actor=settings.actor)
                state = runner.begin(new=ctx.args.new)
                if state is None and ctx.args.linger:
                    ended = ctx.store.load()
                    print(f"the last rollout ended ({ended.phase if ended else '?'}); lingering (--linger)")
                    runner.controller.publish(ended, time.time())
                    _serve_metrics(settings, registry)
                    return _linger()
                if state is None:
                    ended = ctx.store.load()
                    print(
                        f"error: the last rollout ended ({ended.phase if ended else '?'}): "
                        f"{ended.reason if ended else ''}\n`python -m backend.rollout start --new` begins another",
                        file=sys.stderr,
                    )
                    return EXIT_REFUSED
                _serve_metrics(settings, registry)
                final = runner.run()
                print(f"rollout {final.phase}: {final.reason}", flush=True)
                if ctx.args.linger:
                    return _linger()
            finally:
                prometheus.close()
    except AlreadyRunningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    return EXIT_OK


def _serve_metrics(settings: RolloutSettings, registry: CollectorRegistry) -> None:
    if settings.metrics_port:
        start_http_server(settings.metrics_port, settings.metrics_addr, registry=registry)


def _linger() -> int:
    """Keep the lock and /metrics (the ended phase stays visible) until SIGTERM."""
    while True:
        time.sleep(3600)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    # The state on disk is consistent between any two statements (write-ahead), so leaving at once is safe.
    raise SystemExit(EXIT_OK)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per query would bury the decisions
    try:
        ctx = Context(args, get_rollout_settings())
    except PlanError as exc:
        print(f"error: bad rollout plan: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:
        print(f"error: bad setting: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command == "status":
            return _watch(ctx) if args.watch else _status(ctx)
        if args.command == "history":
            return _history(ctx)
        if args.command == "start":
            return _start(ctx)
        return _command(ctx)
    except ValueError as exc:  # an unreadable state file, a state the plan no longer fits: say so, change nothing
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())

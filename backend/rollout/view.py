"""What a release manager sees of a rollout, as one JSON-able dict: `GET /api/admin/rollout`, the rollout
page and `python -m backend.rollout status --json --watch` / `history` all read it from here.

- the plan's stages with the current one, the cohort percentage, the phase and why;
- each check's last value against its threshold, and (with a Prometheus) its series since the stage began;
- the hold left, and whether an autopilot holds the flag's runner lock;
- the decision history: the flag's audit chain (who, when, why; the autopilot's reasons carry each check's
  query, value and threshold).

Also `decide`: a person's pause, resume, promote or abort, through the same lock, writer and audit as the
autopilot (the CLI and the admin API both call it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from backend.rollout.engine import Autopilot, Decision, Phase, RolloutState, Step
from backend.rollout.plan import Plan
from backend.rollout.runner import Controller
from backend.rollout.store import StateStore, runner_alive

ACTIONS = ("pause", "resume", "promote", "abort")
# Points of a check's chart: the stage's span divided into at most this many steps (at least the interval).
SERIES_POINTS = 120


def history(audit_log: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The audit chain, oldest first (the last `limit` records); a torn last line is skipped."""
    if not Path(audit_log).exists():
        return []
    records = []
    for line in Path(audit_log).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records[-limit:] if limit else records


def series(prometheus_url: str, query: str, start: float, end: float, step: float) -> list[list[float]]:
    """[[unix time, value], ...] of a range query (the first series); [] when Prometheus has nothing."""
    response = httpx.get(
        f"{prometheus_url.rstrip('/')}/api/v1/query_range",
        params={"query": query, "start": start, "end": end, "step": step},
        timeout=5,
    )
    response.raise_for_status()
    result = response.json()["data"]["result"]
    return [[float(t), float(v)] for t, v in result[0]["values"]] if result else []


def rollout_view(
    plan: Plan,
    store: StateStore,
    flags_file: Path,
    audit_log: Path,
    *,
    prometheus_url: str | None = None,
    history_limit: int = 50,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    state = store.load()
    autopilot = Autopilot(plan)
    current = None if state is None else state.stage
    view: dict[str, Any] = {
        "flag": plan.flag,
        "autopilot_running": runner_alive(flags_file),
        "phase": "idle" if state is None else str(state.phase),
        "reason": "" if state is None else state.reason,
        "percent": None if state is None else state.percent,
        "stage": None if current is None else current + 1,
        "stages": [
            {"stage": n + 1, "percent": s.percent, "hold_seconds": plan.hold(n), "current": n == current}
            for n, s in enumerate(plan.stages)
        ],
        "stage_started_at": None if state is None else state.stage_started_at,
        "hold_remaining_seconds": None,
        "warming_up": False,
        "evaluations": 0 if state is None else state.evaluations,
        "last_evaluation_at": None,
        "checks": [],
        "history": history(audit_log, history_limit),
    }
    if state is not None and state.phase == Phase.RUNNING:
        view["warming_up"] = autopilot.in_warmup(state, now)
        view["hold_remaining_seconds"] = autopilot.hold_remaining(state, now)
    last = {} if state is None or state.last_evaluation is None else {c.name: c for c in state.last_evaluation.checks}
    if state is not None and state.last_evaluation is not None:
        view["last_evaluation_at"] = state.last_evaluation.at
    for check in plan.analysis.checks:
        result = last.get(check.name)
        item: dict[str, Any] = {
            "name": check.name,
            "description": check.description,
            "query": check.query,
            "op": str(check.success.op),
            "threshold": check.success.threshold,
            "value": None if result is None else result.value,
            "verdict": None if result is None else str(result.verdict),
            "series": None,
            "series_error": None,
        }
        if prometheus_url and state is not None:
            start = state.stage_started_at
            step = max(plan.analysis.interval, (now - start) / SERIES_POINTS, 1.0)
            try:
                item["series"] = series(prometheus_url, check.query, start, max(now, start + step), step)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                item["series_error"] = f"{type(exc).__name__}: {exc}"[:300]
        view["checks"].append(item)
    return view


def decide(
    plan: Plan,
    store: StateStore,
    controller: Controller,
    action: str,
    actor: str,
    reason: str | None,
    *,
    leave_flag: bool = False,
    dry_run: bool = False,
) -> tuple[Decision, RolloutState]:
    """A person's pause, resume, promote or abort. Raises LookupError with no rollout, RefusedError when the
    phase does not allow it (the engine says why); returns the decision and the state after it."""
    autopilot = Autopilot(plan)
    why = reason or f"{action} by {actor}"
    actions: dict[str, Callable[[RolloutState], Step]] = {
        "pause": lambda s: autopilot.pause(s, why),
        "resume": lambda s: autopilot.resume(s, time.time(), why),
        "promote": lambda s: autopilot.promote(s, time.time(), why),
        "abort": lambda s: autopilot.abort(s, why, leave_flag=leave_flag),
    }
    with store.locked():
        state = store.load()
        if state is None:
            raise LookupError(f"no rollout to {action} ({store.path})")
        if not state.ended:
            autopilot.require_fits(state)
        step = actions[action](state)
        decision = step.decision
        assert decision is not None
        if dry_run:
            return decision, state
        return decision, controller.commit(step, actor)

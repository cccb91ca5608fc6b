"""The autopilot's I/O around the pure engine: evaluate, decide, write the flag, persist, publish metrics.

Every decision goes through the flag writer (`backend.flags.change_flag`: atomic, locked, audited), with the
checks' queries, values and thresholds in the audit record's reason; decisions that leave the flag as it is
(pause, resume) are audited the same way, so the audit log is the one trail of the rollout. Each decision is
made under the state lock and written ahead into the state (`pending`) before the flag, so an autopilot
killed between the two finishes the write when it starts again instead of losing or repeating a stage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

from backend.flags.audit import change_flag, current_state
from backend.flags.file import FlagState
from backend.metrics import ROLLOUT_PHASES, ROLLOUT_VERDICTS, RolloutMetrics
from backend.rollout.analysis import Prometheus, evaluate
from backend.rollout.engine import Autopilot, Evaluation, FlagTarget, Phase, RolloutState, Step
from backend.rollout.plan import Plan
from backend.rollout.store import StateStore

log = logging.getLogger("parlor.rollout")

# While paused, how often the state file is read for a person's resume, promote or abort.
PAUSED_POLL_SECONDS = 1.0


class Controller:
    """Commits engine steps: the state file and the flag, in write-ahead order, under the state lock."""

    def __init__(
        self,
        plan: Plan,
        store: StateStore,
        flags_file: Path,
        audit_log: Path,
        metrics: RolloutMetrics | None = None,
    ) -> None:
        self.plan = plan
        self.autopilot = Autopilot(plan)
        self.store = store
        self.flags_file = Path(flags_file)
        self.audit_log = Path(audit_log)
        self.metrics = metrics

    def commit(self, step: Step, actor: str) -> RolloutState:
        """Save `step.state`; with a decision, write the flag and audit it first. Call under `store.locked()`."""
        if step.decision is None:
            return self.store.save(step.state)
        target = step.decision.target(actor)
        saved = self.store.save(step.state.model_copy(update={"pending": target}))
        self._write_flag(target)
        return self.store.save(saved.model_copy(update={"pending": None}))

    def finish_pending(self, state: RolloutState) -> RolloutState:
        """A decision saved but maybe not written when the last autopilot died: write it unless the flag
        already shows it. Call under `store.locked()`."""
        target = state.pending
        if target is None:
            return state
        flag = current_state(self.flags_file)
        written = (
            flag is not None
            and (target.enabled is None or flag.enabled == target.enabled)
            and (target.percent is None or flag.percent == target.percent)
            and (target.enabled is not None or target.percent is not None)
        )
        if not written:
            log.warning("re-applying the %s decision interrupted by a restart", target.kind)
            self._write_flag(target.model_copy(update={"reason": f"{target.reason} (re-applied after a restart)"}))
        return self.store.save(state.model_copy(update={"pending": None}))

    def _write_flag(self, target: FlagTarget) -> None:
        change_flag(
            self.flags_file,
            self.audit_log,
            action=f"autopilot-{target.kind}",
            actor=target.actor,
            reason=target.reason,
            enabled=target.enabled,
            percent=target.percent,
        )
        if self.metrics is not None:
            self.metrics.decided(target.kind.value, target.actor, target.reason or "", time.time())
        log.info(
            "%s by %s: %s",
            target.kind,
            target.actor,
            target.reason,
            extra={
                "decision": str(target.kind),
                "actor": target.actor,
                "reason": target.reason,
                "enabled": target.enabled,
                "percent": target.percent,
            },
        )

    def publish(self, state: RolloutState | None, now: float) -> None:
        if self.metrics is None:
            return
        m = self.metrics
        phase = "idle" if state is None else state.phase.value
        for value in ROLLOUT_PHASES:
            m.phase.labels(value).set(1 if value == phase else 0)
        m.stage.set(0 if state is None else state.stage + 1)
        m.percent.set(0 if state is None else state.percent)
        running = state is not None and state.phase == Phase.RUNNING
        m.hold_remaining.set(self.autopilot.hold_remaining(state, now) if running and state else 0)
        for check in self.plan.analysis.checks:
            m.check_threshold.labels(check.name).set(check.success.threshold)

    def publish_evaluation(self, evaluation: Evaluation) -> None:
        if self.metrics is None:
            return
        m = self.metrics
        m.evaluations.labels(evaluation.verdict.value).inc()
        m.last_evaluation.set(evaluation.at)
        for check in evaluation.checks:
            m.check_value.labels(check.name).set(math.nan if check.value is None else check.value)
            for verdict in ROLLOUT_VERDICTS:
                m.check_verdict.labels(check.name, verdict).set(1 if verdict == check.verdict.value else 0)


class Runner:
    """The loop of `python -m backend.rollout start`; the caller holds the flag's runner lock."""

    def __init__(
        self,
        controller: Controller,
        prometheus: Prometheus,
        *,
        actor: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.controller = controller
        self.autopilot = controller.autopilot
        self.store = controller.store
        self.plan = controller.plan
        self.prometheus = prometheus
        self.actor = actor
        self.clock = clock
        self.sleep = sleep

    def begin(self, *, new: bool) -> RolloutState | None:
        """Start a rollout, or carry on with the saved one. None when the saved one ended and `new` is False."""
        with self.store.locked():
            state = self.store.load()
            if state is None or (state.ended and new):
                state = self.controller.commit(self.autopilot.begin(self.clock()), self.actor)
            elif state.ended:
                return None
            else:
                self.autopilot.require_fits(state)
                state = self.controller.finish_pending(state)
                state = self.store.save(self.autopilot.restarted(state))
                log.info(
                    "continuing the saved rollout: %s, stage %d/%d (%d %%), hold starts again",
                    state.phase,
                    state.stage + 1,
                    len(self.plan.stages),
                    state.percent,
                )
        self.controller.publish(state, self.clock())
        return state

    def run(self) -> RolloutState:
        """Evaluate every interval until the rollout ends (completed, rolled back or aborted)."""
        interval = self.plan.analysis.interval
        while True:
            began = self.clock()
            state = self.tick()
            if state.ended:
                self.controller.publish(state, self.clock())
                return state
            pause = PAUSED_POLL_SECONDS if state.phase == Phase.PAUSED else interval
            self.sleep(max(0.0, min(pause, interval) - (self.clock() - began)))

    def tick(self) -> RolloutState:
        """One round: a person's changes are read first; a paused or ended rollout is only published."""
        with self.store.locked():
            state = self.store.load()
        if state is None:
            raise RuntimeError(f"{self.store.path} disappeared while the autopilot was running")
        self.controller.publish(state, self.clock())
        if state.phase != Phase.RUNNING:
            return state

        expected = FlagState(enabled=True, percent=state.percent)
        found = current_state(self.controller.flags_file)
        if found != expected:
            why = (
                f"the flag was changed outside the autopilot (expected {expected.to_dict()}, found "
                f"{found.to_dict() if found else 'no readable flag file'}); a person has taken over"
            )
            return self._decide(state, lambda current: self.autopilot.pause(current, why))

        evaluation = evaluate(self.plan, self.prometheus, self.clock())
        self.controller.publish_evaluation(evaluation)
        log.info(
            "evaluation at stage %d (%d %%): %s | %s",
            state.stage + 1,
            state.percent,
            evaluation.verdict,
            "; ".join(f"{c.name}={c.value} {c.verdict}" for c in evaluation.checks),
            extra={"stage": state.stage + 1, "percent": state.percent, "verdict": str(evaluation.verdict)},
        )
        return self._decide(state, lambda current: self.autopilot.observe(current, evaluation))

    def _decide(self, seen: RolloutState, decide: Callable[[RolloutState], Step]) -> RolloutState:
        with self.store.locked():
            current = self.store.load()
            if current is None or current.revision != seen.revision:
                # A person paused, promoted or aborted while we measured: their word wins, the result is dropped.
                return current or seen
            state = self.controller.commit(decide(current), self.actor)
        self.controller.publish(state, self.clock())
        return state

"""The autopilot's decisions, pure: state in, evaluation and `now` in, new state and a decision out.

No I/O and no clock reads, so every rule is tested without Prometheus or sleeping:

- a stage's hold starts at its first successful evaluation after the warm-up; any failed or inconclusive
  evaluation restarts it, so a stage advances only after a whole hold in which every check passed;
- failures are counted per stage; one past the stage's failure limit rolls back to the plan's safe state
  and ends the rollout;
- inconclusive evaluations (no data, a Prometheus error, too few connections) are counted per stage, except
  during the warm-up while the new cohort's data arrives; one past the limit pauses for a person;
- a person may pause, resume, promote (skip the rest of the hold) or abort at any time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from backend.rollout.plan import Plan, SafeState


class Phase(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


ENDED = frozenset({Phase.COMPLETED, Phase.ROLLED_BACK, Phase.ABORTED})


class Verdict(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    INCONCLUSIVE = "inconclusive"


class DecisionKind(StrEnum):
    START = "start"
    ADVANCE = "advance"
    PROMOTE = "promote"
    COMPLETE = "complete"
    ROLLBACK = "rollback"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"


class CheckResult(BaseModel):
    """One check in one evaluation: the value Prometheus returned and what it means."""

    model_config = ConfigDict(frozen=True)

    name: str
    query: str
    condition: str
    verdict: Verdict
    value: float | None = None
    note: str = ""

    def describe(self) -> str:
        """`name: query = value (must be >= 0.95)`, plus why when there is no usable value."""
        shown = "no value" if self.value is None or math.isnan(self.value) else f"{self.value:.6g}"
        text = f"{self.name}: {self.query} = {shown} (must be {self.condition})"
        return f"{text}: {self.note}" if self.note else text


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: float
    checks: tuple[CheckResult, ...]

    @property
    def verdict(self) -> Verdict:
        verdicts = {check.verdict for check in self.checks}
        if Verdict.FAILURE in verdicts:
            return Verdict.FAILURE
        if Verdict.INCONCLUSIVE in verdicts or not verdicts:
            return Verdict.INCONCLUSIVE
        return Verdict.SUCCESS

    def of(self, verdict: Verdict) -> list[CheckResult]:
        return [check for check in self.checks if check.verdict == verdict]


# Evaluations kept in the state for `status` (and for telling how fast a rollback came).
RECENT_EVALUATIONS = 20


class Verdicted(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: float
    stage: int
    verdict: Verdict


class FlagTarget(BaseModel):
    """A flag change the autopilot is making: kept in the state until written (write-ahead for restarts)."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    actor: str
    reason: str
    enabled: bool | None = None
    percent: int | None = None


class RolloutState(BaseModel):
    """Everything a restarted autopilot needs to carry on; persisted as JSON after every change."""

    flag: str
    phase: Phase
    stage: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)
    started_at: float
    stage_started_at: float
    hold_started_at: float | None = None
    failures: int = 0
    inconclusive: int = 0
    evaluations: int = 0
    last_evaluation: Evaluation | None = None
    recent: tuple[Verdicted, ...] = ()
    reason: str = ""
    pending: FlagTarget | None = None
    revision: int = 0
    updated_at: float = 0.0

    @property
    def ended(self) -> bool:
        return self.phase in ENDED


@dataclass(frozen=True)
class Decision:
    """What the autopilot (or a person through it) decided; `enabled`/`percent` None leaves that field."""

    kind: DecisionKind
    reason: str
    enabled: bool | None = None
    percent: int | None = None

    def target(self, actor: str) -> FlagTarget:
        return FlagTarget(kind=self.kind, actor=actor, reason=self.reason, enabled=self.enabled, percent=self.percent)


@dataclass(frozen=True)
class Step:
    state: RolloutState
    decision: Decision | None = None


class RefusedError(ValueError):
    """A command that makes no sense in the current phase (promote a finished rollout, resume a running one)."""


class Autopilot:
    """The rules of one plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def _label(self, stage: int) -> str:
        return f"stage {stage + 1}/{len(self.plan.stages)} ({self.plan.stages[stage].percent} %)"

    def begin(self, now: float) -> Step:
        first = self.plan.stages[0].percent
        state = RolloutState(
            flag=self.plan.flag,
            phase=Phase.RUNNING,
            stage=0,
            percent=first,
            started_at=now,
            stage_started_at=now,
        )
        return Step(state, Decision(DecisionKind.START, f"autopilot start: {self._label(0)}", True, first))

    def require_fits(self, state: RolloutState) -> None:
        """A saved rollout must still match the plan (the plan file may have been edited since)."""
        stages = self.plan.stages
        if state.stage >= len(stages) or stages[state.stage].percent != state.percent:
            raise RefusedError(
                f"the saved rollout is at stage {state.stage + 1} ({state.percent} %), which the plan no longer has "
                f"(its stages: {[stage.percent for stage in stages]}); restore the plan, or abort the rollout"
            )

    def hold_remaining(self, state: RolloutState, now: float) -> float:
        """Seconds of passing evaluations still needed before the stage advances."""
        hold = self.plan.hold(state.stage)
        if state.hold_started_at is None:
            return hold
        return max(0.0, hold - (now - state.hold_started_at))

    def in_warmup(self, state: RolloutState, now: float) -> bool:
        return now - state.stage_started_at < self.plan.analysis.warmup

    def observe(self, state: RolloutState, evaluation: Evaluation) -> Step:
        """Apply one evaluation to a running rollout."""
        if state.phase != Phase.RUNNING:
            return Step(state)
        now = evaluation.at
        verdict = evaluation.verdict
        seen = Verdicted(at=now, stage=state.stage, verdict=verdict)
        update: dict[str, object] = {
            "evaluations": state.evaluations + 1,
            "last_evaluation": evaluation,
            "recent": (*state.recent, seen)[-RECENT_EVALUATIONS:],
        }
        stage = state.stage

        if verdict == Verdict.FAILURE:
            failures = state.failures + 1
            update |= {"failures": failures, "hold_started_at": None}
            limit = self.plan.failure_limit(stage)
            if failures > limit:
                failing = "; ".join(check.describe() for check in evaluation.of(Verdict.FAILURE))
                reason = (
                    f"autopilot rollback at {self._label(stage)}: {failing}; "
                    f"{failures} failed evaluations > failure limit {limit}"
                )
                update |= {"phase": Phase.ROLLED_BACK, "reason": reason}
                safe = self.plan.safe_state
                return Step(state.model_copy(update=update), Decision(DecisionKind.ROLLBACK, reason, *_safe(safe)))
            return Step(state.model_copy(update=update))

        if verdict == Verdict.INCONCLUSIVE:
            update["hold_started_at"] = None
            if self.in_warmup(state, now):
                return Step(state.model_copy(update=update))
            count = state.inconclusive + 1
            update["inconclusive"] = count
            limit = self.plan.inconclusive_limit(stage)
            if count > limit:
                unclear = "; ".join(check.describe() for check in evaluation.of(Verdict.INCONCLUSIVE))
                reason = (
                    f"autopilot paused at {self._label(stage)}: {count} inconclusive evaluations > limit {limit}: "
                    f"{unclear}; waiting for a person (resume, promote or abort)"
                )
                update |= {"phase": Phase.PAUSED, "reason": reason}
                return Step(state.model_copy(update=update), Decision(DecisionKind.PAUSE, reason))
            return Step(state.model_copy(update=update))

        # success
        if self.in_warmup(state, now):
            return Step(state.model_copy(update=update))
        hold_started_at = state.hold_started_at if state.hold_started_at is not None else now
        update["hold_started_at"] = hold_started_at
        held = now - hold_started_at
        if held < self.plan.hold(stage):
            return Step(state.model_copy(update=update))
        passed = "; ".join(check.describe() for check in evaluation.checks)
        why = f"every check passed for {held:.0f} s (hold {self.plan.hold(stage):g} s): {passed}"
        return self._next_stage(state.model_copy(update=update), now, DecisionKind.ADVANCE, why)

    def _next_stage(self, state: RolloutState, now: float, kind: DecisionKind, why: str) -> Step:
        if state.stage + 1 >= len(self.plan.stages):
            reason = f"autopilot complete: {self._label(state.stage)} held; {why}"
            done = state.model_copy(update={"phase": Phase.COMPLETED, "reason": reason})
            return Step(done, Decision(DecisionKind.COMPLETE, reason))
        stage = state.stage + 1
        percent = self.plan.stages[stage].percent
        verb = "advance" if kind == DecisionKind.ADVANCE else "promote"
        reason = f"autopilot {verb} to {self._label(stage)}: {why}"
        moved = state.model_copy(
            update={
                "phase": Phase.RUNNING,
                "stage": stage,
                "percent": percent,
                "stage_started_at": now,
                "hold_started_at": None,
                "failures": 0,
                "inconclusive": 0,
                "reason": "",
            }
        )
        return Step(moved, Decision(kind, reason, True, percent))

    # ---- a person's commands -------------------------------------------------------------------------

    def _require(self, state: RolloutState, *phases: Phase) -> None:
        if state.phase not in phases:
            allowed = " or ".join(phase.value for phase in phases)
            raise RefusedError(f"the rollout is {state.phase.value}; this needs it {allowed}")

    def pause(self, state: RolloutState, why: str) -> Step:
        self._require(state, Phase.RUNNING)
        reason = f"autopilot paused at {self._label(state.stage)}: {why}"
        paused = state.model_copy(update={"phase": Phase.PAUSED, "reason": reason, "hold_started_at": None})
        return Step(paused, Decision(DecisionKind.PAUSE, reason))

    def resume(self, state: RolloutState, now: float, why: str) -> Step:
        """Carry on with the same stage; its hold starts again and its inconclusive count is cleared."""
        self._require(state, Phase.PAUSED)
        reason = f"autopilot resumed at {self._label(state.stage)}: {why}"
        resumed = state.model_copy(
            update={
                "phase": Phase.RUNNING,
                "reason": "",
                "hold_started_at": None,
                "inconclusive": 0,
                "stage_started_at": now,
            }
        )
        return Step(resumed, Decision(DecisionKind.RESUME, reason))

    def promote(self, state: RolloutState, now: float, why: str) -> Step:
        self._require(state, Phase.RUNNING, Phase.PAUSED)
        return self._next_stage(state, now, DecisionKind.PROMOTE, f"hold skipped by a person: {why}")

    def abort(self, state: RolloutState, why: str, *, leave_flag: bool = False) -> Step:
        self._require(state, Phase.RUNNING, Phase.PAUSED)
        where = "flag left as it is" if leave_flag else "flag set to the safe state"
        reason = f"autopilot aborted at {self._label(state.stage)} ({where}): {why}"
        aborted = state.model_copy(update={"phase": Phase.ABORTED, "reason": reason})
        enabled, percent = (None, None) if leave_flag else _safe(self.plan.safe_state)
        return Step(aborted, Decision(DecisionKind.ABORT, reason, enabled, percent))

    def restarted(self, state: RolloutState) -> RolloutState:
        """After a restart nobody watched the gap, so the stage's hold starts again (the stage is kept)."""
        return state.model_copy(update={"hold_started_at": None})


def _safe(safe: SafeState) -> tuple[bool | None, int | None]:
    return safe.enabled, safe.percent

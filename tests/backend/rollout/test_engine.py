"""The autopilot's rules, pure: evaluations and `now` in, state and decisions out, no clock and no Prometheus."""

from __future__ import annotations

import pytest

from backend.metrics import ROLLOUT_DECISIONS, ROLLOUT_PHASES, ROLLOUT_VERDICTS
from backend.rollout.engine import (
    Autopilot,
    CheckResult,
    DecisionKind,
    Evaluation,
    Phase,
    RefusedError,
    RolloutState,
    Verdict,
)
from backend.rollout.plan import SEED_CHECKS, Plan, parse_plan

OK, BAD, UNSURE = Verdict.SUCCESS, Verdict.FAILURE, Verdict.INCONCLUSIVE
PLAN = parse_plan(
    {"default_hold": "10s", "analysis": {"interval": "1s", "warmup": "3s", "failure_limit": 1, "inconclusive_limit": 2}}
)


def evaluation(at: float, *verdicts: Verdict, value: float = 0.97) -> Evaluation:
    """One evaluation of the seed checks; the first check gets `verdicts[0]`, and so on (default success)."""
    checks = []
    for index, check in enumerate(SEED_CHECKS):
        verdict = verdicts[index] if index < len(verdicts) else OK
        checks.append(
            CheckResult(
                name=check.name,
                query=check.query,
                condition=str(check.success),
                verdict=verdict,
                value=None if verdict == UNSURE else value,
                note="no data" if verdict == UNSURE else "",
            )
        )
    return Evaluation(at=at, checks=tuple(checks))


def run(pilot: Autopilot, state: RolloutState, times: range, *verdicts: Verdict) -> tuple[RolloutState, list]:
    decisions = []
    for t in times:
        step = pilot.observe(state, evaluation(float(t), *verdicts))
        state = step.state
        if step.decision is not None:
            decisions.append(step.decision)
    return state, decisions


def started(plan: Plan = PLAN) -> tuple[Autopilot, RolloutState]:
    pilot = Autopilot(plan)
    step = pilot.begin(0.0)
    assert step.decision is not None and step.decision.kind == DecisionKind.START
    assert (step.decision.enabled, step.decision.percent) == (True, plan.stages[0].percent)
    return pilot, step.state


def test_a_stage_advances_only_after_a_whole_hold_of_passing_evaluations_after_the_warmup() -> None:
    """Warm-up 3 s, hold 10 s: the first pass counted is at 3 s, the advance at 13 s, to the next percent."""
    pilot, state = started()
    state, decisions = run(pilot, state, range(0, 13), OK)
    assert decisions == [] and state.stage == 0 and state.hold_started_at == 3.0
    step = pilot.observe(state, evaluation(13.0))
    assert step.decision is not None and step.decision.kind == DecisionKind.ADVANCE
    assert (step.decision.enabled, step.decision.percent) == (True, 10)
    assert step.state.stage == 1 and step.state.stage_started_at == 13.0 and step.state.hold_started_at is None
    assert "connection_success: parlor:ws_connection_success:ratio_rate5m = 0.97 (must be >= 0.95)" in (
        step.decision.reason
    )


def test_any_failed_or_inconclusive_evaluation_restarts_the_hold() -> None:
    """A single inconclusive evaluation in the middle of the hold: the 10 s start again from the next pass."""
    pilot, state = started()
    state, _ = run(pilot, state, range(0, 8), OK)
    state = pilot.observe(state, evaluation(8.0, OK, UNSURE)).state
    assert state.hold_started_at is None and state.inconclusive == 1
    state, decisions = run(pilot, state, range(9, 19), OK)
    assert decisions == [] and state.hold_started_at == 9.0
    assert pilot.observe(state, evaluation(19.0)).decision is not None


def test_the_last_stage_held_completes_the_rollout() -> None:
    """After 100 % is held the rollout completes without touching the flag."""
    plan = parse_plan({"stages": [50, 100], "default_hold": 5, "analysis": {"warmup": 0}})
    pilot, state = started(plan)
    state, decisions = run(pilot, state, range(0, 12), OK)
    assert [d.kind for d in decisions] == [DecisionKind.ADVANCE, DecisionKind.COMPLETE]
    assert decisions[-1].enabled is None and decisions[-1].percent is None
    assert state.phase == Phase.COMPLETED and state.ended


def test_one_failure_past_the_limit_rolls_back_to_the_safe_state_naming_the_failing_check() -> None:
    """failure_limit 1: the second failed evaluation rolls back (disabled, percent kept) and ends the rollout."""
    pilot, state = started()
    state, _ = run(pilot, state, range(0, 5), OK)
    first = pilot.observe(state, evaluation(5.0, BAD, value=0.5))
    assert first.decision is None and first.state.failures == 1
    second = pilot.observe(first.state, evaluation(6.0, BAD, value=0.4))
    decision = second.decision
    assert decision is not None and decision.kind == DecisionKind.ROLLBACK
    assert (decision.enabled, decision.percent) == (False, None)
    assert "connection_success: parlor:ws_connection_success:ratio_rate5m = 0.4 (must be >= 0.95)" in decision.reason
    assert "2 failed evaluations > failure limit 1" in decision.reason
    assert "average_latency" not in decision.reason  # only the failing checks
    assert second.state.phase == Phase.ROLLED_BACK
    assert pilot.observe(second.state, evaluation(7.0)).decision is None  # an ended rollout decides nothing


def test_failures_count_during_the_warmup_but_inconclusive_results_do_not() -> None:
    """In the warm-up there is no data for the new cohort yet (not counted), but a failure is a failure."""
    pilot, state = started()
    state, decisions = run(pilot, state, range(0, 3), OK, UNSURE)
    assert decisions == [] and state.inconclusive == 0
    state, decisions = run(pilot, state, range(0, 2), BAD)
    assert [d.kind for d in decisions] == [DecisionKind.ROLLBACK]


def test_too_many_inconclusive_evaluations_pause_and_nothing_advances_while_paused() -> None:
    """inconclusive_limit 2: the third inconclusive evaluation after the warm-up pauses; passes then change nothing."""
    pilot, state = started()
    state, decisions = run(pilot, state, range(3, 6), UNSURE, UNSURE, UNSURE, UNSURE)
    assert [d.kind for d in decisions] == [DecisionKind.PAUSE]
    assert decisions[0].enabled is None and decisions[0].percent is None  # the flag stays where it is
    assert "3 inconclusive evaluations > limit 2" in decisions[0].reason
    assert "connection_success: parlor:ws_connection_success:ratio_rate5m = no value (must be >= 0.95): no data" in (
        decisions[0].reason
    )
    state, decisions = run(pilot, state, range(6, 60), OK)
    assert decisions == [] and state.phase == Phase.PAUSED and state.stage == 0


def test_resume_carries_on_with_the_same_stage_and_a_fresh_hold() -> None:
    """resume: running again at the same stage, inconclusive count cleared, warm-up and hold from now."""
    pilot, state = started()
    state, _ = run(pilot, state, range(3, 6), UNSURE)
    resumed = pilot.resume(state, 100.0, "Prometheus is back")
    assert resumed.decision is not None and resumed.decision.kind == DecisionKind.RESUME
    state = resumed.state
    assert (state.phase, state.stage, state.inconclusive, state.hold_started_at) == (Phase.RUNNING, 0, 0, None)
    assert pilot.in_warmup(state, 101.0)


def test_promote_skips_the_hold_and_abort_goes_to_the_safe_state() -> None:
    """A person's promote moves on at once; abort ends at the safe state, or leaves the flag with --leave-flag."""
    pilot, state = started()
    promoted = pilot.promote(state, 1.0, "enough data")
    assert promoted.decision is not None and promoted.decision.kind == DecisionKind.PROMOTE
    assert promoted.decision.percent == 10 and "hold skipped by a person: enough data" in promoted.decision.reason
    aborted = pilot.abort(promoted.state, "incident")
    assert aborted.decision is not None and (aborted.decision.enabled, aborted.decision.percent) == (False, None)
    assert aborted.state.phase == Phase.ABORTED
    left = pilot.abort(promoted.state, "taking over", leave_flag=True)
    assert left.decision is not None and (left.decision.enabled, left.decision.percent) == (None, None)
    with pytest.raises(RefusedError):
        pilot.promote(aborted.state, 2.0, "too late")
    with pytest.raises(RefusedError):
        pilot.resume(state, 2.0, "it is not paused")


def test_a_restart_keeps_the_stage_and_counts_but_restarts_the_hold() -> None:
    """After a restart the stage and its failure count stay; the unwatched gap does not count as hold."""
    pilot, state = started()
    state, _ = run(pilot, state, range(0, 8), OK)
    state = pilot.observe(state, evaluation(8.0, BAD)).state
    again = pilot.restarted(state.model_copy(update={"hold_started_at": 5.0}))
    assert (again.stage, again.failures, again.hold_started_at) == (0, 1, None)


def test_enabled_at_zero_percent_is_a_safe_state_too() -> None:
    """A plan may roll back to enabled at 0 % instead of disabled; the rollback writes exactly that."""
    plan = parse_plan({"safe_state": {"enabled": True, "percent": 0}, "analysis": {"warmup": 0, "failure_limit": 0}})
    pilot, state = started(plan)
    decision = pilot.observe(state, evaluation(1.0, BAD)).decision
    assert decision is not None and (decision.enabled, decision.percent) == (True, 0)


def test_the_metrics_label_values_are_the_engines_vocabulary() -> None:
    """Phases, verdicts and decisions pre-created in backend/metrics.py are exactly the engine's enums."""
    assert ("idle", *Phase) == ROLLOUT_PHASES
    assert set(ROLLOUT_VERDICTS) == set(Verdict)
    assert set(ROLLOUT_DECISIONS) == set(DecisionKind)

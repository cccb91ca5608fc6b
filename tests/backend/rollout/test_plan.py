"""The plan file: the committed one is valid and judges the seed's criteria; a bad one is refused by field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from backend.rollout.plan import DEFAULT_STAGES, SEED_CHECKS, SEED_COHORT, PlanError, load_plan, parse_plan
from tests.backend.rollout.conftest import PLAN, run_cli


def test_the_committed_plan_is_valid_and_judges_the_seed_criteria() -> None:
    """deploy/rollout-plan.yaml: 1/10/50/100 %, disabled as the safe state, the four seed checks on the rules."""
    plan = load_plan(PLAN)
    assert [stage.percent for stage in plan.stages] == list(DEFAULT_STAGES)
    assert plan.safe_state.enabled is False and plan.safe_state.percent is None
    assert plan.analysis.checks == SEED_CHECKS
    assert plan.analysis.cohort == SEED_COHORT
    assert [str(check.success) for check in plan.analysis.checks] == [">= 0.95", "<= 0.1", "< 0.01", "<= 0.05"]
    assert plan.hold(0) == 3600 and plan.hold(1) == 86400
    rules = (PLAN.parents[1] / "monitoring" / "prometheus" / "rules" / "parlor-recording.yml").read_text()
    for check in plan.analysis.checks:  # each check reads recording rules, and they exist
        names = re.findall(r"parlor:[a-z_]+:[a-z0-9_]+", check.query)
        assert names, check.name
        for name in names:
            assert f"- record: {name}\n" in rules, name


def test_an_empty_plan_means_the_seed_defaults() -> None:
    plan = parse_plan({})
    assert [stage.percent for stage in plan.stages] == [1, 10, 50, 100]
    assert plan.analysis.checks == SEED_CHECKS


def test_timing_overrides_replace_every_hold_the_interval_and_the_warmup() -> None:
    plan = load_plan(PLAN).with_timing(interval=1, hold=2, warmup=0)
    assert {plan.hold(i) for i in range(4)} == {2} and plan.analysis.interval == 1 and plan.analysis.warmup == 0


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        ({"stages": [1, 10, 5]}, "stages", "stage percents must increase"),
        ({"stages": [0, 10]}, "stages.0.percent", "greater than or equal to 1"),
        ({"stagez": [1]}, "stagez", "Extra inputs are not permitted"),
        ({"default_hold": "two hours"}, "default_hold", "a duration such as 90s"),
        ({"safe_state": {"enabled": True}}, "safe_state", "nobody on websocket"),
        ({"analysis": {"failure_limit": -1}}, "analysis.failure_limit", "greater than or equal to 0"),
        (
            {"analysis": {"checks": [{"name": "ok", "query": "up", "success": "=> 1"}]}},
            "analysis.checks.0.success",
            "an operator and a number",
        ),
        (
            {"analysis": {"checks": [{"name": "Bad Name", "query": "up", "success": ">= 1"}]}},
            "analysis.checks.0.name",
            "should match pattern",
        ),
        (
            {"analysis": {"checks": [{"name": "a", "query": "up", "success": ">= 1"}] * 2}},
            "analysis.checks",
            "check names must be unique: a",
        ),
    ],
)
def test_a_bad_plan_names_the_field(document: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(PlanError) as error:
        parse_plan(document, "plan.yaml")
    assert f"{field}: " in str(error.value) and message in str(error.value)


def test_the_cli_exits_2_naming_the_field_and_writes_nothing(tmp_path: Path) -> None:
    """`start` with a bad plan: exit 2, the field in the message, no flag file, no state."""
    plan = yaml.safe_load(PLAN.read_text())
    plan["analysis"]["checks"][1]["success"] = "below 100 ms"
    bad = tmp_path / "plan.yaml"
    bad.write_text(yaml.safe_dump(plan))
    flags, state = tmp_path / "flags.json", tmp_path / "state.json"
    result = run_cli("--plan", str(bad), "--file", str(flags), "--state", str(state), "start")
    assert result.returncode == 2
    assert "bad rollout plan" in result.stderr and "analysis.checks.1.success" in result.stderr
    assert not flags.exists() and not state.exists()

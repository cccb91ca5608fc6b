"""The rollout plan (`deploy/rollout-plan.yaml`): stages, holds, the safe state and the analysis gating a stage.

Validated on load by pydantic, so a typo stops the autopilot before it touches the flag: `load_plan` raises
`PlanError` whose message names every bad field by its path (`analysis.checks.1.success`), and
`python -m backend.rollout` exits 2 with it. Durations are seconds or strings such as `90s`, `30m`, `4h`.
Without an `analysis` section the plan judges the seed's success criteria (`SEED_CHECKS`).
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_STAGES = (1, 10, 50, 100)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_CONDITION = re.compile(r"^\s*(>=|<=|>|<)\s*(\S+)\s*$")

Operator = Literal[">=", ">", "<=", "<"]


class PlanError(ValueError):
    """The plan file is missing, not YAML, or breaks the schema; the message names the fields."""


def _seconds(value: object) -> object:
    """`90`, `90s`, `1.5m`, `4h`, `1d` -> seconds; anything else is left for pydantic to reject."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"expected a duration such as 90s, 30m or 4h, not {value!r}")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    return value


Duration = Annotated[float, BeforeValidator(_seconds), Field(gt=0, allow_inf_nan=False)]
DurationOrZero = Annotated[float, BeforeValidator(_seconds), Field(ge=0, allow_inf_nan=False)]


class Condition(BaseModel):
    """`value <op> threshold`, written in the plan as one string: `">= 0.95"`, `"< 0.01"`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Operator
    threshold: float = Field(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        if isinstance(value, str):
            match = _CONDITION.match(value)
            if match is None:
                raise ValueError(f"expected an operator and a number such as '>= 0.95', not {value!r}")
            try:
                threshold = float(match.group(2))
            except ValueError:
                raise ValueError(f"{match.group(2)!r} is not a number") from None
            return {"op": match.group(1), "threshold": threshold}
        return value

    def holds(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.threshold
        if self.op == ">":
            return value > self.threshold
        if self.op == "<=":
            return value <= self.threshold
        return value < self.threshold

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


class Check(BaseModel):
    """One PromQL query that must return a single number meeting `success`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="metric label value: lower_snake_case")
    query: str = Field(min_length=1)
    success: Condition
    description: str = ""


class Cohort(BaseModel):
    """How many WebSocket connections the cohort made; below `min_connections` nothing can be judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query: str = Field(min_length=1)
    min_connections: float = Field(ge=0, allow_inf_nan=False)


# The seed's success criteria on the recording rules (monitoring/prometheus/rules/parlor-recording.yml).
SEED_COHORT = Cohort(
    query='sum(increase(parlor_ws_connection_attempts_total{result!~"flag_refused|disabled"}[5m]))',
    min_connections=10,
)
SEED_CHECKS = (
    Check(
        name="connection_success",
        query="parlor:ws_connection_success:ratio_rate5m",
        success=Condition(op=">=", threshold=0.95),
        description="WebSocket handshakes accepted over attempts (flag and kill-switch refusals excluded)",
    ),
    Check(
        name="average_latency",
        query=(
            'max(parlor:bridge_delivery_latency_seconds:avg_rate5m{transport="websocket"}'
            " or parlor:fanout_latency_seconds:avg_rate5m)"
        ),
        success=Condition(op="<=", threshold=0.1),
        description="the worse of browser delivery (websocket) and server fan-out latency, in seconds",
    ),
    Check(
        name="unexpected_disconnects",
        query="parlor:ws_disconnects_unexpected:ratio_rate5m",
        success=Condition(op="<", threshold=0.01),
        description="disconnects other than client_close, replaced, moved_to_polling per accepted connection",
    ),
    Check(
        name="fallback_rate",
        query="parlor:bridge_fallback_activations:rate5m",
        success=Condition(op="<=", threshold=0.05),
        description="browsers dropping to long-poll per second (ParlorFallbackSpike's floor is 3 a minute)",
    ),
)


class Analysis(BaseModel):
    """Evaluated every `interval`; each evaluation is success, failure or inconclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval: Duration = 60.0
    warmup: DurationOrZero = Field(
        300.0, description="after a stage starts, inconclusive results are not counted and the hold waits"
    )
    failure_limit: int = Field(1, ge=0, description="failed evaluations tolerated per stage; one more rolls back")
    inconclusive_limit: int = Field(
        3, ge=0, description="inconclusive evaluations tolerated per stage; one more pauses"
    )
    cohort: Cohort = SEED_COHORT
    checks: tuple[Check, ...] = Field(SEED_CHECKS, min_length=1)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: tuple[Check, ...]) -> tuple[Check, ...]:
        names = [check.name for check in checks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"check names must be unique: {', '.join(duplicates)}")
        return checks


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    percent: int = Field(ge=1, le=100)
    hold: Duration | None = Field(None, description="defaults to the plan's default_hold")
    failure_limit: int | None = Field(None, ge=0)
    inconclusive_limit: int | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: object) -> object:
        return {"percent": value} if isinstance(value, int) and not isinstance(value, bool) else value


class SafeState(BaseModel):
    """Where a rollback or an abort leaves the flag: disabled (percent kept, so `enable` returns the same
    cohort), or enabled at 0 %."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    percent: int | None = Field(None, ge=0, le=100, description="None keeps the percent")

    @model_validator(mode="after")
    def _is_safe(self) -> SafeState:
        if self.enabled and self.percent != 0:
            raise ValueError("a safe state has nobody on websocket: enabled: false, or percent: 0")
        return self


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    flag: Literal["websocket-transport"] = "websocket-transport"  # FLAG_KEY: the one flag there is
    default_hold: Duration = 3600.0
    stages: tuple[Stage, ...] = Field(tuple(Stage(percent=p) for p in DEFAULT_STAGES), min_length=1)
    safe_state: SafeState = SafeState()
    analysis: Analysis = Analysis()

    @field_validator("stages")
    @classmethod
    def _increasing(cls, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        percents = [stage.percent for stage in stages]
        if any(b <= a for a, b in itertools.pairwise(percents)):
            raise ValueError(f"stage percents must increase: {percents}")
        return stages

    def hold(self, stage: int) -> float:
        return self.stages[stage].hold or self.default_hold

    def failure_limit(self, stage: int) -> int:
        limit = self.stages[stage].failure_limit
        return self.analysis.failure_limit if limit is None else limit

    def inconclusive_limit(self, stage: int) -> int:
        limit = self.stages[stage].inconclusive_limit
        return self.analysis.inconclusive_limit if limit is None else limit

    def with_timing(
        self, *, interval: float | None = None, hold: float | None = None, warmup: float | None = None
    ) -> Plan:
        """The plan with the settings' overrides applied (tests and rehearsals shorten every wait)."""
        analysis = self.analysis.model_copy(
            update={
                key: value
                for key, value in (("interval", interval), ("warmup", warmup))
                if value is not None and math.isfinite(value)
            }
        )
        stages = self.stages
        if hold is not None:
            stages = tuple(stage.model_copy(update={"hold": hold}) for stage in self.stages)
        return self.model_copy(update={"analysis": analysis, "stages": stages})


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def parse_plan(document: Any, source: str = "plan") -> Plan:
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise PlanError(f"{source}: the plan must be a mapping of fields, not {type(document).__name__}")
    try:
        return Plan.model_validate(document)
    except ValidationError as exc:
        raise PlanError(f"{source}: {_describe(exc)}") from None


def load_plan(path: Path) -> Plan:
    """The validated plan in `path`; PlanError (naming the field) when it is missing or wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{path}: not valid YAML: {exc}") from None
    return parse_plan(document, str(path))

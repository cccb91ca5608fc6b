"""Settings of the autopilot process (`ROLLOUT_*` in the environment, listed in the README's table).

The flag file and audit log are the backend's own settings (`FLAGS_FILE`, `FLAGS_AUDIT_LOG`), so the
autopilot writes exactly where the servers read and the release tool records. The timing overrides replace
the plan's values for every stage: rehearsals and tests run a whole rollout in seconds with the real plan.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RolloutSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROLLOUT_", env_file=".env", extra="ignore", case_sensitive=False)

    prometheus_url: str = Field("http://localhost:9090", description="Prometheus the checks are queried on")
    plan_file: Path = Field(Path("deploy/rollout-plan.yaml"), description="The rollout plan")
    state_file: Path = Field(Path("var/rollout-state.json"), description="Where the autopilot keeps its state")
    interval_seconds: float | None = Field(None, gt=0, description="Overrides the plan's analysis interval")
    hold_seconds: float | None = Field(None, gt=0, description="Overrides every stage's hold")
    warmup_seconds: float | None = Field(None, ge=0, description="Overrides the plan's warm-up")
    query_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one Prometheus query")
    metrics_port: int = Field(9109, ge=0, le=65535, description="Port of the autopilot's /metrics (0: off)")
    metrics_addr: str = Field("127.0.0.1", description="Address /metrics binds (0.0.0.0 in containers)")
    actor: str = Field("rollout-autopilot", min_length=1, description="Actor of the autopilot's audit records")


@lru_cache
def get_rollout_settings() -> RolloutSettings:
    return RolloutSettings()

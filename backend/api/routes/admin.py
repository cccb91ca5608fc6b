"""Admin API for the websocket-transport flag and its rollout: read the flag, change it (same writer and audit log
as the CLI); read the rollout (`GET /api/admin/rollout`) and pause, resume, promote or abort it
(`POST /api/admin/rollout/{action}`, as `python -m backend.rollout` does). The rollout routes read the
autopilot's settings (ROLLOUT_PLAN_FILE, ROLLOUT_STATE_FILE, ROLLOUT_PROMETHEUS_URL): the backend needs the
state file the autopilot writes (a shared volume in compose).

Disabled (404) unless ADMIN_TOKEN is set; then every call needs `Authorization: Bearer <ADMIN_TOKEN>`.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from backend.api.deps import ServiceDep
from backend.core.config import Settings
from backend.core.errors import Conflict, Invalid, NotFound, Unauthorized, Unavailable
from backend.flags import TransportFlag, change_flag
from backend.rollout.engine import RefusedError
from backend.rollout.plan import Plan, PlanError, load_plan
from backend.rollout.runner import Controller
from backend.rollout.settings import get_rollout_settings
from backend.rollout.store import StateStore
from backend.rollout.view import ACTIONS, decide, rollout_view

router = APIRouter(prefix="/api/admin", tags=["admin"])

ADMIN_ACTOR = "admin-api"


class FlagUpdate(BaseModel):
    enabled: bool | None = None
    percent: int | None = Field(None, ge=0, le=100, description="Share of players on websocket")
    reason: str = Field(..., max_length=500, description="Why; recorded in the audit log")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _flags(service: ServiceDep) -> TransportFlag:
    flags = service.flag
    if flags is None:
        raise Unavailable("the rollout flag is not running in this process")
    return flags


def require_admin(request: Request) -> None:
    """404 while the admin API is disabled, 401 without the right bearer token."""
    expected = _settings(request).admin_token
    if expected is None:
        raise NotFound("Not Found")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized("admin token missing or wrong")


AdminFlags = Annotated[TransportFlag, Depends(_flags)]
AdminSettings = Annotated[Settings, Depends(_settings)]


def _body(flags: TransportFlag, settings: Settings) -> dict[str, Any]:
    state = flags.state
    return {"enabled": state.enabled, "percent": state.percent, "kill_switch": settings.websocket_enabled}


@router.get("/flags", dependencies=[Depends(require_admin)])
def get_flags(flags: AdminFlags, settings: AdminSettings) -> dict[str, Any]:
    """The flag as this process applies it, and the WEBSOCKET_ENABLED kill switch."""
    return _body(flags, settings)


@router.put("/flags", dependencies=[Depends(require_admin)])
def put_flags(update: FlagUpdate, flags: AdminFlags, settings: AdminSettings) -> dict[str, Any]:
    """Change enabled and/or percent; returns the state written (running servers apply it within 2 s)."""
    if update.enabled is None and update.percent is None:
        raise Invalid("give enabled and/or percent")
    try:
        change = change_flag(
            flags.flags_file,
            settings.flags_audit_log,
            action="update",
            actor=ADMIN_ACTOR,
            reason=update.reason,
            enabled=update.enabled,
            percent=update.percent,
        )
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    return {
        "enabled": change.after.enabled and settings.websocket_enabled,
        "percent": change.after.percent,
        "kill_switch": settings.websocket_enabled,
    }


class RolloutCommand(BaseModel):
    reason: str = Field(..., min_length=1, max_length=500, description="Why; recorded in the audit log")
    actor: str = Field(..., min_length=1, max_length=64, description="Who; recorded as '<actor> (admin api)'")
    leave_flag: bool = Field(False, description="abort only: end the rollout but leave the flag as it is")


def _rollout_parts(settings: Settings) -> tuple[Plan, StateStore, str]:
    rollout = get_rollout_settings()
    try:
        plan = load_plan(rollout.plan_file).with_timing(
            interval=rollout.interval_seconds, hold=rollout.hold_seconds, warmup=rollout.warmup_seconds
        )
    except PlanError as exc:
        raise Unavailable(f"the rollout plan cannot be read: {exc}", "bad_plan") from exc
    return plan, StateStore(rollout.state_file), rollout.prometheus_url


@router.get("/rollout", dependencies=[Depends(require_admin)])
def get_rollout(settings: AdminSettings) -> dict[str, Any]:
    """The rollout as the release manager's page shows it: stages, percent, checks against their thresholds
    with their series since the stage began, hold left, and the decision history (backend.rollout.view)."""
    plan, store, prometheus_url = _rollout_parts(settings)
    try:
        return rollout_view(plan, store, settings.flags_file, settings.flags_audit_log, prometheus_url=prometheus_url)
    except ValueError as exc:  # a state file the plan no longer fits, an unreadable state
        raise Unavailable(str(exc), "bad_rollout_state") from exc


@router.post("/rollout/{action}", dependencies=[Depends(require_admin)])
def post_rollout(action: str, command: RolloutCommand, settings: AdminSettings) -> dict[str, Any]:
    """pause, resume, promote or abort, as `python -m backend.rollout ACTION` would (same lock, writer, audit)."""
    if action not in ACTIONS:
        raise NotFound(f"no rollout action {action!r}; one of {', '.join(ACTIONS)}")
    plan, store, _ = _rollout_parts(settings)
    controller = Controller(plan, store, settings.flags_file, settings.flags_audit_log)
    actor = f"{command.actor} (admin api)"
    try:
        decision, state = decide(plan, store, controller, action, actor, command.reason, leave_flag=command.leave_flag)
    except LookupError as exc:
        raise NotFound(str(exc.args[0]), "no_rollout") from exc
    except (RefusedError, ValueError) as exc:
        raise Conflict(f"cannot {action}: {exc}", "refused") from exc
    return {
        "decision": str(decision.kind),
        "reason": decision.reason,
        "phase": str(state.phase),
        "percent": state.percent,
    }

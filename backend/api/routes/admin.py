"""Admin API for the websocket-transport flag: read it, change it (same writer and audit log as the CLI).

Disabled (404) unless ADMIN_TOKEN is set; then every call needs `Authorization: Bearer <ADMIN_TOKEN>`.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from backend.api.deps import ServiceDep
from backend.core.config import Settings
from backend.core.errors import Invalid, NotFound, Unauthorized, Unavailable
from backend.flags import TransportFlag, change_flag

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

"""Run-time changes to who may use the socket: the rollout flag's flips and the test-only socket cut.

A flip that moves a connected player out of the WebSocket cohort tells them first (`config_changed`), then
closes with 4403 so the bridge switches to long-polling from its last event id: nothing is lost. Players
moved in learn it from the `transport` field of their next poll and open the socket themselves.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from backend.service import RoomService

log = logging.getLogger(__name__)

CLOSE_NOT_IN_COHORT = 4403
CLOSE_RESTART = 1012


def apply_transport_change(service: RoomService, reason: str) -> int:
    """Move every connected player now outside the cohort to polling; returns how many were moved."""
    moved = 0
    for conn in service.hub.connections():
        if service.transport_for(conn.player_id) == "websocket":
            continue
        service.hub.send(conn, "config_changed", {"transport": "polling", "reason": reason})
        conn.request_close(CLOSE_NOT_IN_COHORT, "moved to polling by the rollout flag", "moved_to_polling")
        moved += 1
    return moved


def cut_sockets(service: RoomService, code: int = CLOSE_RESTART) -> int:
    """Close every socket (drain and the test-only cut); clients reconnect and resume."""
    conns = list(service.hub.connections())
    for conn in conns:
        conn.request_close(code, "server restarting: reconnect", "server_restart")
    return len(conns)


async def attach_flag(app: FastAPI, service: RoomService) -> None:
    """Start the rollout flag and route its changes onto the event loop."""
    from backend.flags import TransportFlag

    settings = service.settings
    flag = TransportFlag(settings.flags_file, kill_switch=settings.websocket_enabled, metrics=service.metrics)
    try:
        await asyncio.to_thread(flag.start)
    except Exception:
        log.exception("rollout flag unavailable; every player gets the WebSocket transport")
        return
    loop = asyncio.get_running_loop()

    def on_change(state: object) -> None:
        loop.call_soon_threadsafe(apply_transport_change, service, "rollout flag changed")

    flag.add_listener(on_change)
    service.flag = flag
    app.state.flags = flag


async def detach_flag(app: FastAPI) -> None:
    flag = getattr(app.state, "flags", None)
    if flag is not None:
        await asyncio.to_thread(flag.stop)
        app.state.flags = None

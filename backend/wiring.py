"""Wiring above the service: the rollout flag is started here and its flips reach the sockets from here.

The service only asks `service.flag` which transport a player gets; this module (called from the app's
lifespan) starts the flag, hands it to the service, and on a flip moves the players now outside the WebSocket
cohort to polling: they are told first (`config_changed`), then closed with NOT_IN_COHORT, so the bridge switches to
long-polling from its last event id and nothing is lost. Players moved in learn it from the `transport` field
of their next poll and open the socket themselves.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from backend.realtime.protocol import CloseCode, DisconnectReason, FrameType, Transport
from backend.service import RoomService

log = logging.getLogger(__name__)


async def move_to_polling(service: RoomService, reason: str) -> int:
    """Move every connected player now outside the cohort to polling; returns how many were moved."""
    hub = service.hub
    # decided once: the flag can change again on its own thread while this runs
    movers = {id(c): c for c in hub.connections() if service.transport_for(c.player_id) != Transport.WEBSOCKET}
    for conn in movers.values():
        hub.send(conn, FrameType.CONFIG_CHANGED, {"transport": Transport.POLLING, "reason": reason})
    moved = await hub.close_all(
        CloseCode.NOT_IN_COHORT,
        "moved to polling by the rollout flag",
        where=lambda conn: id(conn) in movers,
        disconnect_reason=DisconnectReason.MOVED_TO_POLLING,
    )
    return len(moved)


def record_flag_change(service: RoomService) -> None:
    """Who made the change just picked up, and why: the audit log's newest record, onto the metric the
    dashboards annotate flag changes from (nothing when the log is elsewhere or unreadable)."""
    from backend.flags.audit import last_audit_record

    record = last_audit_record(service.settings.flags_audit_log)
    if record is None:
        return
    try:
        at = datetime.fromisoformat(str(record["ts"])).timestamp()
    except (KeyError, ValueError):
        return
    service.metrics.flag_changed(str(record.get("actor") or "unknown"), str(record.get("reason") or ""), at)


async def attach_flag(service: RoomService) -> None:
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

    def on_change(state: object) -> None:  # runs on the flag's thread
        record_flag_change(service)
        asyncio.run_coroutine_threadsafe(move_to_polling(service, "rollout flag changed"), loop)

    flag.add_listener(on_change)
    service.flag = flag


async def detach_flag(service: RoomService) -> None:
    flag, service.flag = service.flag, None
    if flag is not None:
        await asyncio.to_thread(flag.stop)

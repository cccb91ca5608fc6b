"""Closing this process's sockets of a room when a commit or a reset, made by any process, says they must go:
a removed player's sockets after the event that removed them, a vanished room's with 4404, a rewritten room's
with 1012 so their clients resume and resync.

Per process: the sockets are this process's (the hub's), and so are the resync tasks in flight; every process
hears every commit and reset from the store and closes its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from backend.core.errors import NotFound, Unavailable
from backend.game.events import StoredEvent
from backend.game.vocabulary import EventType
from backend.realtime.hub import Hub
from backend.realtime.protocol import CloseCode, DisconnectReason
from backend.store import Store


@dataclass(eq=False)
class RoomSockets:
    store: Store
    hub: Hub
    _resyncs: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.store.subscribe(self._on_commit)
        self.store.subscribe_resets(self._on_room_reset)

    def close(self, code: str, close: CloseCode, reason: str, why: str, player_id: str | None = None) -> int:
        """Ask this process's sockets of the room (or of one player in it) to close; returns how many."""
        closed = 0
        for conn in self.hub.connections(code):
            if player_id is None or conn.player_id == player_id:
                conn.request_close(int(close), reason, why)
                closed += 1
        return closed

    def _on_commit(self, code: str, events: list[StoredEvent]) -> None:
        """Every process sees every commit: a removed player's sockets close here too, after the event."""
        for event in events:
            if event.type == EventType.PLAYER_LEFT:
                self.close(
                    code,
                    CloseCode.AUTH,
                    "you are no longer in this room",
                    DisconnectReason.AUTH_FAILURE,
                    event.data["player_id"],
                )

    def _on_room_reset(self, code: str) -> None:
        """The store says this room's history changed under us (deleted elsewhere, or rewritten)."""
        if self.hub.rooms.get(code):
            task = asyncio.get_running_loop().create_task(self._resync_room(code), name=f"parlor-resync-{code}")
            self._resyncs.add(task)
            task.add_done_callback(self._resyncs.discard)
        self.hub.room_changed(code).set()  # long-polls re-read and find the room gone or the epoch changed

    async def _resync_room(self, code: str) -> None:
        """Close a reset room's sockets: 4404 when it is gone, else 1012 so clients resume (and resync)."""
        try:
            await self.store.read(code, lambda r: r.epoch)
        except NotFound:
            self.close(code, CloseCode.UNKNOWN_ROOM, "this room no longer exists", DisconnectReason.ROOM_GONE)
            return
        except Unavailable:
            pass  # cannot tell yet: a resume finds out (a gone room then answers 4404, a live one resyncs)
        self.close(code, CloseCode.RESTART, "room history reset: reconnect to resync", DisconnectReason.SERVER_RESTART)

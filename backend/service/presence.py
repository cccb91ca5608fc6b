"""Who is online: sockets and polls bring a player online and take them offline, through the room's state.

Whether a player is online is the room's (shared by every process, with the session that brought them online).
Per process: the polls this process has seen lately (`(room, player) -> (seen at, transport)`); a player who
polls one replica and then another is remembered by both until each one's poll expires, and each process counts
only its own pollers in `parlor_players_connected`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from backend.core.config import Settings
from backend.core.errors import NotFound
from backend.realtime.hub import Hub
from backend.realtime.protocol import Transport
from backend.service.commits import Commits
from backend.service.seats import Credentials


@dataclass(eq=False)
class Presence:
    settings: Settings
    hub: Hub
    commits: Commits
    clock: Callable[[], float]
    # (code, player) -> (seen at, transport)
    _pollers: dict[tuple[str, str], tuple[float, Transport]] = field(default_factory=dict, init=False)

    async def seen_polling(self, creds: Credentials, transport: Transport) -> None:
        """A poll or long-poll request keeps its player shown online.

        Not while the player's socket is open here: then the request is the page fetching a snapshot, and counting
        it as polling would keep a player who closes the tab online (the socket's close would be ignored as
        "still polling", and the poll's timeout would not match the socket's presence session), so no stand-in
        would ever take the seat.
        """
        if self.hub.is_connected(creds.room_code, creds.player_id):
            return
        self._pollers[(creds.room_code, creds.player_id)] = (time.monotonic(), transport)
        await self._set(creds.room_code, creds.player_id, True, f"{transport}:{creds.player_id}", weak=True)

    async def connected(self, creds: Credentials, session: str) -> None:
        await self._set(creds.room_code, creds.player_id, True, session)

    async def disconnected(self, creds: Credentials, session: str) -> None:
        """The socket closed: offline now, or, while the player still polls, presence passes to their polls.

        Handing it over matters: the poll's expiry takes the player offline only with the session that holds
        their presence, so a player who polled shortly before closing the tab would otherwise stay online for
        good (and no stand-in would ever take the seat).
        """
        if self.hub.is_connected(creds.room_code, creds.player_id):
            return
        key = (creds.room_code, creds.player_id)
        if self._polling_recently(*key):
            transport = self._pollers[key][1]
            await self._set(creds.room_code, creds.player_id, True, f"{transport}:{creds.player_id}")
            return
        await self._set(creds.room_code, creds.player_id, False, session)

    def forget(self, code: str, player_id: str) -> None:
        """The player left the room: their polls no longer count."""
        self._pollers.pop((code, player_id), None)

    async def expire_polls(self) -> None:
        """Take offline the pollers silent for PRESENCE_TIMEOUT_SECONDS (unless their socket is open here)."""
        mono = time.monotonic()
        for (code, player_id), (seen, transport) in list(self._pollers.items()):
            if mono - seen >= self.settings.presence_timeout_seconds:
                del self._pollers[(code, player_id)]
                if not self.hub.is_connected(code, player_id):
                    await self._set(code, player_id, False, f"{transport}:{player_id}")

    def polling(self) -> dict[Transport, int]:
        """How many players this process sees polling now, per transport (a player with a socket here is not)."""
        counts: dict[Transport, int] = {}
        mono = time.monotonic()
        for (code, player_id), (seen, transport) in self._pollers.items():
            recent = mono - seen < self.settings.presence_timeout_seconds
            if recent and not self.hub.is_connected(code, player_id):
                counts[transport] = counts.get(transport, 0) + 1
        return counts

    def _polling_recently(self, code: str, player_id: str) -> bool:
        seen = self._pollers.get((code, player_id))
        return seen is not None and time.monotonic() - seen[0] < self.settings.presence_timeout_seconds

    async def _set(
        self, code: str, player_id: str, online: bool, session: str | None = None, *, weak: bool = False
    ) -> None:
        """`weak` (a poll): bring an offline player online, never take them over from a live socket's session."""
        with contextlib.suppress(NotFound):
            await self.commits.mutate(
                code, lambda r: r.set_presence(player_id, online, self.clock(), session, weak=weak)
            )

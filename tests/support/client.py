"""A small real game client for tests: REST through httpx, events through a websockets connection."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets


@dataclass
class Seat:
    room_code: str
    player_id: str
    token: str
    transport: str = "websocket"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_room(http: httpx.AsyncClient, name: str) -> Seat:
    resp = await http.post("/api/rooms", json={"name": name})
    resp.raise_for_status()
    return Seat(**resp.json())


async def join_room(http: httpx.AsyncClient, code: str, name: str) -> Seat:
    resp = await http.post(f"/api/rooms/{code}/players", json={"name": name})
    resp.raise_for_status()
    return Seat(**resp.json())


async def act(
    http: httpx.AsyncClient, seat: Seat, path: str, body: dict[str, Any] | None = None, method: str = "POST"
) -> httpx.Response:
    return await http.request(method, f"/api/rooms/{seat.room_code}/{path}", json=body, headers=seat.auth)


@dataclass
class WsPlayer:
    """One socket of one player; collects every frame it receives, in order, and checks each event's `prev`.

    An event frame's `prev` must be the last id this player holds (the previous event of its view of the log),
    or below it right after a snapshot (which can end on another player's private event). Anything else is
    recorded in `chain_breaks` as (held, id, prev): a hole the server left (prev above) or a broken link."""

    base_ws: str
    seat: Seat
    frames: list[dict[str, Any]] = field(default_factory=list)
    conn: Any = None
    close_code: int | None = None
    close_reasons: list[str] = field(default_factory=list)
    chain_breaks: list[tuple[int, int, int]] = field(default_factory=list)
    _held: int | None = None
    _after_snapshot: bool = False
    _reader: asyncio.Task[None] | None = None
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(
        self, last_event_id: int | None = None, wait_welcome: bool = True, epoch: str | None = None
    ) -> dict[str, Any]:
        self.conn = await websockets.connect(f"{self.base_ws}/ws/{self.seat.room_code}", max_size=2**22)
        # what this connection resumes from: the first event's prev is at most that (below it when the id was a
        # snapshot's, which may be another player's private event)
        self._held, self._after_snapshot = last_event_id, True
        await self.conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "player_id": self.seat.player_id,
                    "token": self.seat.token,
                    "last_event_id": last_event_id,
                    "epoch": epoch,
                }
            )
        )
        start = len(self.frames)
        self.close_code = None
        self._reader = asyncio.create_task(self._read())
        if wait_welcome:
            return await self.wait_for(lambda f: f["type"] == "welcome", since=start)
        return {}

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                frame = json.loads(raw)
                frame["_rx"] = time.time()
                self._check_chain(frame)
                self.frames.append(frame)
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.conn.close_code
            self.close_reasons.append(self.conn.close_reason or "")
            self._new.set()

    def _check_chain(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "snapshot":
            self._held, self._after_snapshot = frame["data"]["last_event_id"], True
            return
        event_id, prev = frame.get("id"), frame.get("prev")
        if event_id is None:
            return
        held = self._held if self._held is not None else 0
        linked = prev is None or prev == held or (prev < held and self._after_snapshot)
        if event_id > held and not linked:
            self.chain_breaks.append((held, event_id, prev))
        self._held, self._after_snapshot = max(held, event_id), False

    async def wait_for(self, pred: Any, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.frames[since:]:
                if pred(frame):
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                types = [f["type"] for f in self.frames[-15:]]
                closed = "" if self.close_code is None else f"; socket closed with {self.close_code}"
                raise TimeoutError(f"no matching frame within {timeout} s; last frames: {types}{closed}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return self.close_code

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        if self._reader is not None:
            await self._reader

    def events(self) -> list[dict[str, Any]]:
        """Frames that carry a room event id (the log), in arrival order."""
        return [f for f in self.frames if f.get("id") is not None]

    @property
    def last_event_id(self) -> int | None:
        ids = [f["id"] for f in self.frames if f.get("id") is not None]
        snaps = [f["data"]["last_event_id"] for f in self.frames if f["type"] == "snapshot"]
        return max(ids + snaps) if ids or snaps else None

"""The process's live connections and the fan-out from committed events to them.

Each socket gets its own bounded queue and writer task, so a slow player never stalls a room: when the
queue is full the connection is cut (it resumes from its last id when it comes back). A public frame is
serialised once per event (once per distinct `prev`, which differs only right after private events), not
once per recipient. Long-poll requests wait on a per-room `asyncio.Event` that each commit sets.

Every event frame names the event before it in its player's view (`prev`), and each connection keeps the last
id it sent: an event at or below it is a duplicate (the replay sent it already) and is dropped; an event whose
`prev` is above it would leave a hole the client cannot fill by itself, so it is never sent: the connection
closes with RESTART and the client resumes from its last id, which replays the missing events from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from backend.game.events import StoredEvent
from backend.metrics import Metrics
from backend.realtime.direct import DirectWriter, text_frame
from backend.realtime.protocol import CloseCode, DisconnectReason, Transport, dumps, event_frame, frame

log = logging.getLogger(__name__)

# Spread-out closes are released in ticks this long rather than one timer per socket.
CLOSE_TICK_SECONDS = 0.05


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = CloseCode.NORMAL, reason: str | None = None) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    text: str
    type: str
    event_id: int | None = None
    committed_at: float | None = None
    prev: int | None = None  # the event before this one for its recipient (None: not known, no check)


@dataclass
class Connection:
    """One authenticated socket of one player."""

    socket: Socket
    code: str
    player_id: str
    queue: asyncio.Queue[Outgoing | None]
    last_id: int = 0
    close_code: int | None = None
    close_reason: str = ""
    disconnect_reason: str = DisconnectReason.CLIENT_CLOSE
    peer_close_code: int | None = None  # the code of the client's close frame, for the log line
    opened: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    writer: asyncio.Task[None] | None = None
    pending: list[Outgoing] | None = None  # not None while the resume replay is being queued
    session: str = field(default_factory=lambda: "ws:" + secrets.token_hex(6))
    direct: DirectWriter | None = None  # the synchronous write path, when the server offers one
    idle: bool = False  # the writer waits on an empty queue: nothing of this socket is in flight

    def offer(self, item: Outgoing) -> bool:
        """Queue a live event; during a resume it is held back until the replay is queued."""
        if self.pending is not None:
            self.pending.append(item)
            return len(self.pending) <= self.queue.maxsize
        return self.enqueue(item)

    def enqueue(self, item: Outgoing) -> bool:
        """Queue directly, ahead of held-back live events (welcome, replay, snapshot, control frames)."""
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    def request_close(self, code: int, reason: str, disconnect_reason: str) -> None:
        """Ask the writer to close after what is already queued; a second request never overrides the first."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason, self.disconnect_reason = code, reason, disconnect_reason
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        if self.queue.full():
            # no room for the close marker: the writer is hopelessly behind, stop it now
            self.abort()

    def abort(self) -> None:
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()


class _Framed:
    """One event's frame for one `prev`: its text, and (built on first use) its queue items and direct-write bytes.

    At one event per room per second almost every socket is idle and takes the bytes; the queue items exist
    only for the few that are not."""

    __slots__ = ("_item", "_timed", "_wire", "event", "prev", "text")

    def __init__(self, event: StoredEvent, prev: int | None) -> None:
        self.event, self.prev = event, prev
        self.text = dumps(frame(event.type, event.data, id_=event.id, ts=event.ts, prev=prev))
        self._item: Outgoing | None = None
        self._timed: Outgoing | None = None
        self._wire: bytes | None = None

    def item(self, timed: bool) -> Outgoing:
        """The queue item; `timed` (the fan-out's last socket) carries the commit time for the latency histogram."""
        if timed:
            if self._timed is None:
                e = self.event
                self._timed = Outgoing(self.text, e.type, e.id, e.ts, self.prev)
            return self._timed
        if self._item is None:
            self._item = Outgoing(self.text, self.event.type, self.event.id, None, self.prev)
        return self._item

    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.text)
        return self._wire


class Hub:
    def __init__(self, metrics: Metrics, *, queue_size: int = 256) -> None:
        self.metrics = metrics
        self.queue_size = queue_size
        self.rooms: dict[str, dict[str, Connection]] = {}
        self.pending = 0  # accepted sockets still waiting for hello (they count toward MAX_CONNECTIONS)
        self._room_events: dict[str, asyncio.Event] = {}
        self._sent_counters: dict[str, Any] = {}  # label lookups cost more than the increment
        self._sent: dict[str, int] = {}  # frames written by type since the last flush_metrics()
        self._sent_bytes = 0

    # ---- registration ----------------------------------------------------------------------------------

    def new_connection(
        self, socket: Socket, code: str, player_id: str, direct: DirectWriter | None = None
    ) -> Connection:
        return Connection(socket, code, player_id, asyncio.Queue(self.queue_size), direct=direct)

    def register(self, conn: Connection) -> Connection | None:
        """Add a connection; returns the older connection of the same player it replaces, if any."""
        room = self.rooms.setdefault(conn.code, {})
        previous = room.get(conn.player_id)
        room[conn.player_id] = conn
        conn.writer = asyncio.create_task(self._write(conn), name=f"ws-writer-{conn.code}")
        self.metrics.ws_connections_active.inc()
        return previous

    def unregister(self, conn: Connection) -> bool:
        """Remove a connection; True when it was the player's current one (not already replaced)."""
        self.metrics.ws_connections_active.dec()
        conn.abort()
        room = self.rooms.get(conn.code)
        if room is None or room.get(conn.player_id) is not conn:
            return False
        del room[conn.player_id]
        if not room:
            del self.rooms[conn.code]
        return True

    def connection_count(self) -> int:
        return sum(len(room) for room in self.rooms.values())

    def connections(self, code: str | None = None) -> Iterable[Connection]:
        if code is not None:
            return list(self.rooms.get(code, {}).values())
        return [c for room in self.rooms.values() for c in room.values()]

    def is_connected(self, code: str, player_id: str) -> bool:
        return player_id in self.rooms.get(code, {})

    async def close_all(
        self,
        code: CloseCode,
        reason: str,
        *,
        spread: float = 0.0,
        where: Callable[[Connection], bool] | None = None,
        disconnect_reason: str = DisconnectReason.SERVER_RESTART,
    ) -> list[Connection]:
        """Close every connection (or those `where` picks) after what is queued; returns them.

        With `spread`, connection i of n closes at i/n of that many seconds, so the clients' reconnects (drain,
        restart) reach the other processes as a stream rather than a stampede."""
        conns = [conn for conn in self.connections() if where is None or where(conn)]
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, conn in enumerate(conns):
            due = start + spread * i / len(conns)
            if due - loop.time() >= CLOSE_TICK_SECONDS:
                await asyncio.sleep(due - loop.time())
            conn.request_close(code, reason, disconnect_reason)
        return conns

    @staticmethod
    async def flush(conns: list[Connection], grace: float) -> None:
        """Give closed connections up to `grace` seconds to write their last frames and the close handshake."""
        writers = [conn.writer for conn in conns if conn.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=grace)

    # ---- fan-out ---------------------------------------------------------------------------------------

    def publish(self, code: str, events: list[StoredEvent]) -> None:
        """Store listener: queue each committed event to every connection allowed to see it."""
        room = self.rooms.get(code)
        if room:
            for event in events:
                if event.to is not None:
                    conn = room.get(event.to)
                    targets = [conn] if conn is not None else []
                else:
                    targets = list(room.values())
                if targets:
                    self._fan_out(event, targets)
        waiter = self._room_events.pop(code, None)
        if waiter is not None:
            waiter.set()

    def _fan_out(self, event: StoredEvent, targets: list[Connection]) -> None:
        # the commit-to-write latency is observed once per event, on the last socket queued (the room's slowest
        # write), not once per recipient: a histogram observation costs more than a send
        base, others = event.prev, event.prevs
        shared = _Framed(event, base)
        variants: dict[int, _Framed] = {}  # prev -> frame, for the few players right after a private event
        last = targets[-1]
        written = nbytes = 0
        for conn in targets:
            if conn.close_code is not None:
                continue
            prev = base if others is None else others.get(conn.player_id, base)
            framed = shared
            if prev != base and prev is not None:
                framed = variants.get(prev) or variants.setdefault(prev, _Framed(event, prev))
            if conn.idle and conn.direct is not None and conn.pending is None and conn.queue.empty():
                # nothing of this socket in flight: write now rather than wake its writer
                if event.id <= conn.last_id:
                    continue
                if prev is not None and prev > conn.last_id:
                    self._missed(conn)
                    continue
                if conn.direct.write(framed.wire()):
                    conn.last_id = event.id
                    written += 1
                    nbytes += len(framed.text)
                    if conn is last:
                        self.metrics.fanout_latency.observe(max(0.0, time.time() - event.ts))
                    continue
            if not conn.offer(framed.item(conn is last)):
                self._overflow(conn)
        if written:
            self._sent[event.type] = self._sent.get(event.type, 0) + written
            self._sent_bytes += nbytes

    async def replay(self, conn: Connection, events: list[StoredEvent]) -> None:
        """Queue a resume replay, waiting for the writer when it is longer than the queue (up to the whole log)."""
        for event in events:
            if conn.close_code is not None:
                return
            prev = event.prev_for(conn.player_id)
            item = Outgoing(dumps(event_frame(event, conn.player_id)), event.type, event.id, event.ts, prev)
            await conn.queue.put(item)

    def go_live(self, conn: Connection) -> None:
        """Release the live events held back during the replay, in order, then stream directly.

        They are sorted by id: while a room's subscription is being set up here, a local commit can reach the hub
        before an earlier one from another process (see `RoomFeeds.deliver`); the replay holds both, and in id
        order neither looks like a hole."""
        held, conn.pending = conn.pending or [], None
        held.sort(key=lambda item: item.event_id or 0)
        for item in held:
            if not conn.enqueue(item):
                self._overflow(conn)
                return

    def _missed(self, conn: Connection, *, in_writer: bool = False) -> None:
        """An event's `prev` is above what this socket was sent: a hole. Never send past it; resume instead."""
        self.metrics.ws_missed_events.inc()
        log.warning(
            "socket %s/%s: an event after id %s never reached it; closing so it resumes",
            conn.code,
            conn.player_id,
            conn.last_id,
        )
        reason = "missed an event: reconnect and resume"
        if not in_writer:
            conn.request_close(CloseCode.RESTART, reason, DisconnectReason.MISSED_EVENT)
        elif conn.close_code is None:  # the writer stops right after this and closes: no marker, no abort
            conn.close_code, conn.close_reason, conn.disconnect_reason = (
                CloseCode.RESTART,
                reason,
                DisconnectReason.MISSED_EVENT,
            )

    def _overflow(self, conn: Connection) -> None:
        self.metrics.send_queue_overflows.inc()
        conn.request_close(CloseCode.TRY_LATER, "send queue full: reconnect and resume", DisconnectReason.SLOW_CONSUMER)

    def send(self, conn: Connection, frame_type: str, data: Any) -> None:
        """Send a control frame (welcome, snapshot, ack, pong, error) to one connection after what it has queued.

        An idle socket with a direct writer and nothing queued takes it now, as a live event would: an `ack` or a
        `pong` then costs one transport write instead of waking the writer task and Starlette's and uvicorn's send
        chain. Otherwise (a busy or resuming socket, a close requested, another server) it is queued as before."""
        text = dumps(frame(frame_type, data))
        direct = conn.direct
        if (
            direct is not None
            and conn.idle
            and conn.pending is None
            and conn.close_code is None
            and conn.queue.empty()
            and direct.write(text_frame(text))
        ):
            self._sent[frame_type] = self._sent.get(frame_type, 0) + 1
            self._sent_bytes += len(text)
            return
        if not conn.enqueue(Outgoing(text, frame_type)):
            self._overflow(conn)

    def room_changed(self, code: str) -> asyncio.Event:
        """An event set at the next commit in this room (long-poll wake-up)."""
        waiter = self._room_events.get(code)
        if waiter is None:
            waiter = self._room_events[code] = asyncio.Event()
        return waiter

    def flush_metrics(self) -> None:
        """Fold the frames and bytes written since the last call into the Prometheus counters (at each scrape).

        Writers count in plain ints: three labelled counter increments per frame cost more than the send."""
        sent, self._sent = self._sent, {}
        frames = 0
        for frame_type, n in sent.items():
            counter = self._sent_counters.get(frame_type)
            if counter is None:
                counter = self._sent_counters[frame_type] = self.metrics.ws_frames_sent.labels(frame_type)
            counter.inc(n)
            frames += n
        if frames:
            self.metrics.transport_messages.labels(Transport.WEBSOCKET, "out").inc(frames)
        nbytes, self._sent_bytes = self._sent_bytes, 0
        if nbytes:
            self.metrics.ws_bytes_sent.inc(nbytes)

    async def _write(self, conn: Connection) -> None:
        latency = self.metrics.fanout_latency
        try:
            while True:
                conn.idle = True
                item = await conn.queue.get()
                conn.idle = False
                if item is None:
                    break
                if item.event_id is not None:
                    if item.event_id <= conn.last_id:
                        continue  # already delivered by the resume replay
                    if item.prev is not None and item.prev > conn.last_id:
                        self._missed(conn, in_writer=True)  # nothing after a hole may go out
                        break
                    conn.last_id = item.event_id
                await conn.socket.send_text(item.text)
                if item.committed_at is not None:
                    latency.observe(max(0.0, time.time() - item.committed_at))
                sent = self._sent
                sent[item.type] = sent.get(item.type, 0) + 1
                self._sent_bytes += len(item.text)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # the socket died under us; the reader side reports the disconnect
            log.debug("writer for %s/%s stopped: %r", conn.code, conn.player_id, exc)
            return
        if conn.close_code is not None:
            with contextlib.suppress(Exception):
                await conn.socket.close(conn.close_code, conn.close_reason)

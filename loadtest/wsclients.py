"""A lean asyncio WebSocket subscriber fleet, spread over worker processes, that timestamps every pushed event.

Each worker process holds a slice of the connections (one `websockets` connection and one `async for` receive
loop each), waits for the go-ahead, records `receipt time - frame ts` and the frame's `ts` for every frame of the
measured type (so a run can be cut into a warm-up and a measured window by server commit time), and reports back
through a multiprocessing queue. Workers can be pinned to CPUs of their own, away from the server's.
Three wire protocols share the code:

* `parlor` and `floor`: JSON text frames `{"id","type","ts","data"}`; `hello` is the first frame sent.
* `socketio`: Engine.IO 4 over a plain WebSocket (`0` open, `40` namespace connect, `42[...]` events,
  `2`/`3` ping/pong), so every server is driven by the same client library and the same loop.

`Speakers` is the same connection in the driver's process, one per room, that also publishes the room's events
and waits for each one's ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import multiprocessing as mp
import os
import queue
import random
import time
from array import array
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets

from loadtest.serve import raise_nofile

MEASURED = "clue_posted"


@dataclass(frozen=True)
class Sub:
    """One subscriber connection: where it connects and what it sends first."""

    path: str
    room: str
    hello: str | None = None


@dataclass
class WorkerReport:
    connected: int = 0
    failed: int = 0
    retries: int = 0
    delivered: int = 0
    other_frames: int = 0
    lost: int = 0  # connections closed by the server (or the network) before the run ended
    holes: int = 0  # event frames whose `prev` was above the last id the connection held (a missing event)
    close_codes: dict[int, int] = field(default_factory=dict)
    latencies: bytes = b""  # array('d') of seconds
    stamps: bytes = b""  # array('d'): each measured frame's `ts` (server clock at commit), in the same order
    errors: list[str] = field(default_factory=list)


class _Fleet:
    def __init__(self, base: str, protocol: str, ping_every: float, deflate: bool) -> None:
        self.base, self.protocol, self.ping_every = base, protocol, ping_every
        self.compression: str | None = "deflate" if deflate else None
        self.report = WorkerReport()
        self.lat = array("d")
        self.stamps = array("d")
        self.conns: list[Any] = []
        self.stopping = False

    async def connect(self, sub: Sub, sem: asyncio.Semaphore) -> Any | None:
        """Open `sub`'s connection past its welcome (retrying), start its receive loop; None when it failed."""
        for attempt in range(4):
            async with sem:
                try:
                    ws = await websockets.connect(
                        self.base + sub.path,
                        max_size=2**20,
                        open_timeout=60,
                        ping_interval=None,
                        close_timeout=1,
                        compression=self.compression,
                    )
                    welcome = await self._handshake(ws, sub)
                    if not welcome:
                        raise ConnectionError("no welcome")
                except (OSError, TimeoutError, websockets.WebSocketException, ConnectionError) as exc:
                    if attempt == 3:
                        self.report.failed += 1
                        if len(self.report.errors) < 5:
                            self.report.errors.append(repr(exc))
                        return None
                    self.report.retries += 1
                    await asyncio.sleep(0.5 * (attempt + 1) * random.random())
                    continue
            self.report.connected += 1
            self.conns.append(ws)
            asyncio.get_running_loop().create_task(self._receive(ws))
            return ws
        return None

    async def _handshake(self, ws: Any, sub: Sub) -> bool:
        if self.protocol == "socketio":
            opened = await asyncio.wait_for(ws.recv(), 30)
            if not str(opened).startswith("0"):
                return False
            await ws.send("40")
            ack = await asyncio.wait_for(ws.recv(), 30)
            if not str(ack).startswith("40"):
                return False
            await ws.send("42" + json.dumps(["join", {"room": sub.room}]))
        elif sub.hello is not None:
            await ws.send(sub.hello)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = self._decode(await asyncio.wait_for(ws.recv(), 30))
            if frame is not None and frame.get("type") == "welcome":
                return True
        return False

    def _decode(self, raw: str | bytes) -> dict[str, Any] | None:
        if self.protocol == "socketio":
            text = raw if isinstance(raw, str) else raw.decode()
            if not text.startswith("42"):
                return None
            payload = json.loads(text[2:])
            return payload[1] if len(payload) > 1 and isinstance(payload[1], dict) else None
        frame = json.loads(raw)
        return frame if isinstance(frame, dict) else None

    async def _receive(self, ws: Any) -> None:
        lat, stamps, report, socketio = self.lat, self.stamps, self.report, self.protocol == "socketio"
        held: int | None = None  # the last event id this connection holds (Parlor frames link to it by `prev`)
        try:
            async for raw in ws:
                rx = time.time()
                if socketio and raw == "2":
                    await ws.send("3")
                    continue
                frame = self._decode(raw)
                if frame is not None and not socketio:
                    held = self._follow(frame, held)
                if frame is not None and frame.get("type") == MEASURED:
                    lat.append(rx - frame["ts"])
                    stamps.append(frame["ts"])
                    report.delivered += 1
                else:
                    report.other_frames += 1
                    self.other(raw, frame)
        except websockets.ConnectionClosed:
            pass
        if not self.stopping:
            report.lost += 1
            code = ws.close_code or 0
            report.close_codes[code] = report.close_codes.get(code, 0) + 1
            if len(report.errors) < 5:
                report.errors.append(f"closed {code} {ws.close_reason!r} at {time.time():.1f}")

    def _follow(self, frame: dict[str, Any], held: int | None) -> int | None:
        """Check an event frame's `prev` against the last id held; returns the new last id."""
        if frame.get("type") == "snapshot":
            return int(frame["data"]["last_event_id"])
        event_id, prev = frame.get("id"), frame.get("prev")
        if not isinstance(event_id, int):
            return held
        if held is not None and isinstance(prev, int) and prev > held:
            self.report.holes += 1
        return event_id if held is None else max(held, event_id)

    def other(self, raw: str | bytes, frame: dict[str, Any] | None) -> None:
        """A frame that is not the measured event; subscribers only count it."""

    async def pinger(self) -> None:
        """Parlor's app-level heartbeat: every connection pings once per `ping_every`, spread evenly."""
        while True:
            conns = list(self.conns)
            step = self.ping_every / max(1, len(conns))
            for ws in conns:
                with contextlib.suppress(websockets.WebSocketException):
                    await ws.send(json.dumps({"type": "ping", "t": time.time()}))
                await asyncio.sleep(step)


async def _run_worker(
    base: str, subs: Sequence[Sub], protocol: str, ping_every: float, deflate: bool, out: Any, stop: Any
) -> None:
    fleet = _Fleet(base, protocol, ping_every, deflate)
    sem = asyncio.Semaphore(64)
    await asyncio.gather(*(fleet.connect(s, sem) for s in subs))
    # the sockets live for the whole run: keep the collector from rescanning them, so client GC pauses do not
    # show up as server latency
    gc.freeze()
    out.put(("ready", fleet.report.connected, fleet.report.failed))
    pinger = asyncio.create_task(fleet.pinger()) if ping_every > 0 and protocol == "parlor" else None
    loop = asyncio.get_running_loop()
    while not await loop.run_in_executor(None, stop.wait, 0.2):
        pass
    fleet.stopping = True
    if pinger is not None:
        pinger.cancel()
    fleet.report.latencies = fleet.lat.tobytes()
    fleet.report.stamps = fleet.stamps.tobytes()
    out.put(("done", fleet.report))
    for ws in fleet.conns:
        ws.transport.abort()


def _worker_main(
    base: str,
    subs: Sequence[Sub],
    protocol: str,
    ping_every: float,
    deflate: bool,
    out: Any,
    stop: Any,
    cpus: frozenset[int] | None = None,
) -> None:
    raise_nofile()
    if cpus:
        os.sched_setaffinity(0, cpus)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    asyncio.run(_run_worker(base, subs, protocol, ping_every, deflate, out, stop))


@dataclass
class FleetResult:
    connected: int = 0
    failed: int = 0
    retries: int = 0
    delivered: int = 0
    lost: int = 0
    holes: int = 0
    close_codes: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)  # each latency's frame `ts`
    errors: list[str] = field(default_factory=list)

    def window(self, start: float, end: float) -> list[float]:
        """The latencies of the frames committed (server `ts`) from `start` to `end`, epoch seconds."""
        return [lat for lat, ts in zip(self.latencies, self.stamps, strict=True) if start <= ts <= end]

    def add(self, report: WorkerReport) -> None:
        """Count one worker's (or the speakers') connections and frames in."""
        self.connected += report.connected
        self.failed += report.failed
        self.retries += report.retries
        self.delivered += report.delivered
        self.lost += report.lost
        self.holes += report.holes
        for code, n in report.close_codes.items():
            self.close_codes[code] = self.close_codes.get(code, 0) + n
        lat = array("d")
        lat.frombytes(report.latencies)
        self.latencies.extend(lat)
        stamps = array("d")
        stamps.frombytes(report.stamps)
        self.stamps.extend(stamps)
        self.errors.extend(report.errors)


class Fleet:
    """Subscriber connections spread over `procs` worker processes; a context manager around their life."""

    def __init__(
        self,
        base_ws: str,
        subs: Sequence[Sub],
        protocol: str,
        procs: int = 1,
        ping_every: float = 0,
        deflate: bool = True,
        cpus: frozenset[int] | None = None,
    ) -> None:
        """`cpus`: pin the worker processes there (the load tests keep them off the server's CPU)."""
        ctx = mp.get_context("spawn")
        self._out: Any = ctx.Queue()
        self._stop = ctx.Event()
        self.total = len(subs)
        slices = [list(subs[i::procs]) for i in range(procs)]
        self._procs = [
            ctx.Process(
                target=_worker_main,
                args=(base_ws, s, protocol, ping_every, deflate, self._out, self._stop, cpus),
                daemon=True,
            )
            for s in slices
            if s
        ]

    def __enter__(self) -> Fleet:
        for proc in self._procs:
            proc.start()
        return self

    def wait_ready(self, timeout: float = 300) -> tuple[int, int]:
        connected = failed = 0
        for _ in self._procs:
            kind, ok, bad = self._out.get(timeout=timeout)
            assert kind == "ready"
            connected, failed = connected + ok, failed + bad
        return connected, failed

    def finish(self, timeout: float = 120) -> FleetResult:
        self._stop.set()
        result = FleetResult()
        for _ in self._procs:
            try:
                kind, report = self._out.get(timeout=timeout)
            except queue.Empty:
                result.errors.append("a worker did not report")
                continue
            assert kind == "done"
            result.add(report)
        return result

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for proc in self._procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


class Speakers(_Fleet):
    """One connection per room, held by the driver, that publishes the room's events and is one of its members.

    Every server takes its events the way its own clients send them, over a socket they already hold: Parlor's
    `command` frame, a Socket.IO `publish` event asking for an ack, the floor's JSON message; each server answers
    every event with an ack naming it (Parlor: an `error` naming it when refused). A speaker receives its own
    room's event like any member: those frames are timed and counted as the fleet's are, so every server has
    the same recipients per event and the same publishers.
    """

    def __init__(self, base: str, subs: Sequence[Sub], protocol: str, deflate: bool = True) -> None:
        super().__init__(base, protocol, 0, deflate)
        self.subs = list(subs)
        self.sockets: list[Any] = []
        self.waiting: dict[str, asyncio.Future[bool]] = {}
        self.acks = self.refused = 0
        self.ack_numbers = itertools.count()

    async def open(self) -> None:
        """Connect every speaker past its welcome; a speaker that cannot connect ends the run."""
        sem = asyncio.Semaphore(64)
        self.sockets = list(await asyncio.gather(*(self.connect(s, sem) for s in self.subs)))
        if self.report.failed:
            raise ConnectionError(f"{self.report.failed} of {len(self.subs)} speakers failed: {self.report.errors}")

    def _encode(self, room: str, key: str, body: dict[str, Any]) -> str:
        if self.protocol == "parlor":
            return json.dumps({"type": "command", "id": key, "name": "clue", "data": body})
        if self.protocol == "socketio":
            return f"42{next(self.ack_numbers)}" + json.dumps(["publish", {"room": room, "id": key, **body}])
        return json.dumps({"room": room, "id": key, **body})

    async def publish(self, i: int, key: str, body: dict[str, Any], timeout: float = 30) -> bool:
        """Room `i`'s speaker sends one event (`key` unique); True once acked, False when the server refused it."""
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        try:
            await self.sockets[i].send(self._encode(self.subs[i].room, key, body))
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(key, None)

    def other(self, raw: str | bytes, frame: dict[str, Any] | None) -> None:
        if self.protocol == "socketio":
            text = raw if isinstance(raw, str) else raw.decode()
            if not text.startswith("43"):
                return
            payload = json.loads(text[2:].lstrip("0123456789"))
            frame = {"type": "ack", "data": payload[0] if payload and isinstance(payload[0], dict) else {}}
        if frame is None or frame.get("type") not in ("ack", "error"):
            return
        data = frame.get("data") or {}
        acked = frame["type"] == "ack"
        if acked:
            self.acks += 1
        else:
            self.refused += 1
            if len(self.report.errors) < 5:
                self.report.errors.append(f"refused: {data}")
        future = self.waiting.get(data.get("command", ""))
        if future is not None and not future.done():
            future.set_result(acked)

    def close(self) -> WorkerReport:
        """Stop listening; the speakers' connections and received frames, to add to the fleet's."""
        self.stopping = True
        for ws in self.conns:
            ws.transport.abort()
        self.report.latencies = self.lat.tobytes()
        self.report.stamps = self.stamps.tobytes()
        return self.report


async def drive(
    publish: Callable[[int, int], Coroutine[Any, Any, bool]], rooms: int, seconds: float, first: int = 0
) -> tuple[int, int]:
    """One event per room per second, spread evenly over the second; returns (accepted, failed) publishes.

    `publish(room, k)` gets the room's event number `k`, counted from `first` (a second drive after a warm-up
    goes on numbering where the first stopped, so every event keeps a key of its own)."""
    total = int(rooms * seconds)
    start = time.monotonic() + 0.05
    ok = failed = 0
    pending: set[asyncio.Task[bool]] = set()
    # at most this many requests in flight: when the machine falls behind, a backlog handed to httpx's pool
    # all at once makes the driver itself the bottleneck (its pool scans every queued request per step)
    in_flight = asyncio.Semaphore(64)

    async def bounded(i: int, k: int) -> bool:
        async with in_flight:
            return await publish(i, k)

    def done(task: asyncio.Task[bool]) -> None:
        nonlocal ok, failed
        pending.discard(task)
        if not task.cancelled() and task.exception() is None and task.result():
            ok += 1
        else:
            failed += 1

    for k in range(total):
        delay = start + k / rooms - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(bounded(k % rooms, first + k // rooms))
        pending.add(task)
        task.add_done_callback(done)
    while pending:
        await asyncio.sleep(0.05)
    return ok, failed

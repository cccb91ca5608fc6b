"""Fan-out latency of the Parlor backend: N rooms x 10 WebSocket players, one clue per room per second.

A fresh backend (CLUE_INTERVAL_SECONDS=0, MAX_CLUES_PER_ROUND=100000) holds N started rooms in a 600 s
discussion. Worker processes hold the players' sockets (`loadtest.wsclients`); a driver in this process posts
one clue per room per second over REST, spread evenly over the second and rotating among the room's players.
Every delivered `clue_posted` frame is timed from its `ts` (server epoch at commit) to its receipt.

    python -m loadtest.fanout --rooms 100 --seconds 30       # prints figures, writes section "fanout"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import uvloop

from launchers.process import Server
from loadtest.harness import CpuMeter, parlor_server, pin, process_of, rss
from loadtest.heap import HeapProbe, HeapState, probed
from loadtest.report import REPORT, machine_line, percentile, update_section
from loadtest.wsclients import Fleet, FleetResult, Speakers, Sub, drive

INGEST_REST = "REST clue (POST /api/rooms/{code}/clues)"

# below uvicorn's 5 s keep-alive timeout, so the driver never reuses a connection the server is closing (ReadError)
KEEPALIVE_EXPIRY = 2.0

FANOUT_ENV = {
    "CLUE_INTERVAL_SECONDS": "0",
    "MAX_CLUES_PER_ROUND": "100000",
    "MAX_ROOMS": "5000",
    "MAX_CONNECTIONS": "20000",
}


@dataclass(frozen=True)
class Seat:
    room: str
    player_id: str
    token: str

    def hello(self, last_event_id: int | None) -> str:
        return json.dumps(
            {"type": "hello", "player_id": self.player_id, "token": self.token, "last_event_id": last_event_id}
        )


async def _seat_room(http: httpx.AsyncClient, players: int, start: bool) -> tuple[list[Seat], int]:
    """Create a room with `players` humans; when `start`, begin a game in a 600 s discussion."""
    resp = await http.post("/api/rooms", json={"name": "Host"})
    resp.raise_for_status()
    host = resp.json()
    code = host["room_code"]
    seats = [Seat(code, host["player_id"], host["token"])]
    for n in range(1, players):
        resp = await http.post(f"/api/rooms/{code}/players", json={"name": f"Player {n}"})
        resp.raise_for_status()
        seats.append(Seat(code, resp.json()["player_id"], resp.json()["token"]))
    auth = {"Authorization": f"Bearer {host['token']}"}
    last = 0
    if start:
        resp = await http.patch(f"/api/rooms/{code}/settings", json={"discussion_seconds": 600}, headers=auth)
        resp.raise_for_status()
        resp = await http.post(f"/api/rooms/{code}/start", headers=auth)
        resp.raise_for_status()
        last = resp.json()["last_event_id"]
    return seats, last


async def seat_rooms(url: str, rooms: int, players: int, start: bool) -> list[tuple[list[Seat], int]]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32, keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        sem = asyncio.Semaphore(32)

        async def one() -> tuple[list[Seat], int]:
            async with sem:
                return await _seat_room(http, players, start)

        return list(await asyncio.gather(*(one() for _ in range(rooms))))


def parlor_subs(rooms: Sequence[tuple[list[Seat], int]]) -> list[Sub]:
    return [Sub(f"/ws/{s.room}", s.room, s.hello(last)) for seats, last in rooms for s in seats]


async def drive_parlor(
    url: str, rooms: Sequence[tuple[list[Seat], int]], seconds: float, first: int = 0
) -> tuple[int, int]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:

        async def publish(i: int, k: int) -> bool:
            seats = rooms[i][0]
            seat = seats[k % len(seats)]
            resp = await http.post(
                f"/api/rooms/{seat.room}/clues",
                json={"text": f"zq{k}"},
                headers={"Authorization": f"Bearer {seat.token}"},
            )
            return resp.status_code == 200

        return await drive(publish, len(rooms), seconds, first)


# (seconds, first event number) -> (accepted, failed): one stretch of the load, numbered on from `first`
PublishLoop = Callable[[float, int], Coroutine[Any, Any, tuple[int, int]]]


@dataclass(frozen=True)
class Pinning:
    """CPUs for the server process and for the load's own processes (client workers and the driver)."""

    server: frozenset[int]
    clients: frozenset[int]

    @classmethod
    def parse(cls, spec: str) -> Pinning | None:
        """`"0:1"` (server on CPU 0, clients on CPU 1; lists as `0,2:1,3`), or `none`."""
        if spec == "none":
            return None
        server, _, clients = spec.partition(":")
        return cls(*(frozenset(int(c) for c in part.split(",")) for part in (server, clients)))

    def __str__(self) -> str:
        return ":".join(",".join(map(str, sorted(cpus))) for cpus in (self.server, self.clients))


@dataclass
class FanoutResult:
    """One fan-out run against one server; latencies in seconds."""

    server: str
    rooms: int
    per_room: int
    seconds: float
    published: int
    publish_failed: int
    expected: int
    fleet: FleetResult
    cpu_percent: float
    cpu_seconds: float
    rss_idle: int  # before any WebSocket connected (rooms already created)
    rss_connected: int  # all sockets connected, before the load
    rss_after: int
    ingest: str = INGEST_REST  # how events reached the server
    warmup: float = 0.0  # seconds of the same load before the measured window, not measured
    warm_events: int = 0
    warm_failed: int = 0
    window: tuple[float, float] = (-math.inf, math.inf)  # server commit times (epoch) the figures cover
    pinned: str = ""  # "server CPUs:client CPUs" when pinned
    # with the heap probe (`loadtest.heap`, every server alike): the collections in the window and their CPU,
    # the full collection that paid the set-up's debt before the load, and what the collector tracked before and
    # after the sockets connected
    heap_window: HeapState | None = None
    heap_paid: HeapState | None = None
    heap_idle: HeapState | None = None

    @property
    def full_collections(self) -> int | None:
        return self.heap_window.full if self.heap_window is not None else None

    @property
    def tracked_per_conn(self) -> float:
        if self.heap_paid is None or self.heap_idle is None:
            return math.nan
        return (self.heap_paid.tracked - self.heap_idle.tracked) / max(1, self.fleet.connected)

    @property
    def events(self) -> int:
        return self.published + self.publish_failed

    @cached_property
    def latencies(self) -> list[float]:
        """The measured window's frames (by server commit time), one latency each."""
        return self.fleet.window(*self.window)

    @property
    def delivered(self) -> int:
        """Frames of the measured window's events delivered (the warm-up's are left out)."""
        return len(self.latencies)

    @property
    def complete(self) -> bool:
        """Every event (the warm-up's too) accepted by the server and every frame of it delivered."""
        every = (self.events + self.warm_events) * self.per_room
        return (
            self.publish_failed == 0
            and self.warm_failed == 0
            and self.fleet.delivered == every
            and self.delivered == self.expected
        )

    @property
    def clients(self) -> int:
        return self.rooms * self.per_room

    def ms(self, q: float) -> float:
        return 1000 * percentile(self.latencies, q) if self.latencies else float("nan")

    @property
    def max_ms(self) -> float:
        return 1000 * max(self.latencies) if self.latencies else float("nan")

    @property
    def rss_per_conn(self) -> float:
        return (self.rss_connected - self.rss_idle) / max(1, self.fleet.connected)

    @property
    def cpu_us_per_frame(self) -> float:
        return 1e6 * self.cpu_seconds / max(1, self.delivered)

    def summary(self) -> str:
        return (
            f"{self.server}: {self.rooms}x{self.per_room} clients, {self.fleet.connected} connected "
            f"({self.fleet.failed} failed), events acked {self.published}/{self.events} "
            f"({self.publish_failed} failed, in as {self.ingest}), delivered {self.delivered}/{self.expected} "
            f"(warm-up too: {self.fleet.delivered}/{(self.events + self.warm_events) * self.per_room}), "
            f"latency p50 {self.ms(50):.2f} ms p95 {self.ms(95):.2f} ms p99 {self.ms(99):.2f} ms "
            f"max {self.max_ms:.1f} ms, server CPU {self.cpu_percent:.0f}% "
            f"({self.cpu_us_per_frame:.1f} us/frame), RSS {self.rss_after / 2**20:.0f} MiB "
            f"({self.rss_per_conn / 1024:.1f} KiB/conn), lost {self.fleet.lost} {self.fleet.close_codes}"
            + (
                f", collector in the window: {self.heap_window.total_ms:.1f} ms CPU, {self.full_collections} full; "
                f"debt paid before the load: {self.heap_paid.forced_ms:.1f} ms, "
                f"{self.tracked_per_conn:.0f} tracked objects per connection"
                if self.heap_window is not None and self.heap_paid is not None
                else ""
            )
        )


def measure(
    server: Server,
    subs: Sequence[Sub],
    protocol: str,
    publish_loop: PublishLoop,
    rooms: int,
    per_room: int,
    seconds: float,
    procs: int,
    ping_every: float = 0,
    deflate: bool = True,
    speakers: Speakers | None = None,
    ingest: str = INGEST_REST,
    warmup: float = 0.0,
    pinning: Pinning | None = None,
) -> FanoutResult:
    """Connect the fleet (and the speakers), run the load `warmup` seconds unmeasured then `seconds` measured.

    The measured window covers the events sent after the warm-up: the server's CPU time over it, and the frames
    whose commit time (`ts`) falls in it, so a collection or a slow start in the warm-up does not count. With
    `pinning`, the server runs on its CPUs and the client workers on theirs (the caller pins its own process).
    `per_room` counts every recipient of an event: the fleet's `subs` and, when given, the room's speaker.
    A server started with the heap probe (`loadtest.heap.probe_env`) is collected once before its sockets connect
    and once after (the set-up's collection debt paid before the load, as the same cost on every server), and
    its collections in the window are read.
    """
    pinned = pinning is not None and pin(process_of(server).pid, pinning.server)
    probe = HeapProbe(process_of(server).pid) if probed(server.env) else None
    rss_idle = rss(server)
    heap_idle = probe.collect() if probe is not None else None
    cpus = pinning.clients if pinned and pinning is not None else None
    fleet = Fleet(server.ws_url, subs, protocol, procs=procs, ping_every=ping_every, deflate=deflate, cpus=cpus)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner, fleet:
        t0 = time.monotonic()
        fleet.wait_ready()
        if speakers is not None:
            runner.run(speakers.open())
        print(f"connected in {time.monotonic() - t0:.1f} s", flush=True)
        # the driver's loop runs while waiting, so the speakers read their frames as they come
        runner.run(asyncio.sleep(1.0))  # let join/presence traffic settle before the load
        rss_connected = rss(server)
        heap_paid = probe.collect() if probe is not None else None
        warm = runner.run(publish_loop(warmup, 0)) if warmup > 0 else (0, 0)
        heap_start = probe.read() if probe is not None else None
        start, meter = time.time(), CpuMeter(server)
        published, failed = runner.run(publish_loop(seconds, math.ceil(warmup)))
        cpu_seconds, cpu_percent = meter.seconds(), meter.percent()
        end = time.time()
        heap_window = probe.read().since(heap_start) if probe is not None and heap_start is not None else None
        if probe is not None:
            probe.close()
        runner.run(asyncio.sleep(1.0))  # in-flight frames
        result = fleet.finish()
        if speakers is not None:
            result.add(speakers.close())
        rss_after = rss(server)
    return FanoutResult(
        server.name,
        rooms,
        per_room,
        seconds,
        published,
        failed,
        (published + failed) * per_room,
        result,
        cpu_percent,
        cpu_seconds,
        rss_idle,
        rss_connected,
        rss_after,
        ingest,
        warmup,
        warm[0] + warm[1],
        warm[1],
        (start, end),
        str(pinning) if pinned else "",
        heap_window,
        heap_paid,
        heap_idle,
    )


def run_parlor(
    rooms: int,
    per_room: int,
    seconds: float,
    procs: int = 1,
    env: dict[str, str] | None = None,
    ping_every: float = 25,
    deflate: bool = True,
    root: Path | None = None,
    args: tuple[str, ...] = (),
    name: str = "parlor",
) -> FanoutResult:
    with parlor_server({**FANOUT_ENV, **(env or {})}, root, args) as server:
        server.name = name
        t0 = time.monotonic()
        seated = asyncio.run(seat_rooms(server.url, rooms, per_room, start=True))
        print(f"seated in {time.monotonic() - t0:.1f} s", flush=True)
        return measure(
            server,
            parlor_subs(seated),
            "parlor",
            lambda stretch, first: drive_parlor(server.url, seated, stretch, first),
            rooms,
            per_room,
            seconds,
            procs,
            ping_every,
            deflate,
        )


def markdown(result: FanoutResult, command: str) -> str:
    f = result.fleet
    rows = [
        ("WebSocket clients connected", f"{f.connected} of {result.clients} ({f.failed} failed, {f.retries} retries)"),
        ("events published (REST clues)", f"{result.published} ({result.publish_failed} failed)"),
        ("frames delivered / expected", f"{result.delivered} / {result.expected}"),
        (
            "latency p50 / p95 / p99 / max",
            f"{result.ms(50):.2f} / {result.ms(95):.2f} / {result.ms(99):.2f} / {result.max_ms:.1f} ms",
        ),
        ("target p99 < 15 ms", "met" if result.ms(99) < 15 else "**missed**"),
        (
            "server CPU (one process)",
            f"{result.cpu_percent:.0f}% of one core, {result.cpu_us_per_frame:.1f} µs per delivered frame",
        ),
        ("server RSS", f"{result.rss_after / 2**20:.0f} MiB ({result.rss_per_conn / 1024:.1f} KiB per connection)"),
        ("connections lost during the run", f"{f.lost} {f.close_codes or ''}"),
    ]
    lines = [
        "## Fan-out latency (`loadtest/fanout.py`)",
        "",
        machine_line(),
        "",
        f"`{command}`: {result.rooms} rooms x {result.per_room} WebSocket players (asyncio `websockets` clients in "
        f"worker processes), one clue per room per second for {result.seconds:g} s, spread evenly over each "
        "second and posted over REST by a driver rotating among each room's players. Latency is client receipt "
        "time minus the frame's `ts` (server clock at commit, same host), over every delivered `clue_posted` "
        "frame. Server CPU: the kernel's CPU-time clock of the uvicorn process (ns); RSS: psutil.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
    ]
    return "\n".join(lines)


def as_json(result: FanoutResult) -> dict[str, Any]:
    """The run's counts and a few figures, for the smoke test (which runs this module as a program)."""
    fleet = result.fleet
    counts = {"connected": fleet.connected, "failed": fleet.failed, "lost": fleet.lost, "delivered": result.delivered}
    counts["holes"] = fleet.holes  # frames whose `prev` named an event the socket never got
    return {
        **counts,
        "delivered_all": fleet.delivered,  # the warm-up's frames too
        "warm_events": result.warm_events,
        "published": result.published,
        "publish_failed": result.publish_failed,
        "expected": result.expected,
        "p99_ms": result.ms(99),
        "cpu_seconds": result.cpu_seconds,
        "cpu_us_per_frame": result.cpu_us_per_frame,
        "pinned": result.pinned,
        "full_collections": result.full_collections,
        "collector_ms": result.heap_window.total_ms if result.heap_window is not None else None,
        "debt_paid_ms": result.heap_paid.forced_ms if result.heap_paid is not None else None,
        "tracked_per_conn": result.tracked_per_conn,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--players", type=int, default=10, help="WebSocket players per room")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--procs", type=int, default=1, help="client worker processes")
    parser.add_argument("--no-deflate", action="store_true", help="clients do not offer permessage-deflate")
    parser.add_argument("--report", type=Path, default=REPORT, help="markdown file to update")
    parser.add_argument("--no-report", action="store_true", help="print figures only")
    parser.add_argument("--json", type=Path, help="also write the run's counts and figures as JSON here")
    args = parser.parse_args(argv)
    result = run_parlor(args.rooms, args.players, args.seconds, args.procs, deflate=not args.no_deflate)
    print(result.summary())
    if result.fleet.errors:
        print("client errors:", result.fleet.errors[:5])
    if args.json:
        args.json.write_text(json.dumps(as_json(result), indent=1))
    if not args.no_report:
        command = f"python -m loadtest.fanout --rooms {args.rooms} --players {args.players} --seconds {args.seconds:g}"
        update_section("fanout", markdown(result, command), args.report)
        print(f"wrote section 'fanout' of {args.report}")


if __name__ == "__main__":
    main()

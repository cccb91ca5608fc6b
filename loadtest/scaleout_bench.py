"""Fan-out latency with the Redis store: one backend process against two, at the same load.

`python -m loadtest.scaleout_bench [--rooms 50] [--clients 10] [--seconds 20]`

Each room gets `clients` players with a WebSocket each and 1 clue per second, posted by a driver over REST.
One process: everything on it. Two processes: every room's sockets are split across both, and the driver
posts through process A, so half the deliveries cross processes (commit on A, Redis pub/sub, fan-out on B).
Latency is the client's receipt time minus the event's commit timestamp (one machine, one clock). The added
cross-process latency is p50(remote sockets) - p50(local sockets) in the two-process run, and B's own
parlor_cross_process_lag_seconds histogram (commit on A to arrival on B, before the socket write) is shown too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from launchers.process import PYTHON, Server, free_port
from launchers.redis import run_redis
from loadtest.harness import metric_sum, parlor_env, run_server, scrape
from loadtest.report import machine_line, percentile, update_section

MEASURED = "clue_posted"


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    with run_redis(workdir) as server:
        yield server.url


def backend(store_url: str) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    env = parlor_env({"STORE_URL": store_url, "CLUE_INTERVAL_SECONDS": "0", "MAX_CLUES_PER_ROUND": "100000"})
    argv = [PYTHON, "-m", "backend", "--port", str(port), "--log-level", "warning"]
    return run_server("scaleout", argv, env, port, health="/readyz")


@dataclass
class Room:
    code: str
    seats: list[dict[str, str]]


@dataclass
class Samples:
    local: list[float] = field(default_factory=list)
    remote: list[float] = field(default_factory=list)
    lag: dict[str, float] = field(default_factory=dict)  # B's cross-process lag histogram, measured window only


async def setup_rooms(http: httpx.AsyncClient, rooms: int, clients: int) -> list[Room]:
    async def one(n: int) -> Room:
        host = (await http.post("/api/rooms", json={"name": f"h{n}"})).json()
        code = host["room_code"]
        seats = [host]
        for k in range(1, clients):
            seats.append((await http.post(f"/api/rooms/{code}/players", json={"name": f"p{k}"})).json())
        auth = {"Authorization": f"Bearer {host['token']}"}
        await http.patch(f"/api/rooms/{code}/settings", json={"discussion_seconds": 600}, headers=auth)
        (await http.post(f"/api/rooms/{code}/start", headers=auth)).raise_for_status()
        return Room(code, seats)

    return list(await asyncio.gather(*(one(n) for n in range(rooms))))


async def subscriber(url: str, room: Room, seat: dict[str, str], bucket: list[float], ready: asyncio.Event) -> None:
    """One player's socket; reconnects (resuming from its last id) if the handshake or the socket fails."""
    last: int | None = None
    while True:
        try:
            async with websockets.connect(f"{url}/ws/{room.code}", max_size=2**22, open_timeout=30) as ws:
                hello = {"type": "hello", "player_id": seat["player_id"], "token": seat["token"], "last_event_id": last}
                await ws.send(json.dumps(hello))
                async for raw in ws:
                    frame = json.loads(raw)
                    last = frame["id"] if frame.get("id") is not None else last
                    if frame["type"] == "welcome":
                        ready.set()
                    elif frame["type"] == MEASURED:
                        bucket.append(time.time() - frame["ts"])
        except (OSError, TimeoutError, websockets.WebSocketException):
            await asyncio.sleep(0.5)


async def drive(http: httpx.AsyncClient, rooms: list[Room], seconds: float) -> int:
    """1 clue per room per second, rooms staggered over the second, posted through `http`."""
    posted = 0
    start = time.monotonic()
    spacing = 1.0 / len(rooms)
    tasks: set[asyncio.Task[httpx.Response]] = set()
    tick = 0
    while time.monotonic() - start < seconds:
        for i, room in enumerate(rooms):
            due = start + tick + i * spacing
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            seat = room.seats[(tick + i) % len(room.seats)]
            auth = {"Authorization": f"Bearer {seat['token']}"}
            task = asyncio.create_task(http.post(f"/api/rooms/{room.code}/clues", json={"text": "x"}, headers=auth))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            posted += 1
        tick += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    return posted


async def measure(
    poster: str, sockets: Sequence[str], rooms: int, clients: int, seconds: float, lag_url: str | None = None
) -> Samples:
    """Sockets of each room alternate over `sockets`; those on `poster` count as local, the others remote."""
    samples = Samples()
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=poster, timeout=30, limits=limits) as http:
        room_list = await setup_rooms(http, rooms, clients)
        subs = []
        readies = []
        for room in room_list:
            for k, seat in enumerate(room.seats):
                url = sockets[k % len(sockets)]
                bucket = samples.local if url.replace("ws://", "http://") == poster else samples.remote
                ready = asyncio.Event()
                readies.append(ready)
                subs.append(asyncio.create_task(subscriber(url, room, seat, bucket, ready)))
            await asyncio.sleep(0.05)  # connect room by room, not 500 handshakes in one burst
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
        await drive(http, room_list, 3)  # warm-up, not measured
        await asyncio.sleep(0.5)
        samples.local.clear()
        samples.remote.clear()
        before = await asyncio.to_thread(scrape, lag_url) if lag_url else {}
        await drive(http, room_list, seconds)
        await asyncio.sleep(1.0)
        if lag_url:
            after = await asyncio.to_thread(scrape, lag_url)
            samples.lag = {k: v - before.get(k, 0.0) for k, v in after.items() if "cross_process_lag" in k}
        for task in subs:
            task.cancel()
        await asyncio.gather(*subs, return_exceptions=True)
    return samples


def ms(values: Sequence[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.2f}" if values else "n/a"


def run(rooms: int, clients: int, seconds: float) -> str:
    rows: list[tuple[str, int, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as store_url:
        print("one process ...", file=sys.stderr)
        with backend(store_url) as solo:
            one = asyncio.run(measure(solo.url, [solo.ws_url], rooms, clients, seconds))
        rows.append(("1 process, all sockets local", 1, one.local))
        print("two processes ...", file=sys.stderr)
        with backend(store_url) as a, backend(store_url) as b:
            two = asyncio.run(measure(a.url, [a.ws_url, b.ws_url], rooms, clients, seconds, lag_url=b.url))
    lag = two.lag
    rows.append(("2 processes, sockets on the posting process", 2, two.local))
    rows.append(("2 processes, sockets on the other process", 2, two.remote))
    rows.append(("2 processes, all sockets", 2, two.local + two.remote))
    added = (percentile(two.remote, 50) - percentile(two.local, 50)) * 1000
    lag_count = metric_sum(lag, "parlor_cross_process_lag_seconds_count")
    lag_sum = metric_sum(lag, "parlor_cross_process_lag_seconds_sum")
    under_5ms = metric_sum(lag, "parlor_cross_process_lag_seconds_bucket", le="0.005")
    lines = [
        f"`python -m loadtest.scaleout_bench --rooms {rooms} --clients {clients} --seconds {seconds:g}`: "
        f"{rooms} rooms x {clients} WebSocket clients, 1 clue per room per second posted over REST through "
        f"process A, Redis store (redis-server on loopback), {seconds:g} s measured after a 3 s warm-up. "
        "Latency is client receipt time minus the event's commit timestamp.",
        "",
        machine_line(("fastapi", "uvicorn", "websockets", "redis")),
        "",
        "| setup | processes | deliveries | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, procs, values in rows:
        lines.append(
            f"| {label} | {procs} | {len(values)} | {ms(values, 50)} | {ms(values, 95)} | {ms(values, 99)} | "
            f"{ms(values, 100)} |"
        )
    lines += [
        "",
        f"Added cross-process latency (p50 other process - p50 posting process): **{added:.2f} ms** "
        "(target: under 5 ms).",
        f"Process B's `parlor_cross_process_lag_seconds` (commit on A to arrival on B): {int(lag_count)} events, "
        f"mean {lag_sum / lag_count * 1000 if lag_count else float('nan'):.2f} ms, "
        f"{under_5ms / lag_count * 100 if lag_count else float('nan'):.1f} % under 5 ms.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-report", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    md = run(args.rooms, args.clients, args.seconds)
    print(md)
    if not args.no_report:
        update_section("scaleout", md)


if __name__ == "__main__":
    main()

"""Does adding backend processes add work? CPU per delivered frame with 1, 2 and 4 processes over Redis.

`python -m loadtest.replicas [--rooms 40] [--seconds 15] [--stores redis,cluster]`

The same rooms x 10 WebSocket players and one clue per room per second run against 1, 2 and 4 backend
processes sharing one Redis (and then a 3-master Redis Cluster). Each socket connects to the process a load
balancer with room affinity gives it (`hash $request_uri consistent` on `/ws/{code}`: every socket of a room on
one process); clues are posted round-robin over all processes, so most commits happen on a process that holds
no socket of the room and travel over the room's pub/sub channel. Figures:

- total CPU of all backend processes per delivered frame, and its ratio to the 1-process run;
- events decoded by a process for rooms it holds no socket of (`parlor_store_foreign_events_decoded_total`);
- a bystander: one more process on the same store holding no socket while the others run the load: its CPU;
- 1,000 idle rooms (created, nobody connected) held in the store: one process's CPU over 10 s.

Every server is a real process on 127.0.0.1; CPU is psutil's user+system time of the backend processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from launchers.backend import backend_server
from launchers.process import Server, free_port
from loadtest.fanout import FANOUT_ENV, Seat, seat_rooms
from loadtest.harness import CpuMeter, metric_sum, parlor_env, scrape
from loadtest.report import machine_line, update_section
from loadtest.serve import raise_nofile
from loadtest.wsclients import Fleet, Sub, drive

FOREIGN = "parlor_store_foreign_events_decoded_total"


@contextlib.contextmanager
def store_servers(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh single Redis or 3-master Redis Cluster on loopback; yields the STORE_URL."""
    from launchers.redis import run_redis
    from launchers.redis_cluster import run_redis_cluster

    if kind == "cluster":
        with run_redis_cluster(workdir / "cluster") as cluster:
            yield cluster.url
    else:
        with run_redis(workdir) as server:
            yield server.url


def flush(store_url: str) -> None:
    from backend.core.redis_url import parse_url

    url, cluster = parse_url(store_url)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    ports = [port]
    if cluster:
        nodes = subprocess.run(
            [shutil.which("redis-cli") or "redis-cli", "-p", str(port), "cluster", "nodes"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        ports = [int(line.split()[1].split("@")[0].rsplit(":", 1)[1]) for line in nodes.splitlines() if line]
    for p in ports:
        subprocess.run([shutil.which("redis-cli") or "redis-cli", "-p", str(p), "flushall"], capture_output=True)


@contextlib.contextmanager
def backends(store_url: str, names: Sequence[str]) -> Iterator[list[Server]]:
    """Start every process first, then wait for all of them: a loaded machine boots them side by side."""
    env = parlor_env({**FANOUT_ENV, "STORE_URL": store_url, "MAX_ROOMS": "100000"})
    started: list[Server] = []
    try:
        for name in names:
            port = free_port()
            log_path = Path(tempfile.gettempdir()) / f"parlor-loadtest-{name}-{port}.log"
            server = backend_server(env, port=port, log_path=log_path, name=name)
            server.health = "/readyz"
            server.launch()
            started.append(server)
        for server in started:
            server.wait(timeout=180.0)
        yield started
    finally:
        for server in started:
            server.stop()


async def seat_with_retries(url: str, rooms: int, players: int, start: bool) -> list[tuple[list[Seat], int]]:
    """A keep-alive connection closed under a loaded machine fails a seat: seat the rooms again (it is setup)."""
    for attempt in range(3):
        try:
            return await seat_rooms(url, rooms, players, start)
        except httpx.TransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def replica_of(code: str, replicas: int) -> int:
    """Room affinity as a hashing load balancer does it: one room, one process."""
    return zlib.crc32(code.encode()) % replicas


@dataclass
class Run:
    processes: int
    delivered: int
    expected: int
    cpu_seconds: float
    redis_note: str
    foreign: float
    p50_ms: float
    p99_ms: float

    @property
    def us_per_frame(self) -> float:
        return self.cpu_seconds / max(1, self.delivered) * 1e6


async def post_clues(urls: Sequence[str], rooms: Sequence[tuple[list[Seat], int]], seconds: float) -> tuple[int, int]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    clients = [httpx.AsyncClient(base_url=u, timeout=30, limits=limits) for u in urls]
    turn = 0

    async def publish(i: int, k: int) -> bool:
        nonlocal turn
        turn += 1
        seat = rooms[i][0][k % len(rooms[i][0])]
        resp = await clients[turn % len(clients)].post(
            f"/api/rooms/{seat.room}/clues", json={"text": f"zq{k}"}, headers={"Authorization": f"Bearer {seat.token}"}
        )
        return resp.status_code == 200

    try:
        return await drive(publish, len(rooms), seconds)
    finally:
        for client in clients:
            await client.aclose()


def measure(store_url: str, processes: int, rooms: int, seconds: float, procs: int) -> tuple[Run, float]:
    """One run; also returns a bystander process's CPU % (a process on the store holding no socket)."""
    flush(store_url)
    with contextlib.ExitStack() as stack:
        names = [f"replica{n}" for n in range(processes)] + ["bystander"]
        *servers, bystander = stack.enter_context(backends(store_url, names))
        seated = asyncio.run(seat_with_retries(servers[0].url, rooms, 10, start=True))
        subs = [
            Sub(f"{servers[replica_of(s.room, processes)].ws_url}/ws/{s.room}", s.room, s.hello(last))
            for seats, last in seated
            for s in seats
        ]
        with Fleet("", subs, "parlor", procs=procs, ping_every=25, deflate=False) as fleet:
            fleet.wait_ready()
            time.sleep(1.0)
            before = [scrape(s.url) for s in servers]
            meters = [CpuMeter(s) for s in servers]
            idle_meter = CpuMeter(bystander)
            published, _failed = asyncio.run(post_clues([s.url for s in servers], seated, seconds))
            cpu = sum(m.seconds() for m in meters)
            bystander_pct = idle_meter.percent()
            time.sleep(1.0)
            # read before the clients leave: the presence commit of a room's last socket leaving comes back on
            # the channel just after the unwatch, a decode that belongs to the shutdown, not to the load
            after = [scrape(s.url) for s in servers]
            foreign_bystander = metric_sum(scrape(bystander.url), FOREIGN)
            result = fleet.finish()
        foreign = sum(metric_sum(a, FOREIGN) - metric_sum(b, FOREIGN) for a, b in zip(after, before, strict=True))
        foreign += foreign_bystander
    lat = sorted(result.latencies)
    p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    run = Run(processes, result.delivered, published * 10, cpu, "", foreign, p50, p99)
    return run, bystander_pct


def idle_rooms_cpu(store_url: str, rooms: int, hold: float) -> float:
    """One process's CPU % of a core while `rooms` idle rooms sit in the store and nobody is connected."""
    flush(store_url)
    with backends(store_url, ["idle"]) as (server,):
        asyncio.run(seat_with_retries(server.url, rooms, 1, start=False))
        time.sleep(2.0)
        meter = CpuMeter(server)
        time.sleep(hold)
        return meter.percent()


def run(stores: Sequence[str], rooms: int, seconds: float, procs: int, idle: int) -> str:
    load = os.getloadavg()
    lines = [
        f"`python -m loadtest.replicas --rooms {rooms} --seconds {seconds:g}`: {rooms} rooms x 10 WebSocket players, "
        f"1 clue per room per second posted round-robin over the processes, each socket on the process its room "
        f"hashes to, {seconds:g} s measured. CPU: user+system of the backend processes (psutil).",
        "",
        machine_line(("fastapi", "uvicorn", "websockets", "redis")),
        f"Load average when the run began: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the machine was shared; "
        "ratios within one store's runs are the figures to read).",
        "",
    ]
    for kind in stores:
        with tempfile.TemporaryDirectory() as tmp, store_servers(kind, Path(tmp)) as url:
            runs: list[Run] = []
            bystanders: list[float] = []
            for n in (1, 2, 4):
                print(f"{kind}: {n} process(es) ...", file=sys.stderr, flush=True)
                result, bystander = measure(url, n, rooms, seconds, procs)
                runs.append(result)
                bystanders.append(bystander)
            print(f"{kind}: {idle} idle rooms ...", file=sys.stderr, flush=True)
            idle_pct = idle_rooms_cpu(url, idle, 10.0)
        title = "one Redis" if kind == "redis" else "a 3-master Redis Cluster"
        base = runs[0].us_per_frame
        lines += [
            f"### On {title}",
            "",
            "| processes | delivered / expected | total CPU s | CPU µs per delivered frame | vs 1 process | "
            "foreign events decoded | p50 ms | p99 ms | bystander process CPU % |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r, b in zip(runs, bystanders, strict=True):
            lines.append(
                f"| {r.processes} | {r.delivered}/{r.expected} | {r.cpu_seconds:.2f} | {r.us_per_frame:.1f} | "
                f"{r.us_per_frame / base:.2f}x | {r.foreign:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {b:.2f} |"
            )
        ratio = runs[-1].us_per_frame / base
        lines += [
            "",
            f"4 processes vs 1: **{ratio:.2f}x** CPU per delivered frame (target ≤ 1.3x: "
            f"{'met' if ratio <= 1.3 else '**missed**'}). Events of rooms without a local socket decoded: "
            f"{sum(r.foreign for r in runs):.0f} (target 0). {idle:,} idle rooms: one process uses "
            f"**{idle_pct:.2f} %** of a core (target < 2 %: {'met' if idle_pct < 2 else '**missed**'}).",
            "",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--procs", type=int, default=2, help="client worker processes")
    parser.add_argument("--idle-rooms", type=int, default=1000)
    parser.add_argument("--stores", default="redis,cluster")
    parser.add_argument("--no-report", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    raise_nofile()
    for kind in args.stores.split(","):  # each store's figures land as soon as they are measured
        md = run([kind], args.rooms, args.seconds, args.procs, args.idle_rooms)
        print(md, flush=True)
        if not args.no_report:
            update_section(f"replicas-{kind}", md)


if __name__ == "__main__":
    main()

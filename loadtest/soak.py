"""Soak: room churn and socket churn against one backend on memory and one on Redis, side by side, for minutes.

    nice -n 15 python -m loadtest.soak --minutes 20

Room churn: `--games` loops per backend, each creating a room, seating a second human and two bots, playing to
the end over REST with both humans' sockets open, then both leave and close their sockets. Socket churn: a
loop per backend opening a socket to a long-lived room, waiting for `welcome` and closing it, `--sockets-per-s`
times a second. Every `--sample-seconds` each backend's RSS, open files, asyncio tasks (`parlor_asyncio_tasks`)
and rooms held (`parlor_rooms_active`) are read, and Redis's `used_memory`; the table, a plot and the slope of
the last half of each series (per cent of its mean per 10 minutes) go to docs/benchmarks.md.

Finished rooms expire after ROOM_IDLE_SECONDS (set short here, `--room-idle`), so after one expiry period the
rooms held should level off, and with them every other series.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis
import websockets

from launchers.process import Server
from launchers.redis import run_redis
from loadtest.harness import metric_sum, parlor_server, scrape
from loadtest.report import ROOT, machine_line, update_section

SECTION = "soak"
IMG = ROOT / "docs" / "img" / "bench-soak.png"
SERIES = ("rss_mb", "open_files", "asyncio_tasks", "rooms_held", "redis_mb")
# upkeep runs every second; an expiry later than this past ROOM_IDLE_SECONDS counts as overdue
OVERDUE_GRACE = 15.0


@dataclass
class Sample:
    minute: float
    rss_mb: float
    open_files: int
    asyncio_tasks: float
    rooms_held: float
    redis_mb: float | None
    games: int
    sockets: int
    overdue: int = 0  # finished rooms still there more than ROOM_IDLE_SECONDS + OVERDUE_GRACE after the game


@dataclass
class Run:
    store: str
    server: Server
    redis_url: str | None = None
    samples: list[Sample] = field(default_factory=list)
    games: int = 0
    sockets: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    abandoned: list[tuple[str, float]] = field(default_factory=list)  # finished rooms left to expire
    room_idle: float = 120.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


# ---- load ---------------------------------------------------------------------------------------------------


async def _listen(url: str, seat: dict[str, Any]) -> None:
    """A human's socket: hello, then read until the server or the caller closes it."""
    async with websockets.connect(f"{url}/ws/{seat['room_code']}", max_size=2**22) as ws:
        hello = {"type": "hello", "player_id": seat["player_id"], "token": seat["token"], "last_event_id": 0}
        await ws.send(json.dumps(hello))
        async for _ in ws:
            pass


async def play_one(http: httpx.AsyncClient, run: Run, ws_url: str, leave: bool) -> None:
    """Create, join, two bots, play to the end; then both humans leave (the room goes at once), or they only
    close their sockets (the finished room must then expire after ROOM_IDLE_SECONDS)."""
    host = (await http.post("/api/rooms", json={"name": "Soak host"})).raise_for_status().json()
    code = host["room_code"]
    guest = (await http.post(f"/api/rooms/{code}/players", json={"name": "Soak guest"})).raise_for_status().json()
    seats = [host, guest]
    auth = [{"Authorization": f"Bearer {s['token']}"} for s in seats]
    sockets = [asyncio.create_task(_listen(ws_url, s)) for s in seats]
    try:
        for _ in range(2):
            (await http.post(f"/api/rooms/{code}/bots", headers=auth[0])).raise_for_status()
        settings = {"discussion_seconds": 10, "voting_seconds": 5}
        (await http.patch(f"/api/rooms/{code}/settings", json=settings, headers=auth[0])).raise_for_status()
        (await http.post(f"/api/rooms/{code}/start", headers=auth[0])).raise_for_status()
        deadline = time.monotonic() + 180
        acted: set[tuple[str, int, str]] = set()
        while time.monotonic() < deadline:
            state = (await http.get(f"/api/rooms/{code}/state", headers=auth[0])).raise_for_status().json()
            phase, rnd = state["phase"], state["round"]
            if phase == "finished":
                run.games += 1
                break
            alive = [p["id"] for p in state["players"] if p["alive"]]
            for n, seat in enumerate(seats):
                if seat["player_id"] not in alive or (seat["player_id"], rnd, phase) in acted:
                    continue
                acted.add((seat["player_id"], rnd, phase))
                if phase == "discussion":
                    await http.post(f"/api/rooms/{code}/clues", json={"text": f"soak clue {n} {rnd}"}, headers=auth[n])
                    await http.post(f"/api/rooms/{code}/ready", headers=auth[n])
                elif phase == "voting":
                    target = random.choice([a for a in alive if a != seat["player_id"]])
                    await http.post(f"/api/rooms/{code}/votes", json={"target_id": target}, headers=auth[n])
            await asyncio.sleep(0.5)
        else:
            run.error("game_timeout")
        if leave:
            for n in (1, 0):
                await http.delete(f"/api/rooms/{code}/players/{seats[n]['player_id']}", headers=auth[n])
        else:
            run.abandoned.append((code, time.monotonic()))
    finally:
        for task in sockets:
            task.cancel()
        await asyncio.gather(*sockets, return_exceptions=True)


async def room_churn(run: Run, stop: float, pause: float) -> None:
    ws_url = run.server.ws_url
    async with httpx.AsyncClient(base_url=run.server.url, timeout=30) as http:
        while time.monotonic() < stop:
            try:
                await play_one(http, run, ws_url, leave=run.games % 2 == 0)
                await asyncio.sleep(pause)
            except (httpx.HTTPError, OSError, websockets.WebSocketException) as exc:
                run.error(type(exc).__name__)
                await asyncio.sleep(1)


async def socket_churn(run: Run, stop: float, per_second: float) -> None:
    """Open a socket to one room, wait for welcome, close; over and over. A lobby whose host is mostly away
    expires after LOBBY_IDLE_SECONDS (that is the point of the expiry): then the loop takes a new room."""
    async with httpx.AsyncClient(base_url=run.server.url, timeout=30) as http:
        url = hello = ""
        while time.monotonic() < stop:
            began = time.monotonic()
            try:
                if not url:
                    seat = (await http.post("/api/rooms", json={"name": "Churn"})).raise_for_status().json()
                    hello = json.dumps({"type": "hello", "player_id": seat["player_id"], "token": seat["token"]})
                    url = f"{run.server.ws_url}/ws/{seat['room_code']}"
                async with websockets.connect(url) as ws:
                    await ws.send(hello)
                    while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "welcome":
                        pass
                run.sockets += 1
            except websockets.ConnectionClosed:
                url = ""  # the room expired
            except (OSError, TimeoutError, httpx.HTTPError, websockets.WebSocketException) as exc:
                run.error(type(exc).__name__)
            await asyncio.sleep(max(0.0, 1 / per_second - (time.monotonic() - began)))


# ---- sampling -----------------------------------------------------------------------------------------------


def sample(run: Run, started: float) -> Sample:
    assert run.server.process is not None
    proc = psutil.Process(run.server.process.pid)
    metrics = scrape(run.server.url)
    redis_mb = None
    if run.redis_url is not None:
        used = redis.Redis.from_url(run.redis_url).info("memory")["used_memory"]
        redis_mb = used / 2**20
    overdue = 0
    now = time.monotonic()
    for code, left_at in list(run.abandoned):
        if now - left_at < run.room_idle + OVERDUE_GRACE:
            continue
        if httpx.get(f"{run.server.url}/api/rooms/{code}", timeout=10).status_code == 404:
            run.abandoned.remove((code, left_at))  # released in time; a read does not count as activity
        else:
            overdue += 1
    return Sample(
        overdue=overdue,
        minute=(time.monotonic() - started) / 60,
        rss_mb=proc.memory_info().rss / 2**20,
        open_files=proc.num_fds(),
        asyncio_tasks=metric_sum(metrics, "parlor_asyncio_tasks"),
        rooms_held=metric_sum(metrics, "parlor_rooms_active"),
        redis_mb=redis_mb,
        games=run.games,
        sockets=run.sockets,
    )


async def sampler(runs: Sequence[Run], started: float, stop: float, every: float) -> None:
    due = started
    while True:
        for run in runs:
            try:
                run.samples.append(await asyncio.to_thread(sample, run, started))
            except Exception as exc:  # a missed sample is reported, not fatal
                run.error(f"sample:{type(exc).__name__}")
        last = runs[0].samples[-1] if runs[0].samples else None
        print(f"[{time.monotonic() - started:6.0f} s] " + " | ".join(_line(r) for r in runs), flush=True)
        if last is not None and time.monotonic() >= stop:
            return
        due = min(due + every, stop)  # on the minute marks, whatever a sample took
        await asyncio.sleep(max(0.0, due - time.monotonic()))


def _line(run: Run) -> str:
    s = run.samples[-1] if run.samples else None
    if s is None:
        return f"{run.store}: no sample"
    redis_part = f" redis {s.redis_mb:.2f} MB" if s.redis_mb is not None else ""
    return (
        f"{run.store}: rss {s.rss_mb:.1f} MB fds {s.open_files} tasks {s.asyncio_tasks:.0f} "
        f"rooms {s.rooms_held:.0f}{redis_part} games {s.games} sockets {s.sockets} overdue {s.overdue}"
    )


# ---- figures ------------------------------------------------------------------------------------------------


def slope_percent_per_10min(samples: Sequence[Sample], name: str) -> float | None:
    """Least-squares slope of the last half of a series, as a percentage of its mean there, per 10 minutes."""
    half = [s for s in samples if s.minute >= samples[-1].minute / 2]
    points = [(s.minute, getattr(s, name)) for s in half if getattr(s, name) is not None]
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [float(p[1]) for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0 or my == 0:
        return 0.0 if my == 0 else None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    return 100.0 * slope * 10 / my


def markdown(runs: Sequence[Run], minutes: float, args: argparse.Namespace, command: str) -> str:
    out = [
        "## Soak: room churn and socket churn for minutes (`loadtest/soak.py`)",
        "",
        machine_line(),
        f"Command: `{command}`. Each backend: {args.games} game loops (create, join, 2 bots, play to the end; then "
        f"both humans leave, or, every other game, only close their sockets; {args.game_pause:g} s pause) "
        f"and one socket-churn loop ({args.sockets_per_s}/s: open, "
        "hello, welcome, close); "
        f"ROOM_IDLE_SECONDS={args.room_idle:g}, LOBBY_IDLE_SECONDS={args.lobby_idle:g}; both backends and their "
        f"load ran at the same time under `nice -n 15` on a machine shared with other work. "
        f"Ran {minutes:.1f} minutes.",
        "",
        "Slope of the last half of each series, in per cent of its mean there per 10 minutes (goal: under 1 %), "
        "with the series' range over that half. Open files, tasks and rooms are small counts read at one instant "
        "(sockets and games in flight), so their slope is noise around a level; RSS and Redis memory are the "
        "series a leak would move. Overdue: finished rooms left by their players (every other game) still there "
        f"more than ROOM_IDLE_SECONDS + {OVERDUE_GRACE:g} s after the game; the most seen at one sample.",
        "",
        "| store | " + " | ".join(SERIES) + " | overdue | games | sockets | errors |",
        "|---|" + "---|" * (len(SERIES) + 4),
    ]
    for run in runs:
        cells = []
        half = [s for s in run.samples if s.minute >= run.samples[-1].minute / 2]
        for name in SERIES:
            slope = slope_percent_per_10min(run.samples, name)
            values = [getattr(s, name) for s in half if getattr(s, name) is not None]
            if slope is None or not values:
                cells.append("n/a")
            else:
                cells.append(f"{slope:+.2f} % ({min(values):.4g}-{max(values):.4g})")
        errors = ", ".join(f"{k} {v}" for k, v in sorted(run.errors.items())) or "none"
        overdue = max((s.overdue for s in run.samples), default=0)
        out.append(f"| {run.store} | " + " | ".join(cells) + f" | {overdue} | {run.games} | {run.sockets} | {errors} |")
    for run in runs:
        out += [
            "",
            f"### {run.store}",
            "",
            "| minute | RSS MB | open files | asyncio tasks | rooms held | Redis MB | games | sockets | overdue |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s in run.samples:
            redis_cell = "" if s.redis_mb is None else f"{s.redis_mb:.2f}"
            out.append(
                f"| {s.minute:.1f} | {s.rss_mb:.1f} | {s.open_files} | {s.asyncio_tasks:.0f} | {s.rooms_held:.0f} "
                f"| {redis_cell} | {s.games} | {s.sockets} | {s.overdue} |"
            )
    out += ["", f"![soak series](img/{IMG.name})"]
    return "\n".join(out)


def plot(runs: Sequence[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5, figsize=(19, 3.6))
    panels = [("rss_mb", "RSS (MB)"), ("open_files", "open files"), ("asyncio_tasks", "asyncio tasks")]
    panels += [("rooms_held", "rooms held"), ("redis_mb", "Redis used_memory (MB)")]
    for ax, (name, title) in zip(axes, panels, strict=True):
        for run in runs:
            points = [(s.minute, getattr(s, name)) for s in run.samples if getattr(s, name) is not None]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=run.store)
        ax.set_title(title)
        ax.set_xlabel("minute")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ---- main ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def backends(env: dict[str, str], workdir: Path) -> Iterator[list[Run]]:
    with (
        run_redis(workdir) as red,
        parlor_server(env) as memory,
        parlor_server({**env, "STORE_URL": red.url}) as on_redis,
    ):
        yield [Run("memory", memory), Run("redis", on_redis, red.url)]


async def soak(runs: Sequence[Run], minutes: float, args: argparse.Namespace) -> None:
    for run in runs:
        run.room_idle = args.room_idle
    started = time.monotonic()
    stop = started + minutes * 60
    tasks = [asyncio.create_task(sampler(runs, started, stop, args.sample_seconds))]
    load = []
    for run in runs:
        load += [asyncio.create_task(room_churn(run, stop, args.game_pause)) for _ in range(args.games)]
        load.append(asyncio.create_task(socket_churn(run, stop, args.sockets_per_s)))
    await asyncio.gather(*tasks)
    await asyncio.gather(*load, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> list[Run]:
    parser = argparse.ArgumentParser(prog="python -m loadtest.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--games", type=int, default=2, help="game loops per backend")
    parser.add_argument("--game-pause", type=float, default=3.0, help="seconds between two games of a loop")
    parser.add_argument("--sockets-per-s", type=float, default=2.0, help="socket churn per backend")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--room-idle", type=float, default=120.0, help="ROOM_IDLE_SECONDS of both backends")
    parser.add_argument("--lobby-idle", type=float, default=60.0, help="LOBBY_IDLE_SECONDS of both backends")
    parser.add_argument("--no-report", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    env = {
        "ROOM_IDLE_SECONDS": str(args.room_idle),
        "LOBBY_IDLE_SECONDS": str(args.lobby_idle),
        "BOT_MIN_DELAY_SECONDS": "0.3",
        "BOT_MAX_DELAY_SECONDS": "1.0",
        "CLUE_INTERVAL_SECONDS": "0",
        "LOG_LEVEL": "warning",
    }
    with tempfile.TemporaryDirectory(prefix="parlor-soak-") as tmp, backends(env, Path(tmp)) as runs:
        asyncio.run(soak(runs, args.minutes, args))
    command = "python -m loadtest.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    for run in runs:
        print(
            f"{run.store}: "
            + ", ".join(f"{name} {slope_percent_per_10min(run.samples, name) or 0:+.2f} %/10 min" for name in SERIES)
            + f"; errors {run.errors or 'none'}"
        )
    if not args.no_report:
        plot(runs, IMG)
        update_section(SECTION, markdown(runs, args.minutes, args, command.strip()))
    return runs


if __name__ == "__main__":
    main()

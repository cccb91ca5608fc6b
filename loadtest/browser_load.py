"""Browser load: K real headless Chromium pages as players, through nginx and the Streamlit frontends.

    python -m loadtest.browser_load --two-frontends --compare-browsers 3 --write   # the full run, docs + plots
    python -m loadtest.browser_load --players 10 --seconds 10  # a quick run, prints only

Real servers (uvicorn, Streamlit x1 or x2 behind deploy/nginx-frontend.conf, via loadtest.tier) and real
headless Chromium. Rooms hold up to 12 players: a host driven from Python (REST) and up to 11 pages, each in
its own browser context, seated through the real UI (the share link and the "Join a room" form). During a
window of `--seconds` the driver posts one clue per room every `--interval` seconds (rooms spread evenly over
the interval) and reads time.time() just before each POST; loadtest/load_probe.js, a MutationObserver in every
page, records performance.timeOrigin + performance.now() when each clue's text enters the feed, and the most
rows one text ever had. Per page: push-to-screen latency of every clue, clues missing (not on screen 10 s
after the window) or doubled. Per Streamlit process (psutil on its pid): CPU seconds per delivered clue per
session and RSS per session. Also the Chromium processes' own CPU, the backend's, and the machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from launchers.chromium import CHROMIUM, CHROMIUM_ARGS
from loadtest.light_players import LightPlayer
from loadtest.light_players import join as join_light
from loadtest.report import ROOT, machine_line, percentile, update_section
from loadtest.tier import Tier, frontend_tier

PROBE_JS = (Path(__file__).resolve().parent / "load_probe.js").read_text(encoding="utf-8")
IMG = ROOT / "docs" / "img"
ROOM_SIZE = 12
TARGET_P95_MS = 100.0
GRACE_SECONDS = 10.0
UI_TIMEOUT_MS = 120_000
CONNECTED = "🟢 Connected (Real-time)"
BACKEND_ENV = {"MAX_CLUES_PER_ROUND": "100000", "CLUE_INTERVAL_SECONDS": "0", "MAX_ROOMS": "5000"}
START_STAGGER_SECONDS = 2.0
IDLE_SECONDS = 10.0  # Chromium's CPU while nothing happens, measured before each window


@dataclass
class ReplicaUsage:
    name: str
    sessions: int
    cpu_seconds: float
    deliveries: int
    rss_bytes: int
    rss_idle_bytes: int

    @property
    def cpu_ms_per_clue_per_session(self) -> float:
        return 1000 * self.cpu_seconds / self.deliveries if self.deliveries else math.nan

    @property
    def rss_mb_per_session(self) -> float:
        return (self.rss_bytes - self.rss_idle_bytes) / 2**20 / self.sessions if self.sessions else math.nan


@dataclass
class Result:
    players: int
    interval: float
    frontends: int
    browsers: int
    seconds: float
    rooms: int
    clues_posted: int = 0
    samples_ms: list[float] = field(default_factory=list)
    missing: int = 0
    doubled: int = 0
    replicas: list[ReplicaUsage] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds over the window: streamlit, chromium, ...
    wall_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    seat_seconds: float = 0.0
    page_reloads: int = 0  # pages that reloaded themselves during the window (lost their Streamlit session)
    light: int = 0  # protocol-level players (loadtest/light_players.py) beside the pages
    light_samples_ms: list[float] = field(default_factory=list)
    light_missing: int = 0
    light_doubled: int = 0
    chromium_idle_seconds: float = 0.0  # Chromium's CPU over IDLE_SECONDS before the window

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        """A result saved with `--json`, so runs made separately can be reported together."""
        data = dict(raw)
        data["replicas"] = [ReplicaUsage(**usage) for usage in data.get("replicas", [])]
        data["load"] = tuple(data.get("load", (0.0, 0.0)))
        return cls(**data)

    @property
    def label(self) -> str:
        return f"{self.players} players, {self.frontends} frontend(s), a clue every {self.interval:g} s"

    def p(self, q: float) -> float:
        return percentile(self.samples_ms, q) if self.samples_ms else math.nan

    def share(self, part: str) -> float:
        """Fraction of the machine's CPU capacity (all cores) over the window."""
        return self.cpu.get(part, 0.0) / (self.wall_seconds * (os.cpu_count() or 1)) if self.wall_seconds else 0.0

    @property
    def cpu_ms_per_clue_per_session(self) -> float:
        cpu = sum(r.cpu_seconds for r in self.replicas)
        deliveries = sum(r.deliveries for r in self.replicas)
        return 1000 * cpu / deliveries if deliveries else math.nan

    @property
    def rss_mb_per_session(self) -> float:
        values = [r.rss_mb_per_session for r in self.replicas if r.sessions]
        return statistics.mean(values) if values else math.nan

    @property
    def chromium_ms_per_clue_per_page(self) -> float:
        deliveries = sum(r.deliveries for r in self.replicas)
        return 1000 * self.cpu.get("chromium", 0.0) / deliveries if deliveries else math.nan

    @property
    def pages(self) -> int:
        return self.players - self.light

    @property
    def chromium_idle_ms_per_page_s(self) -> float:
        """Chromium's CPU per page per second while nothing happened (all its processes, over IDLE_SECONDS)."""
        return 1000 * self.chromium_idle_seconds / IDLE_SECONDS / self.pages if self.pages else math.nan

    @property
    def chromium_net_ms_per_clue_per_page(self) -> float:
        """Chromium's CPU per delivered clue per page beyond what the pages spend idle over the same time."""
        deliveries = sum(r.deliveries for r in self.replicas)
        idle = self.chromium_idle_seconds / IDLE_SECONDS * self.wall_seconds
        return 1000 * max(0.0, self.cpu.get("chromium", 0.0) - idle) / deliveries if deliveries else math.nan

    def light_p(self, q: float) -> float:
        return percentile(self.light_samples_ms, q) if self.light_samples_ms else math.nan

    def summary(self) -> str:
        return (
            f"{self.label}: n={len(self.samples_ms)} p50 {self.p(50):.0f} ms p95 {self.p(95):.0f} ms "
            f"max {max(self.samples_ms, default=math.nan):.0f} ms, missing {self.missing}, doubled {self.doubled}, "
            f"pages reloaded {self.page_reloads}; "
            f"Streamlit {self.cpu_ms_per_clue_per_session:.2f} ms CPU per clue per session, "
            f"{self.rss_mb_per_session:.1f} MB per session; CPU shares: Streamlit {self.share('streamlit'):.0%}, "
            f"Chromium {self.share('chromium'):.0%}, backend {self.share('backend'):.0%}, "
            f"machine busy {self.share('machine'):.0%}; load {self.load[0]:.1f}->{self.load[1]:.1f}; "
            f"Chromium idle {self.chromium_idle_ms_per_page_s:.1f} ms/s per page, "
            f"{self.chromium_net_ms_per_clue_per_page:.1f} ms per clue per page"
            + (
                f"; {self.light} protocol players: n={len(self.light_samples_ms)} p50 {self.light_p(50):.0f} ms "
                f"p95 {self.light_p(95):.0f} ms, missing {self.light_missing}, doubled {self.light_doubled}"
                if self.light
                else ""
            )
        )


# ---- processes -------------------------------------------------------------------------------------------------


def _cpu(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
        return float(times.user + times.system)
    except psutil.Error:
        return 0.0


def chromium_processes() -> list[psutil.Process]:
    """Every Chromium process this benchmark started (they descend from Playwright's driver, our child)."""
    out = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in proc.name().lower():
                out.append(proc)
    return out


@dataclass
class CpuMark:
    at: float
    per_pid: dict[int, float]
    machine_busy: float

    @classmethod
    def take(cls, tier: Tier) -> CpuMark:
        procs = [psutil.Process(r.pid) for r in tier.replicas] + [psutil.Process(tier.backend_pid)]
        procs += chromium_processes()
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        return cls(time.monotonic(), {p.pid: _cpu(p) for p in procs}, busy)


def cpu_between(tier: Tier, start: CpuMark, end: CpuMark, serving: set[str]) -> dict[str, float]:
    """CPU seconds spent between two marks by the serving Streamlit processes, Chromium, the backend, the machine."""

    def spent(pid: int) -> float:
        return end.per_pid.get(pid, 0.0) - start.per_pid.get(pid, 0.0)

    every = {r.pid for r in tier.replicas}
    replicas = {r.pid for r in tier.replicas if r.address in serving}
    backend = tier.backend_pid
    chromium = sum(spent(pid) for pid in end.per_pid if pid not in every and pid != backend)
    return {
        "streamlit": sum(spent(pid) for pid in replicas),
        "chromium": chromium,
        "backend": spent(backend),
        "machine": end.machine_busy - start.machine_busy,
    }


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


# ---- seating ---------------------------------------------------------------------------------------------------


@dataclass
class Room:
    code: str
    auth: dict[str, str]
    pages: list[Page] = field(default_factory=list)
    light: list[LightPlayer] = field(default_factory=list)


async def _room(http: httpx.AsyncClient, n: int) -> Room:
    resp = await http.post("/api/rooms", json={"name": f"Host {n}"})
    resp.raise_for_status()
    seat = resp.json()
    room = Room(seat["room_code"], {"Authorization": f"Bearer {seat['token']}"})
    body = {"discussion_seconds": 600, "voting_seconds": 300}
    (await http.patch(f"/api/rooms/{room.code}/settings", json=body, headers=room.auth)).raise_for_status()
    return room


async def _join(
    browser: Browser, url: str, room: Room, name: str, cookie: str | None = None, attempts: int = 3
) -> Page:
    """One player through the real UI: the share link, the join form, then the seat's status light.

    On a saturated machine a page can miss its timeout; it is closed and opened again (if it timed out after
    the click, its seat stays in the room as a player without a page, which no figure counts).
    """
    for attempt in range(attempts):
        context = await browser.new_context(viewport={"width": 1100, "height": 800})
        if cookie is not None:  # the affinity key of one replica: nginx sends this page there
            await context.add_cookies([{"name": "parlor_frontend", "value": cookie, "url": url}])
        await context.add_init_script(script=PROBE_JS)  # in every document of this page, reloads included
        page = await context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            await page.goto(f"{url}/?room={room.code}")
            form = page.get_by_test_id("stForm").filter(has_text="Join a room")
            await form.get_by_label("Your name").fill(name)
            await form.get_by_role("button", name="Join room").click()
            await page.get_by_test_id("connection-status").wait_for()
        except PlaywrightTimeout:
            await context.close()
            if attempt == attempts - 1:
                raise
            print(f"{name}: the join form timed out, opening the page again", flush=True)
            continue
        return page
    raise AssertionError("unreachable")


async def seat_players(
    browsers: list[Browser],
    http: httpx.AsyncClient,
    url: str,
    players: int,
    parallel: int = 3,
    first: int = 0,
    cookie: str | None = None,
) -> list[Room]:
    """New rooms of up to 12 (a Python host and up to 11 pages), every page joined through the UI; games started."""
    per_room = ROOM_SIZE - 1
    # Each room is created when its first page is about to join: seating 100 pages takes minutes, and a room
    # created up front with nobody in it yet is swept as an empty lobby (LOBBY_IDLE_SECONDS, 5 min) first.
    rooms: list[Room] = []
    made = asyncio.Lock()
    gate = asyncio.Semaphore(parallel)

    async def room_for(i: int) -> Room:
        async with made:
            while len(rooms) <= i // per_room:
                rooms.append(await _room(http, first + len(rooms)))
            return rooms[i // per_room]

    async def one(i: int) -> None:
        async with gate:
            room = await room_for(i)
            page = await _join(browsers[i % len(browsers)], url, room, f"Player {first}.{i}", cookie)
        room.pages.append(page)

    await asyncio.gather(*(one(i) for i in range(players)))
    for n, room in enumerate(rooms):
        for _ in range(3 - 1 - len(room.pages)):  # a game needs three players: bots fill a small last room
            (await http.post(f"/api/rooms/{room.code}/bots", headers=room.auth)).raise_for_status()
        if n:
            await asyncio.sleep(START_STAGGER_SECONDS)  # tables start one after another, not in the same instant
        (await http.post(f"/api/rooms/{room.code}/start", headers=room.auth)).raise_for_status()
    for room in rooms:
        for page in room.pages:
            await page.get_by_test_id("word").wait_for()
            await page.locator(".parlor-status-text", has_text=CONNECTED).wait_for()
    return rooms


async def seat_light(
    http: httpx.AsyncClient, tier: Tier, players: int, first: int, cookies: list[str | None]
) -> list[Room]:
    """Rooms of up to 12 (a Python host and 11 light players, their Streamlit sessions spread over `cookies`)."""
    per_room = ROOM_SIZE - 1
    rooms = [await _room(http, first + n) for n in range(math.ceil(players / per_room))]
    for i in range(players):
        room = rooms[i // per_room]
        cookie = cookies[i % len(cookies)]
        room.light.append(await join_light(http, tier.url, tier.backend.url, room.code, f"Light {i}", cookie))
    for room in rooms:
        for _ in range(3 - 1 - len(room.light)):
            (await http.post(f"/api/rooms/{room.code}/bots", headers=room.auth)).raise_for_status()
        (await http.post(f"/api/rooms/{room.code}/start", headers=room.auth)).raise_for_status()
    return rooms


# ---- one measurement -------------------------------------------------------------------------------------------


async def _post(http: httpx.AsyncClient, room: Room, text: str) -> float:
    """POST one clue as the room's host; returns the epoch ms read just before the request."""
    t0 = time.time() * 1000
    resp = await http.post(f"/api/rooms/{room.code}/clues", json={"text": text}, headers=room.auth)
    resp.raise_for_status()
    return t0


async def fresh_round(http: httpx.AsyncClient, room: Room) -> None:
    """Put the room in a new discussion round with its whole clock (10 min), whatever phase it reached.

    A long run outlives one discussion; the host ends it (and the vote nobody casts: a tie, no one out).
    """
    state = (await http.get(f"/api/rooms/{room.code}/state", headers=room.auth)).json()
    steps = {"discussion": 2, "voting": 1}.get(str(state.get("phase")), 0)
    for _ in range(steps):
        (await http.post(f"/api/rooms/{room.code}/advance", headers=room.auth)).raise_for_status()


async def _reports(rooms: list[Room], prefix: str) -> list[tuple[Room, Page, dict[str, Any]]]:
    out = []
    for room in rooms:
        for page in room.pages:
            for _ in range(40):  # a page reloading right now has no probe for a moment
                report = await page.evaluate("p => window.parlorLoad && window.parlorLoad.report(p)", prefix)
                if report:
                    break
                await asyncio.sleep(0.25)
            out.append((room, page, report or {"seen": {}, "most": {}, "boots": 0}))
    return out


async def measure(
    tier: Tier, http: httpx.AsyncClient, rooms: list[Room], result: Result, homes: dict[Page, str], tag: str
) -> None:
    """Post clues for `result.seconds` at `result.interval` per room; fill in latency, losses and CPU."""
    await asyncio.gather(*(fresh_round(http, room) for room in rooms))
    warm = f"warm {tag}"
    await asyncio.gather(*(_post(http, room, f"{warm} {n}") for n, room in enumerate(rooms)))
    for n, room in enumerate(rooms):
        for page in room.pages:
            await page.wait_for_function("t => window.parlorLoad && t in window.parlorLoad.seen", arg=f"{warm} {n}")
        while any(f"{warm} {n}" not in player.seen for player in room.light):
            await asyncio.sleep(0.1)
    idle_start = CpuMark.take(tier)
    await asyncio.sleep(IDLE_SECONDS)
    idle_cpu = cpu_between(tier, idle_start, CpuMark.take(tier), serving=set(homes.values()))
    result.chromium_idle_seconds = idle_cpu["chromium"]

    prefix = f"{tag} "
    posted: dict[str, tuple[Room, float]] = {}
    boots_before = {id(page): int(rep.get("boots", 1)) for _, page, rep in await _reports(rooms, "-")}
    load_before = os.getloadavg()[0]
    start = CpuMark.take(tier)
    began = time.monotonic()

    async def drive(n: int, room: Room) -> None:
        await asyncio.sleep(result.interval * n / len(rooms))
        k = 0
        while time.monotonic() - began < result.seconds:
            text = f"{prefix}r{n} c{k}"
            posted[text] = (room, await _post(http, room, text))
            k += 1
            await asyncio.sleep(max(0.0, began + result.interval * (k + n / len(rooms)) - time.monotonic()))

    await asyncio.gather(*(drive(n, room) for n, room in enumerate(rooms)))
    deadline = time.monotonic() + GRACE_SECONDS
    while True:
        reports = await _reports(rooms, prefix)
        waiting = sum(
            1 for room, _, rep in reports for text, (r, _) in posted.items() if r is room and text not in rep["seen"]
        )
        waiting += sum(
            1
            for room in rooms
            for player in room.light
            for text, (r, _) in posted.items()
            if r is room and text not in player.seen
        )
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    end = CpuMark.take(tier)
    result.wall_seconds = end.at - start.at
    result.cpu = cpu_between(tier, start, end, serving=set(homes.values()))
    result.load = (load_before, os.getloadavg()[0])
    result.clues_posted = len(posted)
    result.page_reloads = sum(max(0, int(rep.get("boots", 0)) - boots_before[id(page)]) for _, page, rep in reports)

    deliveries: dict[str, int] = {}
    for room, page, rep in reports:
        for text, (r, t0) in posted.items():
            if r is not room:
                continue
            if text in rep["seen"]:
                result.samples_ms.append(float(rep["seen"][text]) - t0)
                deliveries[homes[page]] = deliveries.get(homes[page], 0) + 1
            else:
                result.missing += 1
        result.doubled += sum(1 for n in rep["most"].values() if n > 1)
    for room in rooms:
        for player in room.light:
            for text, (r, t0) in posted.items():
                if r is not room:
                    continue
                if text in player.seen:
                    result.light_samples_ms.append(player.seen[text] - t0)
                else:
                    result.light_missing += 1
            result.light_doubled += sum(1 for n in player.most.values() if n > 1)
    for replica in tier.replicas:
        sessions = sum(1 for home in homes.values() if home == replica.address)
        if not sessions:
            continue  # a replica serving no page here is not part of this measurement
        cpu = end.per_pid[replica.pid] - start.per_pid[replica.pid]
        result.replicas.append(
            ReplicaUsage(replica.name, sessions, cpu, deliveries.get(replica.address, 0), rss(replica.pid), 0)
        )


async def page_homes(tier: Tier, rooms: list[Room]) -> dict[Page, str]:
    """Which replica serves each page: its affinity cookie, looked up in nginx's access log."""
    by_key = tier.replicas_by_key()
    homes = {}
    for room in rooms:
        for page in room.pages:
            key = next(c["value"] for c in await page.context.cookies() if c["name"] == "parlor_frontend")
            served = by_key[key]
            assert len(served) == 1, f"a page's requests reached {served}"
            homes[page] = next(iter(served))
    return homes


async def run_series(
    tier: Tier,
    counts: list[int],
    intervals: list[float],
    seconds: float,
    browsers: int = 1,
    *,
    pin: str | None = None,
    spread_to: str | None = None,
    done: list[Result] | None = None,
    save: Path | None = None,
    light: int = 0,
    light_cookies: list[str | None] | None = None,
) -> list[Result]:
    """Grow to each player count in turn (new pages in new rooms) and measure every cadence at each count.

    Pages seated for a smaller count stay for the larger ones, so seating costs `max(counts)` joins, not their
    sum; their rooms' feeds are longer by then (see the report). Stops growing at the first count that fails.
    `pin` is the affinity cookie every page gets (one replica serves them all). With `spread_to` (another
    replica's cookie), the largest count is then measured again over both replicas: whole rooms are closed
    while at least half the pages stay, and new pages on the other replica make up the count.
    `light` protocol-level players (loadtest/light_players.py), seated first in rooms of their own with their
    Streamlit sessions spread over `light_cookies`, stay for every measurement and count among the players.
    """
    results: list[Result] = []
    done = [] if done is None else done
    idle = {r.pid: rss(r.pid) for r in tier.replicas}

    async def measure_all(rooms: list[Room], players: int, seat_seconds: float) -> None:
        homes = await page_homes(tier, rooms)
        for interval in intervals:
            serving = len(set(homes.values()))
            every = rooms + light_rooms
            result = Result(
                players + light,
                interval,
                serving,
                browsers,
                seconds,
                len(every),
                seat_seconds=seat_seconds,
                light=light,
            )
            await measure(tier, http, every, result, homes, f"k{players} f{serving} i{interval:g}")
            for usage in result.replicas:
                usage.rss_idle_bytes = idle[next(r.pid for r in tier.replicas if r.name == usage.name)]
            print(result.summary(), flush=True)
            results.append(result)
            if save is not None:
                save.write_text(json.dumps([asdict(r) for r in done + results], indent=1))

    async with async_playwright() as pw, httpx.AsyncClient(base_url=tier.backend.url, timeout=30) as http:
        pool = [await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS) for _ in range(browsers)]
        light_rooms: list[Room] = []
        try:
            if light:
                light_rooms = await seat_light(http, tier, light, 2000, light_cookies or [pin])
            rooms: list[Room] = []
            for players in counts:
                t0 = time.monotonic()
                seated = sum(len(room.pages) for room in rooms)
                try:
                    rooms += await seat_players(pool, http, tier.url, players - seated, first=len(rooms), cookie=pin)
                except Exception as exc:  # the report says which count could not be seated, and why
                    print(f"{players} players could not be seated: {exc!r}", flush=True)
                    break
                await measure_all(rooms, players, time.monotonic() - t0)
            if spread_to is not None and results:
                players = results[-1].pages
                while rooms and sum(len(room.pages) for room in rooms) - len(rooms[-1].pages) >= players // 2:
                    for page in rooms.pop().pages:
                        await page.context.close()
                t0 = time.monotonic()
                left = players - sum(len(room.pages) for room in rooms)
                rooms += await seat_players(pool, http, tier.url, left, first=1000, cookie=spread_to)
                await measure_all(rooms, players, time.monotonic() - t0)
        finally:
            for room in light_rooms:
                for player in room.light:
                    await player.close()
            for browser in pool:
                await browser.close()
    return results


@contextlib.contextmanager
def tier_for(frontends: int) -> Iterator[Tier]:
    with (
        tempfile.TemporaryDirectory(prefix="parlor-browser-load-") as tmp,
        frontend_tier(Path(tmp), replicas=frontends, backend_env=BACKEND_ENV) as tier,
    ):
        yield tier


def run(
    players: list[int],
    intervals: list[float],
    seconds: float,
    two_frontends: bool = True,
    browsers: int = 1,
    compare_browsers: int = 0,
    save: Path | None = None,
    light: int = 0,
) -> list[Result]:
    """Every player count on one Streamlit process, then the largest over two; stops growing at failure.

    Both replicas run from the start, and every page is pinned to the first by its affinity cookie, so the
    second costs nothing until the two-frontend measurement. With `compare_browsers`, the smallest count runs
    once more with its pages spread over that many Chromium processes (one browser with many contexts, or
    several browsers: which costs less). With `save`, every result is written there as soon as it is measured.
    """
    results: list[Result] = []
    with tier_for(2 if two_frontends else 1) as tier:
        keys = [tier.affinity_keys()[r.address] for r in tier.replicas] if two_frontends else [None]
        series = run_series(
            tier,
            players,
            intervals,
            seconds,
            browsers,
            pin=keys[0],
            spread_to=keys[-1] if two_frontends else None,
            save=save,
            light=light,
            light_cookies=list(keys),
        )
        results += asyncio.run(series)
        if compare_browsers > 1:
            again = run_series(
                tier, [min(players)], [min(intervals)], seconds, compare_browsers, pin=keys[0], done=results, save=save
            )
            results += asyncio.run(again)
    return results


# ---- report ----------------------------------------------------------------------------------------------------


def capacity(results: list[Result]) -> list[str]:
    """Sessions one Streamlit process holds within p95 100 ms, measured and as its CPU allows."""
    lines = []
    for interval in sorted({r.interval for r in results}, reverse=True):
        one = [r for r in results if r.frontends == 1 and r.interval == interval]
        ok = [r.players for r in one if r.p(95) <= TARGET_P95_MS and not r.missing and not r.doubled]
        cost = [r.cpu_ms_per_clue_per_session for r in one if not math.isnan(r.cpu_ms_per_clue_per_session)]
        if not one:
            continue
        measured = f"{max(ok)} measured" if ok else "none of the measured counts"
        bound = ""
        if cost:
            # one process is one core at most (the GIL); each session takes one clue per `interval`
            per_session = statistics.median(cost) / 1000 / interval
            bound = f"; its CPU alone would allow about {1 / per_session:.0f} sessions at one core"
        lines.append(f"- one clue per room every {interval:g} s: {measured} within p95 ≤ 100 ms{bound}.")
    return lines


def chromium_limit(results: list[Result]) -> list[str]:
    lines = []
    for r in results:
        if r.frontends != 1:
            continue
        per_page = r.cpu.get("chromium", 0.0) / r.wall_seconds / r.players if r.wall_seconds else math.nan
        lines.append(
            f"- {r.players} pages, a clue every {r.interval:g} s: Chromium used {r.share('chromium'):.0%} of the "
            f"machine and Streamlit {r.share('streamlit'):.0%} ({per_page * 1000:.0f} ms of Chromium CPU per page "
            f"per second, so {os.cpu_count()} cores hold about {(os.cpu_count() or 1) / per_page:.0f} such pages "
            "with nothing else running)."
        )
    return lines


def crowded(busiest: float, cores: int) -> str:
    """What a high load average during a run says, and does not: it counts the run's own threads (every Chromium
    renderer's) as well as any other work on the machine."""
    return (
        f"The cores were crowded during the windows (1-minute load average up to {busiest:.0f} on {cores} cores, "
        "counting this run's own Chromium, Streamlit and backend threads and anything else running): latency "
        "includes waits for a core, and the machine-busy share is everyone's."
    )


def markdown(results: list[Result], command: str) -> str:
    base = min((r.browsers for r in results), default=1)
    browsers = "one browser process" if base == 1 else f"{base} browser processes"
    lines = [
        "## Browser load: K Chromium pages as players, through nginx and the Streamlit frontends",
        "",
        f"`{command}` — real uvicorn, Streamlit behind `deploy/nginx-frontend.conf` (cookie affinity), real",
        f"headless Chromium ({browsers}, a context per player). Rooms of up to 12: a host driven over",
        "REST posts one clue per room at the given cadence, up to 11 pages joined through the UI's join form.",
        "Push-to-screen: Python's `time.time()` before the clue's POST to a MutationObserver seeing the text in",
        "each page (`loadtest/load_probe.js`). Missing: not on screen 10 s after the window; doubled: a text in",
        "two feed rows at once; pages reloaded: pages that reloaded themselves in the window (the frontend",
        "watchdog, on losing the Streamlit session). Streamlit CPU per clue per session: the Streamlit",
        "processes' CPU over the window (psutil) divided by clues delivered to their pages; RSS per session: the",
        "process's growth from before seating, per page. CPU shares are of the whole machine (all cores) over the",
        "window.",
        "",
        "| players | frontends | clue every | rooms | clues | samples | p50 (ms) | p95 (ms) | max (ms) | missing "
        "| doubled | pages reloaded | Streamlit CPU per clue per session (ms) | RSS per session (MB) | Streamlit CPU "
        "| Chromium CPU | backend CPU | machine busy | load 1 min |",
        "|" + "---:|" * 19,
    ]
    main = [r for r in results if r.browsers == base]
    for r in main:
        lines.append(
            f"| {r.players} | {r.frontends} | {r.interval:g} s | {r.rooms} | {r.clues_posted} | {len(r.samples_ms)} "
            f"| {r.p(50):.0f} | {r.p(95):.0f} | {max(r.samples_ms, default=math.nan):.0f} | {r.missing} "
            f"| {r.doubled} | {r.page_reloads} | {r.cpu_ms_per_clue_per_session:.2f} | {r.rss_mb_per_session:.1f} "
            f"| {r.share('streamlit'):.0%} | {r.share('chromium'):.0%} | {r.share('backend'):.0%} "
            f"| {r.share('machine'):.0%} | {r.load[0]:.1f}–{r.load[1]:.1f} |"
        )
    several = [r for r in results if r.browsers > base]
    if several:
        lines += [
            "",
            "**One Chromium process or several** (the same pages, Chromium CPU per delivered clue per page):",
            "",
        ]
        for r in several:
            same = [o for o in main if (o.players, o.frontends, o.interval) == (r.players, r.frontends, r.interval)]
            one = f"{same[0].chromium_ms_per_clue_per_page:.1f} ms, p95 {same[0].p(95):.0f} ms" if same else "not run"
            lines.append(
                f"- {r.players} pages, a clue every {r.interval:g} s: one browser {one}; {r.browsers} browsers "
                f"{r.chromium_ms_per_clue_per_page:.1f} ms, p95 {r.p(95):.0f} ms."
            )
    two = [r for r in main if r.frontends == 2]
    if two:
        lines += ["", "Per frontend process in the two-frontend runs:", ""]
        for r in two:
            parts = [
                f"{u.name} {u.sessions} sessions, {u.cpu_ms_per_clue_per_session:.2f} ms CPU per clue per session"
                for u in r.replicas
            ]
            lines.append(f"- {r.label}: " + "; ".join(parts) + ".")
    cores = os.cpu_count() or 1
    busiest = max((max(r.load) for r in results), default=0.0)
    if busiest > 2 * cores:
        lines += [
            "",
            crowded(busiest, cores) + " The CPU-time figures (per clue per session, per page) are the processes' "
            "own and hold whatever else ran.",
        ]
    lines += ["", "**How many sessions one Streamlit process holds** (p95 push-to-screen ≤ 100 ms):", ""]
    lines += capacity(main)
    lines += ["", "**How Chromium limits the test on this machine:**", ""]
    lines += chromium_limit(main)
    lines += [
        "",
        "![push-to-screen latency against browser players](img/bench-browser-load-latency.png)",
        "",
        "![CPU per clue and CPU shares against browser players](img/bench-browser-load-cpu.png)",
        "",
        machine_line(("streamlit", "streamlit-js-eval", "playwright", "fastapi", "uvicorn")),
        "",
    ]
    return "\n".join(lines)


def mixed_markdown(results: list[Result], command: str) -> str:
    """The mixed load: real pages that measure, protocol-level players that load, each population on its own."""
    lines = [
        "## Browser load, 100 players: real Chromium pages and protocol-level players, through two frontends",
        "",
        f"`{command}` — as the browser-load section above (real uvicorn, Streamlit behind "
        "`deploy/nginx-frontend.conf`, rooms of up to 12, one clue per room at the cadence, games started "
        "staggered by seating), with the players the machine cannot hold as Chromium pages played by protocol-level "
        "clients (`loadtest/light_players.py`): each holds a real Streamlit session (Streamlit's own WebSocket "
        "through nginx, the page script run for the room link) and a real seat with the bridge's backend socket, "
        "on which it timestamps each clue (push-to-client, nothing rendered). Pages: push-to-screen as above. "
        f"Chromium idle: all Chromium processes' CPU over {IDLE_SECONDS:g} s with nothing happening, per page; per "
        "clue: Chromium's CPU over the window beyond that idle rate, per delivered clue per page. The first row of "
        "each count has every page on one Streamlit process; the second spreads them over both (the protocol "
        "players' Streamlit sessions are spread over both in every row).",
        "",
        "| players | pages | protocol players | frontends | clue every | rooms | clues | pages: p50 / p95 / max (ms) "
        "| pages: missing, doubled, reloaded | protocol: p50 / p95 / max (ms) | protocol: missing, doubled "
        "| Chromium idle per page (ms/s) | Chromium per clue per page (ms) | Streamlit CPU | Chromium CPU "
        "| machine busy | load 1 min |",
        "|" + "---:|" * 17,
    ]
    for r in results:
        lines.append(
            f"| {r.players} | {r.pages} | {r.light} | {r.frontends} | {r.interval:g} s | {r.rooms} | {r.clues_posted} "
            f"| {r.p(50):.0f} / {r.p(95):.0f} / {max(r.samples_ms, default=math.nan):.0f} "
            f"| {r.missing}, {r.doubled}, {r.page_reloads} "
            f"| {r.light_p(50):.0f} / {r.light_p(95):.0f} / {max(r.light_samples_ms, default=math.nan):.0f} "
            f"| {r.light_missing}, {r.light_doubled} | {r.chromium_idle_ms_per_page_s:.1f} "
            f"| {r.chromium_net_ms_per_clue_per_page:.1f} | {r.share('streamlit'):.0%} | {r.share('chromium'):.0%} "
            f"| {r.share('machine'):.0%} | {r.load[0]:.1f}–{r.load[1]:.1f} |"
        )
    busiest = max((max(r.load) for r in results), default=0.0)
    if busiest > 2 * (os.cpu_count() or 1):
        lines += [
            "",
            crowded(busiest, os.cpu_count() or 1),
        ]
    lines += [
        "",
        "![push-to-screen and push-to-client latency, 100 players](img/bench-browser-load-mixed.png)",
        "",
        machine_line(("streamlit", "streamlit-js-eval", "playwright", "fastapi", "uvicorn")),
        "",
    ]
    return "\n".join(lines)


def plot_mixed(results: list[Result], directory: Path = IMG) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        for samples, who, style in ((r.samples_ms, "pages", "-"), (r.light_samples_ms, "protocol players", "--")):
            if samples:
                ordered = sorted(samples)
                ys = [100 * (i + 1) / len(ordered) for i in range(len(ordered))]
                label = f"{who}, {r.frontends} frontend{'s' if r.frontends > 1 else ''}, every {r.interval:g} s"
                ax.plot(ordered, ys, linestyle=style, label=label)
    ax.axvline(TARGET_P95_MS, color="red", linewidth=0.8, linestyle=":", label="100 ms")
    ax.axhline(95, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("clue POST to screen (pages) or to client (protocol players), ms")
    ax.set_ylabel("% of deliveries at or below")
    ax.legend(fontsize=7)
    ax.set_title(f"{results[0].players} players: {results[0].pages} pages, {results[0].light} protocol players")
    fig.tight_layout()
    path = directory / "bench-browser-load-mixed.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(results: list[Result], directory: Path = IMG) -> list[Path]:
    import matplotlib

    base = min((r.browsers for r in results), default=1)  # as the table: the runs over the fewest browsers
    results = [r for r in results if r.browsers == base]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(7, 4))
    for interval in sorted({r.interval for r in results}, reverse=True):
        for frontends, marker in ((1, "o"), (2, "s")):
            rows = sorted(
                (r for r in results if r.interval == interval and r.frontends == frontends), key=lambda r: r.players
            )
            if not rows:
                continue
            xs = [r.players for r in rows]
            label = f"every {interval:g} s, {frontends} frontend{'s' if frontends > 1 else ''}"
            ax.plot(xs, [r.p(95) for r in rows], marker=marker, label=f"p95, {label}")
            ax.plot(xs, [r.p(50) for r in rows], marker=marker, linestyle="--", label=f"p50, {label}")
    ax.axhline(TARGET_P95_MS, color="red", linewidth=0.8, linestyle=":", label="100 ms")
    ax.set_xlabel("concurrent browser players")
    ax.set_ylabel("push-to-screen (ms)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.set_title("Clue POST to text in every player's page")
    fig.tight_layout()
    paths.append(directory / "bench-browser-load-latency.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    one = sorted((r for r in results if r.frontends == 1), key=lambda r: (r.interval, r.players))
    for interval in sorted({r.interval for r in one}, reverse=True):
        rows = [r for r in one if r.interval == interval]
        xs = [r.players for r in rows]
        left.plot(
            xs, [r.cpu_ms_per_clue_per_session for r in rows], marker="o", label=f"Streamlit, every {interval:g} s"
        )
        left.plot(
            xs, [r.chromium_ms_per_clue_per_page for r in rows], marker="^", label=f"Chromium, every {interval:g} s"
        )
        right.plot(xs, [100 * r.share("streamlit") for r in rows], marker="o", label=f"Streamlit, every {interval:g} s")
        right.plot(xs, [100 * r.share("chromium") for r in rows], marker="^", label=f"Chromium, every {interval:g} s")
        right.plot(xs, [100 * r.share("machine") for r in rows], linestyle=":", label=f"machine, every {interval:g} s")
    left.set_xlabel("concurrent browser players (one frontend)")
    left.set_ylabel("CPU ms per delivered clue per session/page")
    left.legend(fontsize=7)
    right.set_xlabel("concurrent browser players (one frontend)")
    right.set_ylabel(f"% of the machine ({os.cpu_count()} cores)")
    right.set_ylim(0, 100)
    right.legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "bench-browser-load-cpu.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so every server and browser this run started is stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, nargs="+", default=[10, 25, 50, 100], help="page counts, one frontend")
    parser.add_argument("--intervals", type=float, nargs="+", default=[3.0, 1.0], help="seconds between clues per room")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window per cadence")
    parser.add_argument(
        "--two-frontends", action="store_true", help="then measure the largest count over two Streamlit processes"
    )
    parser.add_argument("--browsers", type=int, default=1, help="Chromium processes the pages are spread over")
    parser.add_argument(
        "--compare-browsers", type=int, default=0, help="also run the smallest count over this many browsers"
    )
    parser.add_argument(
        "--write", action="store_true", help="write docs/benchmarks.md and docs/img/bench-browser-load-*"
    )
    parser.add_argument("--json", type=Path, help="write the results here, each as soon as it is measured")
    parser.add_argument(
        "--light", type=int, default=0, help="protocol-level players beside the pages (loadtest/light_players.py)"
    )
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="measure nothing: report the results saved by earlier runs"
    )
    parser.add_argument("--command", help="with --from-json: the command that measured them, quoted in the report")
    args = parser.parse_args(argv)
    if args.from_json:
        results = [Result.from_dict(raw) for path in args.from_json for raw in json.loads(path.read_text())]
    else:
        two = args.two_frontends
        results = run(
            args.players,
            args.intervals,
            args.seconds,
            two,
            args.browsers,
            args.compare_browsers,
            save=args.json,
            light=args.light,
        )
    if args.write and results:
        command = "python -m loadtest.browser_load " + " ".join(argv if argv is not None else sys.argv[1:])
        if args.from_json:
            command = args.command or "python -m loadtest.browser_load … --json FILE` then `… --from-json FILE --write"
        if any(r.light for r in results):
            plot_mixed(results)
            update_section("browser-load-mixed", mixed_markdown(results, command.strip()))
        else:
            plot(results)
            update_section("browser-load", markdown(results, command.strip()))
    clean = all(not (r.missing or r.doubled or r.light_missing or r.light_doubled) for r in results)
    return 0 if results and clean else 1


if __name__ == "__main__":
    sys.exit(main())

"""Flood benchmark: one address floods the backend while honest rooms play, side by side with a quiet run.

Loopback only. Honest rooms each use their own address (127.0.0.2, 127.0.0.3, ...): four players, a socket
each, one clue per room per second over REST. The attacker, on 127.0.0.250, floods for the whole window:
room creation, joins to guessed codes, long-polls held on its own seat, and WebSocket handshakes that never
send hello. The backend runs with the default per-client limits. The same run is made without the attacker,
on a fresh backend, and the honest rooms' delivery (commit `ts` to socket receipt) is compared.

    python -m loadtest.flood --rooms 20 --seconds 30     # prints figures, writes section "flood"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from launchers.process import Server
from loadtest.harness import parlor_server
from loadtest.report import machine_line, percentile, update_section

ATTACKER = "127.0.0.250"
# The backend's own defaults for every per-client limit (the harness lifts them for other benchmarks).
DEFAULT_LIMITS = {
    "RATE_LIMIT_CREATE": "20/minute",
    "RATE_LIMIT_JOIN": "60/minute",
    "RATE_LIMIT_SUMMARY": "120/minute",
    "RATE_LIMIT_MISS": "20/minute",
    "RATE_LIMIT_HANDSHAKE": "120/minute",
    "MAX_ROOMS_PER_ADDRESS": "10",
    "MAX_LONGPOLLS_PER_TOKEN": "2",
    "CLUE_INTERVAL_SECONDS": "0",
    "MAX_CLUES_PER_ROUND": "100000",
}
FLOOD_TASKS = 24


@dataclass
class Room:
    address: str
    seats: list[dict[str, str]]
    posted: list[int] = field(default_factory=list)  # event ids of clues committed


@dataclass
class Result:
    delays: list[float]
    posted: int
    missing: int
    doubled: int
    failed_moves: int
    attacker: Counter[str]


def _client(base: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, transport=httpx.AsyncHTTPTransport(local_address=address), timeout=30)


async def _make_room(base: str, address: str) -> Room:
    async with _client(base, address) as http:
        host = (await http.post("/api/rooms", json={"name": "Host"})).json()
        seats = [host]
        for name in ("Ann", "Bo", "Cy"):
            seats.append((await http.post(f"/api/rooms/{host['room_code']}/players", json={"name": name})).json())
        auth = {"Authorization": f"Bearer {host['token']}"}
        await http.patch(f"/api/rooms/{host['room_code']}/settings", json={"discussion_seconds": 600}, headers=auth)
        await http.post(f"/api/rooms/{host['room_code']}/start", headers=auth)
    return Room(address, seats)


async def _listen(
    ws_base: str, room: Room, seat: dict[str, str], frames: list[dict[str, Any]], stop: asyncio.Event
) -> None:
    host = room.address
    async with websockets.connect(f"{ws_base}/ws/{seat['room_code']}", local_addr=(host, 0)) as ws:
        await ws.send(json.dumps({"type": "hello", "player_id": seat["player_id"], "token": seat["token"]}))
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if frame.get("type") == "clue_posted":
                frame["_rx"] = time.time()
                frames.append(frame)


async def _play(base: str, room: Room, seconds: float, failed: list[int]) -> None:
    async with _client(base, room.address) as http:
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            started = time.monotonic()
            seat = room.seats[n % len(room.seats)]
            resp = await http.post(
                f"/api/rooms/{seat['room_code']}/clues",
                json={"text": f"note {n}"},
                headers={"Authorization": f"Bearer {seat['token']}", "Idempotency-Key": f"{seat['player_id']}-{n}"},
            )
            if resp.status_code == 200:
                room.posted.append(resp.json()["last_event_id"])
            else:
                failed.append(resp.status_code)
            n += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def _flood(base: str, ws_base: str, stop: asyncio.Event, tally: Counter[str]) -> None:
    rng = random.Random(7)
    async with _client(base, ATTACKER) as http:
        seat: dict[str, str] | None = None
        resp = await http.post("/api/rooms", json={"name": "Flood"})
        last = 0
        if resp.status_code == 201:
            seat = resp.json()
            auth = {"Authorization": f"Bearer {seat['token']}"}
            last = (await http.get(f"/api/rooms/{seat['room_code']}/events", headers=auth)).json()["last_event_id"]

        async def one(kind: int) -> None:
            while not stop.is_set():
                try:
                    if kind == 0:
                        r = await http.post("/api/rooms", json={"name": f"F{rng.randrange(10**6)}"})
                        tally[f"create {r.status_code}"] += 1
                    elif kind == 1:
                        code = "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(5))
                        r = await http.post(f"/api/rooms/{code}/players", json={"name": f"J{rng.randrange(10**6)}"})
                        tally[f"join {r.status_code}"] += 1
                    elif kind == 2 and seat is not None:
                        r = await http.get(
                            f"/api/rooms/{seat['room_code']}/events",
                            params={"after": last, "wait": 25},
                            headers={"Authorization": f"Bearer {seat['token']}"},
                        )
                        tally[f"longpoll {r.status_code}"] += 1
                    else:
                        code = seat["room_code"] if seat else "AAAAA"
                        async with websockets.connect(f"{ws_base}/ws/{code}", local_addr=(ATTACKER, 0)) as ws:
                            try:
                                await asyncio.wait_for(ws.recv(), 10)
                            except websockets.ConnectionClosed as closed:
                                tally[f"handshake close {closed.rcvd.code if closed.rcvd else None}"] += 1
                except (httpx.HTTPError, OSError, websockets.WebSocketException, TimeoutError) as exc:
                    tally[f"error {type(exc).__name__}"] += 1

        await asyncio.gather(*(one(i % 4) for i in range(FLOOD_TASKS)))


async def _run(server: Server, rooms_n: int, seconds: float, flood: bool) -> Result:
    base, ws_base = server.url, server.ws_url
    rooms = [await _make_room(base, f"127.0.0.{2 + i}") for i in range(rooms_n)]
    stop = asyncio.Event()
    frames: dict[tuple[int, int], list[dict[str, Any]]] = {}
    listeners = []
    for r, room in enumerate(rooms):
        for s, seat in enumerate(room.seats):
            frames[(r, s)] = []
            listeners.append(asyncio.create_task(_listen(ws_base, room, seat, frames[(r, s)], stop)))
            await asyncio.sleep(0.05)  # a gentle ramp: 80 simultaneous hellos on a loaded machine miss their 5 s
    await asyncio.sleep(1.0)
    tally: Counter[str] = Counter()
    flood_stop = asyncio.Event()
    attacker = asyncio.create_task(_flood(base, ws_base, flood_stop, tally)) if flood else None
    failed: list[int] = []
    await asyncio.gather(*(_play(base, room, seconds, failed) for room in rooms))
    await asyncio.sleep(1.0)
    flood_stop.set()
    stop.set()
    if attacker is not None:
        attacker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await attacker
    errors = [repr(e) for e in await asyncio.gather(*listeners, return_exceptions=True) if e is not None]
    if errors:
        print(f"{len(errors)} listener(s) failed, e.g. {errors[0]}", flush=True)
    delays, missing, doubled = [], 0, 0
    for (r, _s), got in frames.items():
        ids = [f["id"] for f in got]
        missing += len(set(rooms[r].posted) - set(ids))
        doubled += len(ids) - len(set(ids))
        delays += [max(0.0, f["_rx"] - f["ts"]) for f in got]
    return Result(delays, sum(len(r.posted) for r in rooms), missing, doubled, len(failed), tally)


def run(rooms: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, flood in (("quiet", False), ("flood", True)):
        with parlor_server(DEFAULT_LIMITS) as server:
            result = asyncio.run(_run(server, rooms, seconds, flood))
        out[label] = {
            "p50_ms": 1000 * percentile(result.delays, 50) if result.delays else float("nan"),
            "p99_ms": 1000 * percentile(result.delays, 99) if result.delays else float("nan"),
            "frames": len(result.delays),
            "posted": result.posted,
            "missing": result.missing,
            "doubled": result.doubled,
            "failed_moves": result.failed_moves,
            "attacker": dict(result.attacker.most_common()),
            "load": os.getloadavg(),
        }
    out["p99_ratio"] = out["flood"]["p99_ms"] / max(out["quiet"]["p99_ms"], 1e-9)
    return out


def markdown(figures: dict[str, Any], rooms: int, seconds: float) -> str:
    q, f = figures["quiet"], figures["flood"]
    ql, fl = ("/".join(f"{x:.1f}" for x in run["load"]) for run in (q, f))
    attack = ", ".join(f"{k}: {v}" for k, v in f["attacker"].items())
    return f"""## Flood from one address (`loadtest/flood.py`)

{rooms} honest rooms (4 sockets each, each room on its own loopback address, one clue per room per second
for {seconds:g} s) against a backend with the default per-client limits; in the flood run {ATTACKER} runs
{FLOOD_TASKS} tasks creating rooms, joining guessed codes, holding long-polls and opening sockets that never
send hello, for the whole window. Each run on a fresh backend; delivery is commit `ts` to socket receipt.

| | quiet | flood |
|---|---|---|
| clues committed | {q["posted"]} | {f["posted"]} |
| frames delivered | {q["frames"]} | {f["frames"]} |
| lost / doubled | {q["missing"]} / {q["doubled"]} | {f["missing"]} / {f["doubled"]} |
| failed honest moves | {q["failed_moves"]} | {f["failed_moves"]} |
| delivery p50 | {q["p50_ms"]:.1f} ms | {f["p50_ms"]:.1f} ms |
| delivery p99 | {q["p99_ms"]:.1f} ms | {f["p99_ms"]:.1f} ms |
| load average (1/5/15 min) at the end | {ql} | {fl} |

p99 flood / quiet: **{figures["p99_ratio"]:.2f}x** (acceptance: within 2x).
What the attacker got: {attack}.

{machine_line()}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON, write no report")
    args = parser.parse_args()
    figures = run(args.rooms, args.seconds)
    if args.json:
        print(json.dumps(figures))
        return
    text = markdown(figures, args.rooms, args.seconds)
    print(text)
    update_section("flood", text)


if __name__ == "__main__":
    main()

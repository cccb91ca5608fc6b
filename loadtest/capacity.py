"""Capacity of one backend process: idle WebSocket players held, and fan-out against a floor and a peer.

1. Idle: 1,000 rooms x 10 seated players connect (hello with `last_event_id`, then idle) with the heartbeat
   left on: each client sends the app-level `{"type":"ping"}` every 25 s. RSS is read (psutil) before and
   after the sockets connect; the 20,000 open-file limit is compared with the connections held.
2. Active: 100 rooms x 10 players, one clue per room per second spread evenly, against Parlor, the floor
   (`loadtest/peers/ws_floor.py`, `websockets` alone) and a peer (`loadtest/peers/socketio_peer.py`,
   python-socketio under uvicorn), in this run, with the same client (`loadtest/wsclients.py`), message
   sizes and counts. Every server takes its events the way its clients send them: one member of each room (a
   `Speakers` connection in this process) sends each event over the socket it holds and waits for its ack, and
   receives the event like the room's other members (Parlor: a `command` frame, or with `--parlor-ingest rest`
   a REST clue). Parlor's latency, CPU per delivered frame and RSS per connection are given as ratios.

Measured so that it repeats: each server is loaded `--warmup` seconds before a `--seconds` window is measured
(the frames committed in the window, the server's CPU time over it read from the kernel's per-process CPU clock
in nanoseconds), the server runs pinned to one CPU and the clients and driver to the other (`--pin`), every
server is measured `--runs` times in rotating order, and the verdict is taken on the median of the per-run
ratios, printed with their spread (min / median / max).

    python -m loadtest.capacity            # writes section "capacity" of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx

from launchers.process import PYTHON, ROOT, Server, free_port
from loadtest.browser_ab import export_revision
from loadtest.fanout import (
    FANOUT_ENV,
    INGEST_REST,
    KEEPALIVE_EXPIRY,
    FanoutResult,
    Pinning,
    as_json,
    measure,
    parlor_subs,
    seat_rooms,
)
from loadtest.harness import parlor_server, pin, process_of, rss, run_server
from loadtest.heap import probe_env
from loadtest.report import REPORT, machine_line, update_section
from loadtest.serve import raise_nofile
from loadtest.wsclients import Fleet, Speakers, Sub, drive

HELLO = json.dumps({"type": "hello"})
# The commit that gave Parlor's socket the `command` frame: an --ab reference older than it cannot take ws ingest.
COMMAND_FRAME_COMMIT = "d7a4002"
# Parlor's CPU per delivered frame against the floor and the peer, judged on the median of the runs' ratios
FLOOR_TARGET, PEER_TARGET = 2.0, 0.85
INGEST = {
    "ws": "WebSocket `command` frame (clue)",
    "rest": f"{INGEST_REST} with an Idempotency-Key",
    "floor": "WebSocket JSON message",
    "socketio": "Socket.IO `publish` event with an ack",
}


def _peer_subs(rooms: int, per_room: int, prefix: str) -> list[Sub]:
    return [Sub(f"{prefix}{r:05d}", f"{r:05d}", HELLO) for r in range(rooms) for _ in range(per_room)]


def _speak(subs: Sequence[Sub], per_room: int) -> tuple[list[Sub], list[Sub]]:
    """(speakers, fleet): the first of each room's `per_room` connections publishes, the others only listen."""
    return list(subs[::per_room]), [s for n, s in enumerate(subs) if n % per_room]


def _message(i: int, k: int) -> dict[str, str]:
    # Parlor's player ids are "p_" + 16 hex digits and its driver's names "Player N"; same sizes here
    return {"player_id": f"p_{i:016x}", "name": f"Player {k % 10}", "text": f"zq{k}"}


def _key(i: int, k: int) -> str:
    return f"r{i}-e{k}"  # unique per event: Parlor keeps it as the move's idempotency key


def _run_peer(server: Server, subs: Sequence[Sub], protocol: str, args: argparse.Namespace) -> FanoutResult:
    voices, listeners = _speak(subs, args.per_room)
    speakers = Speakers(server.ws_url, voices, protocol)

    async def publish(i: int, k: int) -> bool:
        return await speakers.publish(i, _key(i, k), _message(i, k))

    return measure(
        server,
        listeners,
        protocol,
        lambda stretch, first: drive(publish, args.active_rooms, stretch, first),
        args.active_rooms,
        args.per_room,
        args.seconds,
        args.procs,
        speakers=speakers,
        ingest=INGEST[protocol],
        warmup=args.warmup,
        pinning=args.pinning,
    )


def run_floor(args: argparse.Namespace) -> FanoutResult:
    port = free_port()
    argv = [PYTHON, "-m", "loadtest.peers.ws_floor", "--port", str(port)]
    with run_server("ws_floor", argv, probe_env({"PYTHONUNBUFFERED": "1"}), port) as server:
        return _run_peer(server, _peer_subs(args.active_rooms, args.per_room, "/room/"), "floor", args)


def run_socketio(args: argparse.Namespace) -> FanoutResult:
    port = free_port()
    argv = [PYTHON, "-m", "loadtest.serve", "--app", "loadtest.peers.socketio_peer:app", "--port", str(port)]
    with run_server("socketio", argv, probe_env({"PYTHONUNBUFFERED": "1"}), port) as server:
        path = "/socket.io/?EIO=4&transport=websocket"
        subs = [Sub(path, s.room) for s in _peer_subs(args.active_rooms, args.per_room, "")]
        return _run_peer(server, subs, "socketio", args)


def run_parlor(
    args: argparse.Namespace, root: Path | None = None, server_args: tuple[str, ...] = (), name: str = "parlor"
) -> FanoutResult:
    """Parlor with its rooms started; each room's first seat speaks, over its socket or (`rest`) over REST."""
    rooms, per_room, seconds = args.active_rooms, args.per_room, args.seconds
    with parlor_server(probe_env(FANOUT_ENV), root, server_args) as server:
        server.name = name
        t0 = time.monotonic()
        seated = asyncio.run(seat_rooms(server.url, rooms, per_room, start=True))
        print(f"seated in {time.monotonic() - t0:.1f} s", flush=True)
        voices, listeners = _speak(parlor_subs(seated), per_room)
        speakers = Speakers(server.ws_url, voices, "parlor")

        async def over_ws(i: int, k: int) -> bool:
            return await speakers.publish(i, _key(i, k), {"text": f"zq{k}"})

        async def over_rest(stretch: float, first: int) -> tuple[int, int]:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_EXPIRY)
            async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:

                async def publish(i: int, k: int) -> bool:
                    seat = seated[i][0][0]
                    headers = {"Authorization": f"Bearer {seat.token}", "Idempotency-Key": _key(i, k)}
                    resp = await http.post(f"/api/rooms/{seat.room}/clues", json={"text": f"zq{k}"}, headers=headers)
                    return resp.status_code == 200

                return await drive(publish, rooms, stretch, first)

        def over_socket(stretch: float, first: int) -> Coroutine[Any, Any, tuple[int, int]]:
            return drive(over_ws, rooms, stretch, first)

        loop = over_rest if args.parlor_ingest == "rest" else over_socket
        return measure(
            server,
            listeners,
            "parlor",
            loop,
            rooms,
            per_room,
            seconds,
            args.procs,
            ping_every=25,
            speakers=speakers,
            ingest=INGEST[args.parlor_ingest],
            warmup=args.warmup,
            pinning=args.pinning,
        )


def run_idle(rooms: int, per_room: int, hold: float, procs: int) -> dict[str, float]:
    """Seat rooms x per_room players, connect them all, hold `hold` seconds; RSS before/after, fds, losses."""
    with parlor_server(FANOUT_ENV) as server:
        t0 = time.monotonic()
        seated = asyncio.run(seat_rooms(server.url, rooms, per_room, start=False))
        seat_s = time.monotonic() - t0
        time.sleep(1)
        rss_before = rss(server)
        t0 = time.monotonic()
        with Fleet(server.ws_url, parlor_subs(seated), "parlor", procs=procs, ping_every=25) as fleet:
            connected, failed = fleet.wait_ready(timeout=600)
            connect_s = time.monotonic() - t0
            time.sleep(hold)
            rss_after, fds = rss(server), process_of(server).num_fds()
            result = fleet.finish()
    return {
        "clients": rooms * per_room,
        "connected": connected,
        "failed": failed,
        "lost": result.lost,
        "seat_s": seat_s,
        "connect_s": connect_s,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "fds": fds,
        "per_conn": (rss_after - rss_before) / max(1, connected),
    }


def _quotient(a: float, b: float) -> float:
    return a / b if b else math.nan  # a run too short for psutil to see any CPU


def _setup(run: FanoutResult | None) -> str:
    """How the measured window was taken: warm-up, window, CPU pinning."""
    if run is None:
        return ""
    where = (
        f"The server ran pinned to CPU {run.pinned.split(':')[0]} and the client processes and the driver to CPU "
        f"{run.pinned.split(':')[1]}, for every server alike. "
        if run.pinned
        else "The client processes shared the CPUs with the server (not pinned), so latency includes client "
        "scheduling. "
    )
    return (
        where + f"Each server took the same load for {run.warmup:g} s before the measured {run.seconds:g} s window; "
        "the window's figures cover the frames of the events committed in it."
        + (
            " Every server's heap was collected once after its sockets connected, before the load (the set-up's "
            "collection debt, paid outside the window by every server alike; see the collector table)."
            if run.heap_paid is not None
            else ""
        )
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def markdown(idle: dict[str, float] | None, active: Sequence[FanoutResult], command: str) -> str:
    out = [
        "## Capacity and peers (`loadtest/capacity.py`)",
        "",
        machine_line(("fastapi", "uvicorn", "websockets", "python-socketio")),
        "",
        f"`{command}`. Client: `loadtest/wsclients.py` (asyncio `websockets`, uvloop, "
        "worker processes); server CPU: the kernel's CPU-time clock of the server process (every thread, in "
        "nanoseconds, as the process reads CLOCK_PROCESS_CPUTIME_ID), over the measured window only; RSS: psutil; "
        "latency: client receipt minus the frame's `ts` (server clock at commit, same host). "
        + _setup(active[0] if active else None),
        "",
    ]
    if idle is not None:
        fd_left = 20000 - idle["fds"]
        out += [
            "### Idle players held by one backend process",
            "",
            'Heartbeat on (HEARTBEAT_TIMEOUT_SECONDS=75); every client sends `{"type":"ping"}` every 25 s.',
            "",
            "| measure | value |",
            "|---|---|",
            f"| players seated / connected / failed | {idle['clients']:.0f} / {idle['connected']:.0f} / "
            f"{idle['failed']:.0f} (target ≥ 10,000 connected) |",
            f"| connections lost while idle | {idle['lost']:.0f} |",
            f"| time to seat rooms (REST) / connect all | {idle['seat_s']:.0f} s / {idle['connect_s']:.0f} s |",
            f"| backend RSS before / after connecting | {idle['rss_before'] / 2**20:.0f} MiB / "
            f"{idle['rss_after'] / 2**20:.0f} MiB |",
            f"| RSS per connection | {idle['per_conn'] / 1024:.1f} KiB (target ≤ 48 KB: "
            f"{'met' if idle['per_conn'] <= 48000 else '**missed**'}) |",
            f"| backend open fds / limit | {idle['fds']:.0f} / 20,000: one fd per socket, so the limit binds at about "
            f"{idle['connected'] + fd_left:.0f} connections (before MAX_CONNECTIONS=20,000); client processes "
            "hold one fd per socket each too |",
            "",
        ]
    if active:
        parlor = active[0]
        out += [
            f"### Fan-out at {parlor.clients} active players ({parlor.rooms} rooms x {parlor.per_room}, one message "
            f"per room per second, {parlor.seconds:g} s measured after {parlor.warmup:g} s; the last run)",
            "",
            "Every server takes its events the way its own clients send them, over a socket they already hold: in "
            f"each room one of the {parlor.per_room} members (a connection held by the driver process) sends each "
            "event and waits for the server's ack naming it, and receives the event like the room's other members. "
            f"So on every server an event has one publisher connection and {parlor.per_room} recipients, all counted "
            "and timed; the column *events in as* says what each server was sent (Parlor's clue goes through the "
            "game engine and the event log; the peers only fan out). Targets for Parlor: p50 ≤ 3 ms, p99 ≤ 20 ms, "
            "every connection made, every event acked and delivered.",
            "",
            "| server | events in as | connected | events acked / sent | delivered / expected | p50 ms | p95 ms | "
            "p99 ms | max ms | CPU % | CPU µs per delivered frame | RSS per connection KiB | lost |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in active:
            out.append(
                f"| {r.server} | {r.ingest} | {r.fleet.connected}/{r.clients} | {r.published}/{r.events} | "
                f"{r.delivered}/{r.expected} | {r.ms(50):.2f} | "
                f"{r.ms(95):.2f} | {r.ms(99):.2f} | {r.max_ms:.1f} | {r.cpu_percent:.0f} | {r.cpu_us_per_frame:.1f} | "
                f"{r.rss_per_conn / 1024:.1f} | {r.fleet.lost} |"
            )
        out += [
            "",
            "| Parlor as a ratio to | p50 latency | p99 latency | CPU per frame | RSS per connection |",
            "|---|---|---|---|---|",
        ]
        for r in active[1:]:
            out.append(
                f"| {r.server} | {_ratio(parlor.ms(50), r.ms(50))} | {_ratio(parlor.ms(99), r.ms(99))} | "
                f"{_ratio(parlor.cpu_us_per_frame, r.cpu_us_per_frame)} | "
                f"{_ratio(parlor.rss_per_conn, r.rss_per_conn)} |"
            )
        met = parlor.ms(50) <= 3 and parlor.ms(99) <= 20 and parlor.fleet.failed == 0
        met = met and parlor.complete
        out += ["", f"Parlor targets: {'met' if met else '**missed**'}."]
    return "\n".join(out)


def run_set(args: argparse.Namespace, ref_root: Path | None, order: int) -> dict[str, FanoutResult]:
    """One run of every server, one after the other (the order rotates from run to run to spread drift)."""
    parlor_args = ("--ws", args.ws) if args.ws else ()
    runs: list[tuple[str, Callable[[], FanoutResult]]] = [
        ("parlor", lambda: run_parlor(args, server_args=parlor_args)),
        ("floor", lambda: run_floor(args)),
        ("socketio", lambda: run_socketio(args)),
    ]
    if ref_root is not None:
        name = f"parlor@{args.ab}"
        runs.insert(1, (name, lambda: run_parlor(args, root=ref_root, name=name)))
    runs = runs[order % len(runs) :] + runs[: order % len(runs)]
    results = {}
    for name, run in runs:
        results[name] = run()
        print(results[name].summary(), flush=True)
    return results


def _spread(values: Sequence[float], fmt: str) -> str:
    """min / median / max of a figure over the runs."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def _collector_row(name: str, runs: Sequence[FanoutResult]) -> str:
    windows = " / ".join(f"{r.heap_window.total_ms:.1f}" for r in runs if r.heap_window is not None)
    full = " / ".join(str(r.full_collections) for r in runs)
    paid = statistics.median(r.heap_paid.forced_ms for r in runs if r.heap_paid is not None)
    per_conn = statistics.median(r.tracked_per_conn for r in runs)
    return f"| {name} | {windows} | {full} | {paid:.0f} | {per_conn:.0f} |"


def median_markdown(sets: Sequence[dict[str, FanoutResult]], loads: Sequence[float]) -> str:
    """Each server's figures and Parlor's ratios over the runs (each ratio taken within one run): every run's
    value, and min / median / max; the targets are judged on the medians."""
    names = list(sets[0])
    out = [
        f"### Over {len(sets)} runs (load average at the start of each run: "
        + ", ".join(f"{x:.1f}" for x in loads)
        + ")",
        "",
        "| server | events in as | CPU µs per delivered frame (each run) | min / median / max | p99 ms median | "
        "every event acked and every frame delivered |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        cpu = [s[name].cpu_us_per_frame for s in sets]
        p99 = [s[name].ms(99) for s in sets]
        every = all(s[name].complete for s in sets)
        out.append(
            f"| {name} | {sets[0][name].ingest} | {' / '.join(f'{c:.1f}' for c in cpu)} | {_spread(cpu, '.1f')} | "
            f"{statistics.median(p99):.2f} | {'yes' if every else '**no**'} |"
        )
    if all(s[name].heap_window is not None for s in sets for name in names):
        out += [
            "",
            "The collector in each server (the heap probe, `loadtest/heap.py`): its CPU inside each run's window "
            "and the full collections among it; the full collection that paid the set-up's debt after the sockets "
            "connected, before the load; and the objects it tracks per connection (after that collection, less "
            "before the sockets connected).",
            "",
            "| server | collector CPU in the window, ms (each run) | full collections in the window (each run) | "
            "debt paid before the load, ms (median) | tracked objects per connection (median) |",
            "|---|---|---|---|---|",
            *(_collector_row(name, [s[name] for s in sets]) for name in names),
        ]
    out += [
        "",
        "| ratio (per run, then min / median / max) | CPU per frame, each run | CPU per frame | p99 latency |",
        "|---|---|---|---|",
    ]
    pairs = [(a, b) for a in names if a.startswith("parlor") for b in names if b != a]
    ratios: dict[tuple[str, str], tuple[float, float]] = {}
    for a, b in pairs:
        cpu_ratios = [_quotient(s[a].cpu_us_per_frame, s[b].cpu_us_per_frame) for s in sets]
        p99_ratios = [_quotient(s[a].ms(99), s[b].ms(99)) for s in sets]
        ratios[a, b] = statistics.median(cpu_ratios), statistics.median(p99_ratios)
        out.append(
            f"| {a} / {b} | {' / '.join(f'{r:.2f}x' for r in cpu_ratios)} | {_spread(cpu_ratios, '.2f')} | "
            f"{_spread(p99_ratios, '.2f')} |"
        )
    cpu_floor, p99_floor = ratios["parlor", "floor"]
    cpu_sio = ratios["parlor", "socketio"][0]
    delivered = all(s["parlor"].complete for s in sets)
    checks = [
        (f"CPU per frame ≤ {FLOOR_TARGET}x the floor ({cpu_floor:.2f}x)", cpu_floor <= FLOOR_TARGET),
        (f"CPU per frame ≤ {PEER_TARGET}x socket.io ({cpu_sio:.2f}x)", cpu_sio <= PEER_TARGET),
        (f"p99 ≤ 2.5x the floor ({p99_floor:.2f}x)", p99_floor <= 2.5),
        ("every event acked and every frame delivered in every run", delivered),
    ]
    out += [
        "",
        f"Targets (issue 24, medians of {len(sets)} runs): "
        + "; ".join(f"{t}: {'met' if ok else '**missed**'}" for t, ok in checks)
        + ".",
    ]
    return "\n".join(out)


def previous_idle(report: Path) -> str:
    """The idle subsection already in the report, kept when this run skips the idle phase."""
    text = report.read_text() if report.exists() else ""
    match = re.search(r"### Idle players held.*?(?=\n### |\n<!-- END capacity -->)", text, re.S)
    return match.group(0).strip() + "\n" if match else ""


def takes_commands(rev: str) -> bool:
    """Whether revision `rev` has the WebSocket command frame (it descends from the commit that added it)."""
    probe = ["git", "merge-base", "--is-ancestor", COMMAND_FRAME_COMMIT, rev]
    done = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode > 1:  # 1 is "not an ancestor"; anything else is git failing, e.g. an unknown revision
        raise SystemExit(f"--ab {rev}: {done.stderr.strip()}")
    return done.returncode == 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-rooms", type=int, default=1000)
    parser.add_argument("--active-rooms", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds of each active run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of the same load before each measured window")
    parser.add_argument(
        "--pin",
        default="0:1",
        help="SERVER_CPUS:CLIENT_CPUS to pin the server and the load's processes to (e.g. 0:1, or 0,1:2,3), or none",
    )
    parser.add_argument("--procs", type=int, default=2, help="client worker processes")
    parser.add_argument("--skip-idle", action="store_true", help="keep the idle figures already in the report")
    parser.add_argument("--runs", type=int, default=5, help="active runs of every server; medians are reported")
    parser.add_argument("--ab", metavar="REV", help="also run Parlor as of git revision REV, side by side")
    parser.add_argument("--ws", help="uvicorn WebSocket implementation for the working tree's Parlor")
    parser.add_argument(
        "--parlor-ingest",
        choices=("ws", "rest"),
        default="ws",
        help="how Parlor's speakers send their clues: a command frame on their socket, or a REST request",
    )
    parser.add_argument("--per-room", type=int, default=10, help="connections per active room, the speaker's included")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--no-report", action="store_true", help="print figures only")
    parser.add_argument("--json", type=Path, help="also write every run's counts and figures as JSON here")
    args = parser.parse_args(argv)
    try:
        args.pinning = Pinning.parse(args.pin)
    except ValueError:
        parser.error(f"--pin {args.pin!r}: expected SERVER_CPUS:CLIENT_CPUS such as 0:1, or none")
    if args.per_room < 2:
        parser.error("--per-room must be at least 2: a speaker and a listener")
    if args.ab and args.parlor_ingest == "ws" and not takes_commands(args.ab):
        parser.error(
            f"--ab {args.ab} predates Parlor's WebSocket command frame ({COMMAND_FRAME_COMMIT}), so it cannot take "
            "clues over the socket: compare with --parlor-ingest rest, or pick a later revision"
        )
    raise_nofile()
    idle = None
    if not args.skip_idle:
        idle = run_idle(args.idle_rooms, 10, 10, args.procs)
        print("idle:", {k: round(v) for k, v in idle.items()}, flush=True)
    if args.pinning is not None and not pin(0, args.pinning.clients):
        print(f"--pin {args.pin}: cannot pin here ({os.cpu_count()} CPUs); running unpinned", flush=True)
        args.pinning = None
    with tempfile.TemporaryDirectory(prefix="parlor-capacity-ab-") as tmp:
        ref_root = export_revision(args.ab, Path(tmp)) if args.ab else None
        sets: list[dict[str, FanoutResult]] = []
        loads: list[float] = []
        for n in range(args.runs):
            loads.append(os.getloadavg()[0])
            print(f"run {n + 1} of {args.runs} (load average {loads[-1]:.1f})", flush=True)
            sets.append(run_set(args, ref_root, n))
            if args.json:
                runs = [{name: {**as_json(r), "ingest": r.ingest} for name, r in one.items()} for one in sets]
                args.json.write_text(json.dumps(runs, indent=1))
            print(median_markdown(sets, loads), flush=True)
            if not args.no_report:  # after every run, so a run cut short still leaves its completed runs
                write_report(args, idle, sets, loads)


def write_report(
    args: argparse.Namespace, idle: dict[str, float] | None, sets: list[dict[str, FanoutResult]], loads: list[float]
) -> None:
    command = f"python -m loadtest.capacity --idle-rooms {args.idle_rooms} --active-rooms {args.active_rooms}"
    command += f" --seconds {args.seconds:g} --warmup {args.warmup:g} --runs {args.runs}"
    command += f" --pin {args.pinning or 'none'}" + (" --skip-idle" if args.skip_idle else "")
    command += f" --ab {args.ab}" if args.ab else ""
    command += f" --parlor-ingest {args.parlor_ingest}" if args.parlor_ingest != "ws" else ""
    command += f" --per-room {args.per_room}" if args.per_room != 10 else ""
    last = sets[-1]  # the working tree's Parlor first: markdown() gives the other rows as ratios to it
    text = markdown(idle, [last["parlor"], *(r for name, r in last.items() if name != "parlor")], command)
    if idle is None:
        text = text.replace("### Fan-out at", previous_idle(args.report) + "\n### Fan-out at", 1)
    text += "\n\n" + median_markdown(sets, loads)
    update_section("capacity", text, args.report)
    print(f"wrote section 'capacity' of {args.report} ({len(sets)} of {args.runs} runs)", flush=True)


if __name__ == "__main__":
    main()

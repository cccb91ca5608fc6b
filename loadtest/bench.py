"""Transport comparison: polling vs long-poll vs WebSocket at 1 to 500 players, one invocation, one machine.

Each scenario starts a fresh backend and a headless Locust subprocess (`loadtest/locustfile.py`) with N players
of one transport, waits for the ramp, then reads the backend over a fixed window: requests/s and frames/s
from /metrics deltas (`parlor_http_requests_total`, `parlor_transport_messages_total`), bytes/s
(`parlor_http_response_size_bytes_sum` + `parlor_ws_sent_bytes_total`), CPU % and RSS (psutil on the uvicorn
pid). Delivery latency and failures come from Locust's own statistics (CSV).

    python -m loadtest.bench                 # full: writes section "transports" and docs/img/bench-*.png
    python -m loadtest.bench --quick --report /tmp/bench.md --img-dir /tmp   # smoke run, under 2 minutes
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from launchers.process import ROOT
from loadtest.harness import CpuMeter, metric_sum, parlor_server, rss, scrape
from loadtest.report import REPORT, machine_line, update_section

TRANSPORTS = {"polling": "PollingPlayer", "longpoll": "LongPollPlayer", "websocket": "WebSocketPlayer"}
FULL_USERS = (1, 10, 50, 100, 200, 500)
QUICK_USERS = (1, 10)
IMG_DIR = ROOT / "docs" / "img"
SEED_REDUCTION = {1: 96, 10: 96, 50: 96, 100: 96}


@dataclass
class Scenario:
    transport: str
    users: int
    window: float
    requests_per_s: float = 0.0  # every HTTP request the backend served
    messages_per_s: float = 0.0  # this transport's messages, both directions (polls count request + response)
    inbound_per_s: float = 0.0  # client-to-server transport messages: polls, or WebSocket frames (hello, ping)
    frames_out_per_s: float = 0.0  # WebSocket frames pushed
    bytes_per_s: float = 0.0  # HTTP response bodies + WebSocket payload, server to clients
    cpu_percent: float = 0.0
    rss_mib: float = 0.0
    deliveries: int = 0
    p50_ms: float = float("nan")
    p95_ms: float = float("nan")
    p99_ms: float = float("nan")
    http_p50_ms: float = float("nan")
    requests: int = 0
    failures: int = 0
    ws_connects: int = 0
    ws_connect_failures: int = 0
    disconnects: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def per_user(self) -> float:
        return self.messages_per_s / self.users

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.deliveries > 0


def _locust(url: str, transport: str, users: int, run_time: int, csv_prefix: Path) -> subprocess.Popen[bytes]:
    rate = max(10, users // 5)
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(rate),
        "-t",
        f"{run_time}s",
        "--host",
        url,
        "--only-summary",
        "--csv",
        str(csv_prefix),
        "--exit-code-on-error",
        "0",
        "--stop-timeout",
        "2",
        "--loglevel",
        "WARNING",
        TRANSPORTS[transport],
    ]
    log = open(f"{csv_prefix}.log", "wb")  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})


def _read_stats(scenario: Scenario, csv_prefix: Path) -> None:
    path = Path(f"{csv_prefix}_stats.csv")
    if not path.exists():
        scenario.errors.append("locust wrote no statistics")
        return
    with path.open() as fh:
        for row in csv.DictReader(fh):
            kind, name = row["Type"], row["Name"]
            count, fails = int(row["Request Count"]), int(row["Failure Count"])
            if name == "Aggregated":
                continue
            scenario.requests += count
            scenario.failures += fails
            if kind == "DELIVER":
                scenario.deliveries = count
                scenario.p50_ms, scenario.p95_ms, scenario.p99_ms = (float(row[q]) for q in ("50%", "95%", "99%"))
            elif kind == "WS" and name == "connect":
                scenario.ws_connects, scenario.ws_connect_failures = count, fails
            elif kind == "WS" and name == "disconnect":
                scenario.disconnects = count
            elif name.endswith(("/state", "events?wait")):
                scenario.http_p50_ms = float(row["50%"])
    failures = Path(f"{csv_prefix}_failures.csv")
    if failures.exists():
        with failures.open() as fh:
            scenario.errors += [f"{r['Name']}: {r['Error'][:120]} x{r['Occurrences']}" for r in csv.DictReader(fh)][:3]


# Locust runs this much longer than ramp + window, so waiting for the last joins never eats the window.
STEADY_WAIT = 5.0


def _wait_steady(url: str, users: int, timeout: float) -> None:
    """Start the window only once every player is connected, so joins and hellos stay out of it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric_sum(scrape(url), "parlor_players_connected") >= users:
            return
        time.sleep(0.25)


def run_scenario(transport: str, users: int, window: float, workdir: Path) -> Scenario:
    scenario = Scenario(transport, users, window)
    ramp = users / max(10, users // 5) + 4  # spawn, join rooms, first game started
    with parlor_server({"MAX_ROOMS": "5000"}) as server:
        prefix = workdir / f"{transport}-{users}"
        proc = _locust(server.url, transport, users, int(ramp + STEADY_WAIT + window + 3), prefix)
        time.sleep(ramp)
        _wait_steady(server.url, users, timeout=STEADY_WAIT)
        before, meter = scrape(server.url), CpuMeter(server)
        time.sleep(window)
        after = scrape(server.url)
        scenario.cpu_percent, scenario.rss_mib = meter.percent(), rss(server) / 2**20
        proc.wait(timeout=ramp + window + 60)

    def delta(name: str, **labels: str) -> float:
        return (metric_sum(after, name, **labels) - metric_sum(before, name, **labels)) / window

    scenario.requests_per_s = delta("parlor_http_requests_total")
    scenario.messages_per_s = delta("parlor_transport_messages_total", transport=transport)
    scenario.inbound_per_s = delta("parlor_transport_messages_total", transport=transport, direction="in")
    scenario.frames_out_per_s = delta("parlor_transport_messages_total", transport="websocket", direction="out")
    scenario.bytes_per_s = delta("parlor_http_response_size_bytes_sum") + delta("parlor_ws_sent_bytes_total")
    _read_stats(scenario, prefix)
    return scenario


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"  # NaN check


def _by(results: Sequence[Scenario]) -> dict[tuple[str, int], Scenario]:
    return {(s.transport, s.users): s for s in results}


def markdown(results: Sequence[Scenario], window: float, command: str, img_prefix: str) -> str:
    by = _by(results)
    users = sorted({s.users for s in results})
    out = [
        "## Transports: polling vs long-poll vs WebSocket (`loadtest/bench.py`)",
        "",
        machine_line(("fastapi", "uvicorn", "websockets", "locust", "websocket-client")),
        "",
        f"`{command}`: for each transport and player count a fresh backend and a headless Locust run "
        f"(`loadtest/locustfile.py`: real games, rooms of 5 humans + 2 bots, 10 s discussion, 5 s voting). "
        f"Backend figures are /metrics deltas and psutil readings over a {window:g} s window after the ramp; "
        "latency percentiles are Locust's (approximated, ms): the time from an event's commit (`ts`) to the "
        "client learning of it. Machine load from other work on this host adds noise to CPU and latency.",
        "",
        f"![requests per second against players]({img_prefix}bench-requests.png)",
        "",
        "### Claimed (seed) vs measured: requests per second",
        "",
        'Requests = what clients send to keep up, from `parlor_transport_messages_total{direction="in"}`: '
        "polls for polling, frames (hello, a ping every 25 s) for WebSocket. Game actions (clues, votes) are "
        "the same REST calls on every transport and are left out. The pushed frames (out) carry the game's "
        "events to every player of a room, so they grow with the game, not with a timer.",
        "",
        "| Users | claimed polling | measured polling (in) | claimed WebSocket | measured WebSocket in / out "
        "| claimed reduction | measured reduction (target ≥ 98%) |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in users:
        poll, ws = by.get(("polling", n)), by.get(("websocket", n))
        if poll is None or ws is None:
            continue
        reduction = 100 * (1 - ws.inbound_per_s / poll.inbound_per_s) if poll.inbound_per_s else float("nan")
        claimed = SEED_REDUCTION.get(n)
        out.append(
            f"| {n} | {2.5 * n:g} req/s | {poll.inbound_per_s:.2f} req/s | {0.1 * n:g} msg/s | "
            f"{ws.inbound_per_s:.2f} / {ws.frames_out_per_s:.1f} msg/s | "
            f"{f'{claimed}%' if claimed else '-'} | {_fmt(reduction)}% |"
        )
    out += [
        "",
        "### Every scenario",
        "",
        "| transport | players | HTTP req/s | transport msg/s | msg/s per player | WS frames out/s | KB/s out | "
        "CPU % | RSS MiB | delivery p50 / p95 / p99 ms | HTTP p50 ms (poll) | WS connects ok | disconnects "
        "| failed requests |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sorted(results, key=lambda s: (list(TRANSPORTS).index(s.transport), s.users)):
        conn = f"{s.ws_connects - s.ws_connect_failures}/{s.ws_connects}" if s.transport == "websocket" else "-"
        out.append(
            f"| {s.transport} | {s.users} | {s.requests_per_s:.1f} | {s.messages_per_s:.1f} | {s.per_user:.2f} | "
            f"{s.frames_out_per_s:.1f} | {s.bytes_per_s / 1000:.1f} | {s.cpu_percent:.0f} | {s.rss_mib:.0f} | "
            f"{_fmt(s.p50_ms, 0)} / {_fmt(s.p95_ms, 0)} / {_fmt(s.p99_ms, 0)} | {_fmt(s.http_p50_ms, 0)} | "
            f"{conn} | {s.disconnects} | {s.failures} |"
        )
    out += ["", "### Claimed (seed) vs measured: backend resources", ""]
    top = max((n for n in users if ("polling", n) in by and ("websocket", n) in by and n <= 100), default=None)
    if top is not None:
        poll, ws = by[("polling", top)], by[("websocket", top)]
        out += [
            "| metric | claimed before (polling) | measured polling | claimed after (WebSocket) | measured WebSocket |",
            "|---|---|---|---|---|",
            f"| CPU ({top} users) | 60% | {poll.cpu_percent:.0f}% | 5% | {ws.cpu_percent:.0f}% |",
            f"| Memory (RSS) | 800 MB | {poll.rss_mib:.0f} MiB | 600 MB | {ws.rss_mib:.0f} MiB |",
            f"| Network out | 100 MB/min | {poll.bytes_per_s * 60 / 1e6:.2f} MB/min | 4 MB/min | "
            f"{ws.bytes_per_s * 60 / 1e6:.2f} MB/min |",
            f"| Response time (event to client) | 500 ms avg | p50 {_fmt(poll.p50_ms, 0)} ms, p99 "
            f"{_fmt(poll.p99_ms, 0)} ms | 80 ms avg | p50 {_fmt(ws.p50_ms, 0)} ms, p99 {_fmt(ws.p99_ms, 0)} ms |",
        ]
    out += ["", "### Claimed (seed) vs measured: scalability", ""]
    out += [
        "| transport | claimed max concurrent users | largest tested count with no failed request, "
        "no disconnect and p99 delivery < 1 s |",
        "|---|---|---|",
    ]
    claims = {"polling": "50-100", "longpoll": "-", "websocket": "200+"}
    for transport in TRANSPORTS:
        good = [
            s.users
            for s in results
            if s.transport == transport and s.ok and s.disconnects == 0 and s.p99_ms == s.p99_ms and s.p99_ms < 1000
        ]
        out.append(
            f"| {transport} | {claims[transport]} | {max(good) if good else 'none'} "
            f"(of {', '.join(str(n) for n in users)}) |"
        )
    out += [
        "",
        f"![backend CPU against players]({img_prefix}bench-cpu.png)",
        f"![delivery latency against players]({img_prefix}bench-latency.png)",
    ]
    return "\n".join(out)


def plot(results: Sequence[Scenario], img_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    charts = [
        ("bench-requests.png", "transport messages/s at the backend", lambda s: s.messages_per_s, "log"),
        ("bench-cpu.png", "backend CPU (% of one core)", lambda s: s.cpu_percent, "linear"),
        ("bench-latency.png", "event delivery latency p99 (ms)", lambda s: s.p99_ms, "log"),
    ]
    paths = []
    for filename, label, value, yscale in charts:
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        for transport in TRANSPORTS:
            points = sorted((s.users, value(s)) for s in results if s.transport == transport)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=transport)
        ax.set_xscale("log")
        ax.set_yscale(yscale)
        ax.set_xlabel("concurrent players")
        ax.set_ylabel(label)
        ax.set_title(f"Parlor: {label}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = img_dir / filename
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def run(users: Sequence[int], window: float) -> list[Scenario]:
    results = []
    with tempfile.TemporaryDirectory(prefix="parlor-bench-") as tmp:
        for n in users:
            for transport in TRANSPORTS:
                scenario = run_scenario(transport, n, window, Path(tmp))
                results.append(scenario)
                print(
                    f"{transport:9} {n:4} players: {scenario.requests_per_s:7.1f} HTTP req/s "
                    f"{scenario.messages_per_s:7.1f} msg/s CPU {scenario.cpu_percent:3.0f}% "
                    f"RSS {scenario.rss_mib:4.0f} MiB delivery p50/p99 {_fmt(scenario.p50_ms, 0)}/"
                    f"{_fmt(scenario.p99_ms, 0)} ms failures {scenario.failures} {scenario.errors[:1]}",
                    flush=True,
                )
    return results


def main(argv: Sequence[str] | None = None) -> list[Scenario]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 and 10 players, short windows (smoke test)")
    parser.add_argument("--users", type=int, nargs="*", help="player counts (default 1 10 50 100 200 500)")
    parser.add_argument("--window", type=float, help="measured seconds per scenario")
    parser.add_argument("--report", type=Path, help="markdown file to update (required with --quick)")
    parser.add_argument("--img-dir", type=Path, help="where the PNG plots go")
    parser.add_argument("--json", type=Path, help="also dump every scenario as JSON here")
    args = parser.parse_args(argv)
    if args.quick and args.report is None:
        parser.error("--quick needs --report PATH: a smoke run never overwrites docs/benchmarks.md")
    users = args.users or (QUICK_USERS if args.quick else FULL_USERS)
    window = args.window or (3.0 if args.quick else 10.0)
    report = args.report or REPORT
    img_dir = args.img_dir or (report.parent if args.quick else IMG_DIR)
    started = time.monotonic()
    results = run(users, window)
    paths = plot(results, img_dir)
    img_prefix = "img/" if img_dir == IMG_DIR and report == REPORT else f"{img_dir}/"
    command = "python -m loadtest.bench" + (" --quick" if args.quick else "")
    update_section("transports", markdown(results, window, command, img_prefix), report)
    if args.json:
        import json

        args.json.write_text(json.dumps([{**asdict(s), "ok": s.ok} for s in results], indent=1))
    print(
        f"wrote section 'transports' of {report} and {', '.join(str(p) for p in paths)} "
        f"in {time.monotonic() - started:.0f} s"
    )
    return results


if __name__ == "__main__":
    main()

"""What the Redis store's silent-loss checks cost one process's event loop.

Every VANISH_CHECK_SECONDS a process asks Redis whether the rooms it watches still exist (FLUSHALL and eviction
say nothing), and readiness reads the maxmemory-policy. This creates and watches N rooms on a real redis-server
and on a real 3-master Redis Cluster, times `check_watched_rooms` (all rooms present: the common case) and
`eviction_hazard` over many rounds, prints the figures and writes the `store-checks` section of
docs/benchmarks.md.

    python -m loadtest.store_checks [--rooms 1000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry

from backend.game.engine import Room
from backend.metrics import Metrics
from backend.store.redis import RedisStore
from backend.store.redis_losses import VANISH_CHECK_SECONDS
from launchers.redis import run_redis
from launchers.redis_cluster import run_redis_cluster
from loadtest.report import REPORT, machine_line, percentile, update_section


async def measure(url: str, rooms: int, rounds: int) -> dict[str, float]:
    store = RedisStore(url, metrics=Metrics(CollectorRegistry()))
    await store.start()
    try:
        await store.losses.stop()  # timed here, not by its loop
        for n in range(rooms):
            code = f"S{n:05d}"
            await store.create_room(*Room.create(code, host_id="p", host_name="Host", token_hash="h", now=1.0), 1.0)
            await store.watch(code)
        checks, hazards = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            gone = await store.check_watched_rooms()
            checks.append(time.perf_counter() - start)
            assert gone == [], gone
            start = time.perf_counter()
            await store.eviction_hazard()
            hazards.append(time.perf_counter() - start)
    finally:
        await store.close()
    return {
        "check_p50_ms": percentile(checks, 50) * 1000,
        "check_p95_ms": percentile(checks, 95) * 1000,
        "hazard_p50_ms": percentile(hazards, 50) * 1000,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=1000, help="watched rooms")
    parser.add_argument("--rounds", type=int, default=50, help="timed rounds of each check")
    parser.add_argument("--report", type=Path, default=REPORT, help="markdown file to update")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        single, nodes = Path(tmp) / "single", Path(tmp) / "cluster"
        single.mkdir()
        nodes.mkdir()
        with run_redis(single) as redis:
            results["one Redis"] = asyncio.run(measure(redis.url, args.rooms, args.rounds))
        with run_redis_cluster(nodes) as cluster:
            results["3-master cluster"] = asyncio.run(measure(cluster.url, args.rooms, args.rounds))
    rows = [
        f"| {name} | {r['check_p50_ms']:.1f} ms | {r['check_p95_ms']:.1f} ms | "
        f"{r['check_p50_ms'] / (VANISH_CHECK_SECONDS * 1000) * 100:.2f} % | {r['hazard_p50_ms']:.2f} ms |"
        for name, r in results.items()
    ]
    for row in rows:
        print(row)
    update_section(
        "store-checks",
        f"""## Silent-loss checks of the Redis store (`loadtest/store_checks.py`)

{machine_line(("redis",))}

Each process checks every {VANISH_CHECK_SECONDS:g} s that the {args.rooms} rooms it watches still exist (one
EXISTS over all keys on one Redis; one read-only script per node on a cluster), and readiness reads the
`maxmemory-policy` (INFO memory). Wall time of one round as the process sees it, {args.rounds} rounds, every
room present; "loop share" is the median round over the check interval.

| Store | check p50 | check p95 | loop share | policy read p50 |
|---|---|---|---|---|
"""
        + "\n".join(rows),
        args.report,
    )


if __name__ == "__main__":
    main()

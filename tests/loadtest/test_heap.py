"""The heap probe a benchmark loads into the servers it measures (`loadtest/heap.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from loadtest.heap import HeapProbe, probe_env, probed

# a server stand-in: holds 50,000 tracked objects, makes cycles the collector must free, and idles in a loop
SERVER = """
import asyncio
held = [[i] for i in range(50_000)]

async def main():
    print("ready", flush=True)
    while True:
        for _ in range(2_000):
            a = []; a.append(a)
        await asyncio.sleep(0.05)

asyncio.run(main())
"""


@pytest.fixture
def server() -> Iterator[HeapProbe]:
    env = {**os.environ, **probe_env()}
    proc = subprocess.Popen([sys.executable, "-c", SERVER], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    probe = HeapProbe(proc.pid)
    try:
        yield probe
    finally:
        proc.kill()
        proc.wait(timeout=10)
        probe.close()


def test_a_forced_collection_is_timed_and_counts_what_the_process_tracks(server: HeapProbe) -> None:
    first = server.collect()
    assert first.forced == 1 and first.forced_ms > 0
    assert first.tracked >= 50_000  # the held lists, at least
    again = server.collect()
    assert again.forced == 2 and again.full >= first.full + 1


def test_a_window_reads_the_collections_made_in_it(server: HeapProbe) -> None:
    start = server.read()
    while (window := server.read().since(start)).collections[0] == 0:  # the cycles' young collections
        pass
    assert window.total_ms > 0 and window.forced == 0


def test_only_servers_started_with_the_probe_carry_it() -> None:
    assert probed(probe_env({"PYTHONUNBUFFERED": "1"}))
    assert not probed({"PYTHONUNBUFFERED": "1"}) and not probed(None)
    assert probe_env({"PYTHONPATH": "/elsewhere"})["PYTHONPATH"].endswith(os.pathsep + "/elsewhere")

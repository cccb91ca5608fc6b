"""Loaded by every server a benchmark starts with `loadtest.heap.PROBE_ENV` (this directory on PYTHONPATH).

Why: a full collection of a server holding 1,000 sockets is a 100-200 ms stop of its one core, and when the
collection debt of connecting them falls inside a measured window it moves a per-frame figure by 10 %. This
probe lets a benchmark pay that debt before measuring, for every server alike, and tell how much collecting
each window held. Nothing here runs unless PARLOR_HEAP_PROBE names a directory.

- SIGUSR1: a full collection now (`gc.collect()`), between two callbacks of the server's loop.
- SIGUSR2: write `<dir>/<pid>.json`: collections and their CPU time per generation since start, and the last
  forced collection's CPU time and the objects the collector tracked after it (SIGUSR1 writes it too).
"""

import gc
import json
import os
import signal
import threading
import time

_DIR = os.environ.get("PARLOR_HEAP_PROBE")

if _DIR:
    _directory: str = _DIR
    _counts = [0, 0, 0]
    _cpu_ns = [0, 0, 0]
    _started = [0]
    _forced = {"ms": 0.0, "n": 0, "tracked": 0}
    _writes = [0]

    def _timed(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.thread_time_ns()
        else:
            generation = info["generation"]
            _counts[generation] += 1
            _cpu_ns[generation] += time.thread_time_ns() - _started[0]

    def _write() -> None:
        _writes[0] += 1
        state = {
            "writes": _writes[0],
            "pid": os.getpid(),
            "collections": list(_counts),
            "cpu_ms": [ns / 1e6 for ns in _cpu_ns],
            "forced": dict(_forced),
        }
        path = os.path.join(_directory, f"{os.getpid()}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)

    def _collect(signum: int, frame: object) -> None:
        t0, full = time.thread_time_ns(), _counts[2]
        gc.collect()
        if _counts[2] == full:
            # The signal landed while a collection ran Python code (a gc callback, a finalizer): gc.collect() then
            # returns at once and collects nothing. Ask again a little later, from another thread (a signal sent
            # from here would be handled at once, inside the same collection, again and again).
            threading.Timer(0.005, os.kill, (os.getpid(), signal.SIGUSR1)).start()
            return
        _forced["ms"] = (time.thread_time_ns() - t0) / 1e6
        _forced["n"] += 1
        _forced["tracked"] = len(gc.get_objects())
        _write()

    def _report(signum: int, frame: object) -> None:
        _write()

    gc.callbacks.append(_timed)
    signal.signal(signal.SIGUSR1, _collect)
    signal.signal(signal.SIGUSR2, _report)
    _write()  # the handlers are in place: the benchmark may signal now

"""What a Chromium browser spends on the CPU, every thread of every one of its processes, read from Linux's /proc.

Chromium's own counters (CDP Performance.getMetrics) see the renderer's main thread only. A page can leave that
thread idle and still cost the phone: a running animation, even one the compositor runs, has the renderer's
compositor thread and the display compositor produce a frame every vsync. So the web audit also reads, per
thread, the nanoseconds each spent on a core (/proc/PID/task/TID/schedstat) for every process the browser lists
(CDP SystemInfo.getProcessInfo), and sums them by role: the renderer's main thread, its compositor thread, the
display compositor (the GPU process's VizCompositorThread; headless Chromium composites in software), and the rest
(I/O threads, the network service, the browser process). Threads that ended between two readings are not
counted; readings are exact to the nanosecond, where CDP's process cpuTime moves in 10 ms ticks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, CDPSession

PROC = Path("/proc")
ROLES = ("renderer main", "compositor", "display compositor", "rest")
Reading = dict[tuple[int, int], tuple[str, int]]  # (pid, tid) -> (role, nanoseconds run so far)


def _thread_role(process_type: str, pid: int, tid: int, name: str) -> str:
    if process_type == "renderer" and tid == pid:
        return "renderer main"
    if process_type == "renderer" and name == "Compositor":
        return "compositor"
    if name.startswith("VizCompositorTh"):  # the kernel keeps 15 characters of a thread's name
        return "display compositor"
    return "rest"


def process_threads_ns(pid: int) -> dict[tuple[int, str], int]:
    """Each live thread of `pid` (tid, name): the nanoseconds it has run on a core so far."""
    found: dict[tuple[int, str], int] = {}
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            ns = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
        found[(int(task.name), name)] = ns
    return found


@dataclass
class ChromiumCpu:
    """One browser's threads, read on demand; `spent(before, after)`: what each role ran in between."""

    cdp: CDPSession

    @classmethod
    def of(cls, browser: Browser) -> ChromiumCpu:
        return cls(browser.new_browser_cdp_session())

    def processes(self) -> list[tuple[str, int]]:
        info = self.cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        return [(str(p["type"]), int(p["id"])) for p in info]

    def read(self) -> Reading:
        """Every thread of every process of the browser now: (pid, tid) -> (role, nanoseconds run so far)."""
        reading: Reading = {}
        for process_type, pid in self.processes():
            for (tid, name), ns in process_threads_ns(pid).items():
                reading[(pid, tid)] = (_thread_role(process_type, pid, tid, name), ns)
        return reading

    @staticmethod
    def spent(before: Reading, after: Reading) -> dict[str, float]:
        """Milliseconds each role ran between two readings (a thread born in between counts from 0), and "total"."""
        ns_run: Counter[str] = Counter(dict.fromkeys(ROLES, 0))
        for key, (role, ns) in after.items():
            ns_run[role] += ns - before.get(key, (role, 0))[1]
        ms = {role: ns_run[role] / 1e6 for role in ROLES}
        return {**ms, "total": sum(ms.values())}

"""Record what the browser bridge reports with each batch into the metrics of `frontend.metrics`.

A report carries counts since the previous one and raw timings; label values are checked against the fixed
sets in `frontend.metrics`, so a misbehaving browser cannot create new series. Any browser can send any
report, and these metrics drive alerts (latency, fallbacks), so each session gets a per-minute budget per
field (the `limits` package's moving window): what exceeds it, and timings beyond `MAX_TIMING_SECONDS`, are
dropped and counted in `parlor_bridge_report_items_dropped_total`. One tab cannot page anyone. The session gauge is kept
per Streamlit session: each session's latest (transport, status) is remembered and the gauge set from counts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from frontend.metrics import STATUSES, TRANSPORTS, BridgeMetrics
from parlor_protocol import Transport

# Sessions silent this long are dropped from the gauge (a closed tab never says goodbye).
SESSION_TTL_SECONDS = 600.0

BRIDGE_STATUS = {"connected": "connected", "connecting": "connecting", "idle": "connecting", "fallback": "fallback"}
BRIDGE_STATUS |= {"polling": "polling", "stopped": "stopped"}

# A real tab reports a handful of these a minute; the budgets leave ample room for a flapping connection.
REPORT_BUDGETS_PER_MINUTE = {
    "connect_attempts": 60,
    "reconnects": 30,
    "fallback_activations": 10,
    "disconnects": 30,
    "gaps": 30,
    "events": 6000,
    "timings": 2400,
}
# The delivery histogram tops out at 10 s; a browser whose event took minutes was asleep, not slow.
MAX_TIMING_SECONDS = 60.0

_budgets = {field: RateLimitItemPerMinute(n) for field, n in REPORT_BUDGETS_PER_MINUTE.items()}
_limiter = MovingWindowRateLimiter(MemoryStorage())
_lock = threading.Lock()
_sessions: dict[str, tuple[str, str, float]] = {}  # session id -> (transport, status, last seen monotonic)


def _count(value: Any) -> int:
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        return 0
    return int(min(value, 10**9))


def _timings(metrics: BridgeMetrics, raw: Any) -> list[tuple[str, float]]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list | tuple) and len(item) == 2 and item[0] in TRANSPORTS:
            seconds = item[1]
            if isinstance(seconds, int | float) and 0 <= seconds <= MAX_TIMING_SECONDS:
                out.append((str(item[0]), float(seconds)))
            else:
                metrics.report_items_dropped.labels("timings").inc()
    return out


def _allow(metrics: BridgeMetrics, session_id: str, field: str, n: int) -> int:
    """How many of `n` items fit in this session's budget for `field`; the rest are counted as dropped."""
    if n <= 0:
        return 0
    item = _budgets[field]
    with _lock:
        remaining = _limiter.get_window_stats(item, session_id, field).remaining
        take = min(n, max(0, remaining))
        if take:
            _limiter.hit(item, session_id, field, cost=take)
    if n > take:
        metrics.report_items_dropped.labels(field).inc(n - take)
    return take


def record_report(metrics: BridgeMetrics, report: dict[str, Any], session_id: str = "unknown") -> None:
    """Add one bridge report (counts since the last report, plus timings) to the metrics, within budget."""
    attempts = report.get("connect_attempts") or {}
    for result in ("success", "failure"):
        n = _allow(
            metrics, session_id, "connect_attempts", _count(attempts.get(result) if isinstance(attempts, dict) else 0)
        )
        if n:
            metrics.connect_attempts.labels(result).inc(n)
    for field, counter in (
        ("reconnects", metrics.reconnects),
        ("fallback_activations", metrics.fallback_activations),
        ("disconnects", metrics.disconnects),
        ("gaps", metrics.gaps),
    ):
        n = _allow(metrics, session_id, field, _count(report.get(field)))
        if n:
            counter.inc(n)
    for kind, histogram in (("delivery", metrics.delivery_latency), ("render", metrics.render_latency)):
        timings = _timings(metrics, report.get(kind))
        for transport, seconds in timings[: _allow(metrics, session_id, "timings", len(timings))]:
            histogram.labels(transport).observe(seconds)
    events = report.get("events") or {}
    for transport in TRANSPORTS:
        n = _allow(metrics, session_id, "events", _count(events.get(transport) if isinstance(events, dict) else 0))
        if n:
            metrics.events_received.labels(transport).inc(n)


def track_session(
    metrics: BridgeMetrics, session_id: str, transport: str, status: str, now: float | None = None
) -> None:
    """Remember one session's transport and status and reset the session gauge from all live sessions."""
    now = time.monotonic() if now is None else now
    transport = transport if transport in TRANSPORTS else Transport.WEBSOCKET
    status = BRIDGE_STATUS.get(status, status)
    status = status if status in STATUSES else "connecting"
    with _lock:
        _sessions[session_id] = (transport, status, now)
        _publish(metrics, now)


def _publish(metrics: BridgeMetrics, now: float) -> None:
    for sid in [sid for sid, (_, _, seen) in _sessions.items() if now - seen > SESSION_TTL_SECONDS]:
        del _sessions[sid]
    counts: dict[tuple[str, str], int] = {}
    for transport, status, _ in _sessions.values():
        counts[(transport, status)] = counts.get((transport, status), 0) + 1
    for transport in TRANSPORTS:
        for status in STATUSES:
            metrics.sessions.labels(transport, status).set(counts.get((transport, status), 0))

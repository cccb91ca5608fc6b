"""Record what the browser bridge reports with each batch into the metrics of `frontend.metrics`.

A report carries counts since the previous one and raw timings; label values are checked against the fixed
sets in `frontend.metrics`, so a misbehaving browser cannot create new series. The session gauge is kept
per Streamlit session: each session's latest (transport, status) is remembered and the gauge set from counts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from backend.realtime.protocol import Transport
from frontend.metrics import STATUSES, TRANSPORTS, BridgeMetrics

# Sessions silent this long are dropped from the gauge (a closed tab never says goodbye).
SESSION_TTL_SECONDS = 600.0

BRIDGE_STATUS = {"connected": "connected", "connecting": "connecting", "idle": "connecting", "fallback": "fallback"}
BRIDGE_STATUS |= {"polling": "polling", "stopped": "stopped"}

_lock = threading.Lock()
_sessions: dict[str, tuple[str, str, float]] = {}  # session id -> (transport, status, last seen monotonic)


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0


def _timings(raw: Any) -> list[tuple[str, float]]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list | tuple) and len(item) == 2 and item[0] in TRANSPORTS:
            seconds = item[1]
            if isinstance(seconds, int | float) and 0 <= seconds < 3600:
                out.append((str(item[0]), float(seconds)))
    return out


def record_report(metrics: BridgeMetrics, report: dict[str, Any]) -> None:
    """Add one bridge report (counts since the last report, plus timings) to the metrics."""
    attempts = report.get("connect_attempts") or {}
    for result in ("success", "failure"):
        n = _count(attempts.get(result) if isinstance(attempts, dict) else 0)
        if n:
            metrics.connect_attempts.labels(result).inc(n)
    for field, counter in (
        ("reconnects", metrics.reconnects),
        ("fallback_activations", metrics.fallback_activations),
        ("disconnects", metrics.disconnects),
    ):
        n = _count(report.get(field))
        if n:
            counter.inc(n)
    for transport, seconds in _timings(report.get("delivery")):
        metrics.delivery_latency.labels(transport).observe(seconds)
    for transport, seconds in _timings(report.get("render")):
        metrics.render_latency.labels(transport).observe(seconds)
    events = report.get("events") or {}
    for transport in TRANSPORTS:
        n = _count(events.get(transport) if isinstance(events, dict) else 0)
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

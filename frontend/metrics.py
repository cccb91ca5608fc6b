"""Bridge metrics, exported by the Streamlit process on its own port.

The browser bridge counts and times what only a browser can see (connect results, fallbacks, the time from
an event's server `ts` to the browser receiving it, and to the fragment showing it). Python receives those
reports with each event batch and records them here. Streamlit re-executes the script on every rerun, so the
registry and the HTTP server are created once per process, guarded by a lock.

`parlor_frontend_sessions` is read from Streamlit's own session manager at scrape time rather than from bridge
reports: it counts every open tab (seated or not, bridge or not) and drops a closed one at once, so the
dashboards can show how players spread over the replicas behind nginx and move during a rolling restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, start_http_server

from parlor_protocol import Transport
from parlor_runtime.build import register_build_info

TRANSPORTS = tuple(t.value for t in Transport)
STATUSES = ("connected", "connecting", "fallback", "polling", "stopped")
REPORT_FIELDS = ("connect_attempts", "reconnects", "fallback_activations", "disconnects", "events", "timings")
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class BridgeMetrics:
    registry: CollectorRegistry
    connect_attempts: Counter
    reconnects: Counter
    fallback_activations: Counter
    disconnects: Counter
    gaps: Counter
    sessions: Gauge
    delivery_latency: Histogram
    render_latency: Histogram
    events_received: Counter
    report_items_dropped: Counter
    streamlit_sessions: Gauge


def build_metrics(registry: CollectorRegistry | None = None) -> BridgeMetrics:
    r = registry or CollectorRegistry(auto_describe=True)
    m = BridgeMetrics(
        registry=r,
        connect_attempts=Counter(
            "parlor_bridge_connect_attempts_total",
            "Browser WebSocket connect attempts by result",
            ["result"],
            registry=r,
        ),
        reconnects=Counter("parlor_bridge_reconnects_total", "Browser WebSocket reconnects", registry=r),
        fallback_activations=Counter(
            "parlor_bridge_fallback_activations_total",
            "Times a browser switched to long-poll fallback because its socket was down",
            registry=r,
        ),
        disconnects=Counter("parlor_bridge_disconnects_total", "Browser sockets that closed unexpectedly", registry=r),
        gaps=Counter(
            "parlor_bridge_gaps_total",
            "Holes a browser found in its event stream (a frame's prev beyond its last id), each filled by a backfill",
            registry=r,
        ),
        sessions=Gauge(
            "parlor_bridge_sessions",
            "Browser sessions by transport and connection status",
            ["transport", "status"],
            registry=r,
        ),
        delivery_latency=Histogram(
            "parlor_bridge_event_delivery_latency_seconds",
            "Browser receive time minus the event's server ts, by transport",
            ["transport"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        ),
        render_latency=Histogram(
            "parlor_bridge_render_latency_seconds",
            "Browser receive time to the game fragment being rendered",
            ["transport"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        ),
        events_received=Counter(
            "parlor_bridge_events_received_total", "Events handed to Python by the bridge", ["transport"], registry=r
        ),
        report_items_dropped=Counter(
            "parlor_bridge_report_items_dropped_total",
            "Bridge report counts and timings over a session's per-minute budget (or out of range), not recorded",
            ["field"],
            registry=r,
        ),
        streamlit_sessions=Gauge(
            "parlor_frontend_sessions",
            "Streamlit sessions with a browser connected to this process (one per open tab)",
            registry=r,
        ),
    )
    for field in REPORT_FIELDS:
        m.report_items_dropped.labels(field)
    m.streamlit_sessions.set_function(live_streamlit_sessions)
    # process_cpu_seconds_total and process_resident_memory_bytes per replica: CPU and memory per session.
    ProcessCollector(registry=r)
    register_build_info(r)  # parlor_build_info{version,commit,python}, the same as the backend's
    for result in ("success", "failure"):
        m.connect_attempts.labels(result)
    for transport in TRANSPORTS:
        m.delivery_latency.labels(transport)
        m.render_latency.labels(transport)
        m.events_received.labels(transport)
        for status in STATUSES:
            m.sessions.labels(transport, status)
    return m


def live_streamlit_sessions() -> float:
    """Sessions Streamlit's runtime holds with a live WebSocket; 0 outside a Streamlit server.

    Streamlit has no public accessor for this; `Runtime._session_mgr` is the manager its own stats use.
    """
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return 0.0
    manager = getattr(Runtime.instance(), "_session_mgr", None)
    return float(manager.num_active_sessions()) if manager is not None else 0.0


_lock = threading.Lock()
_metrics: BridgeMetrics | None = None


def get_bridge_metrics(port: int | None = None, addr: str = "127.0.0.1") -> BridgeMetrics:
    """The process-wide bridge metrics; the first call with a port also starts the /metrics server."""
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = build_metrics()
            if port:
                start_http_server(port, addr=addr, registry=_metrics.registry)
        return _metrics

"""Bridge reports are untrusted: counts and timings are bounded and each session has a per-minute budget."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from frontend.bridge_reports import REPORT_BUDGETS_PER_MINUTE, record_report
from frontend.metrics import build_metrics


def test_one_session_cannot_fire_the_fallback_and_latency_alerts() -> None:
    """A forged report (1000 fallbacks, hour-long deliveries) is cut to the session's budget; another session
    still reports in full, and everything dropped is counted."""
    registry = CollectorRegistry()
    m = build_metrics(registry)
    forged = {
        "fallback_activations": 1000,
        "connect_attempts": {"failure": 10**12},
        "delivery": [["websocket", 3599.0]] * 50 + [["websocket", 0.02]] * 5000,
    }
    for _ in range(20):
        record_report(m, forged, "attacker")
    record_report(m, {"fallback_activations": 1, "delivery": [["websocket", 0.03]]}, "honest")

    def value(name: str, labels: dict[str, str] | None = None) -> float:
        return registry.get_sample_value(name, labels or {}) or 0.0

    budget = REPORT_BUDGETS_PER_MINUTE
    assert value("parlor_bridge_fallback_activations_total") == budget["fallback_activations"] + 1
    assert value("parlor_bridge_connect_attempts_total", {"result": "failure"}) == budget["connect_attempts"]
    count = value("parlor_bridge_event_delivery_latency_seconds_count", {"transport": "websocket"})
    assert count == budget["timings"] + 1
    within_ten = value("parlor_bridge_event_delivery_latency_seconds_bucket", {"transport": "websocket", "le": "10.0"})
    assert within_ten == count
    assert value("parlor_bridge_report_items_dropped_total", {"field": "fallback_activations"}) == 20 * 1000 - 10
    assert value("parlor_bridge_report_items_dropped_total", {"field": "timings"}) >= 20 * 50


def test_gaps_are_counted_within_budget() -> None:
    """The holes a bridge found reach parlor_bridge_gaps_total, a forged flood cut to the session's budget."""
    registry = CollectorRegistry()
    m = build_metrics(registry)
    record_report(m, {"gaps": 2}, "one")
    record_report(m, {"gaps": 10**6}, "forger")
    assert registry.get_sample_value("parlor_bridge_gaps_total", {}) == 2 + REPORT_BUDGETS_PER_MINUTE["gaps"]

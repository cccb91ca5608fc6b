"""backend.metrics: the autopilot's last decision is one series at a time, labelled with who and why."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from backend.metrics import REASON_LABEL_MAX, RolloutMetrics


def test_last_decision_keeps_one_series_with_actor_and_a_bounded_reason() -> None:
    """A second decision replaces the first series; the reason is one line, cut to REASON_LABEL_MAX."""
    registry = CollectorRegistry()
    metrics = RolloutMetrics(("error_rate",), registry)
    metrics.decided("advance", "rollout-autopilot", "stage 1 held 10m", 1000.0)
    metrics.decided("rollback", "rollout-autopilot", "error_rate 0.2 >\n 0.05 " + "x" * 300, 2000.0)
    samples = [
        s
        for family in registry.collect()
        for s in family.samples
        if s.name == "parlor_rollout_last_decision_timestamp_seconds"
    ]
    (sample,) = samples
    assert sample.value == 2000.0 and sample.labels["decision"] == "rollback"
    assert (
        sample.labels["reason"].startswith("error_rate 0.2 > 0.05 x")
        and len(sample.labels["reason"]) == REASON_LABEL_MAX
    )
    assert registry.get_sample_value("parlor_rollout_decisions_total", {"decision": "rollback"}) == 1

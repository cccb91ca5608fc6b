"""parlor_build_info{version,commit,python} on the backend's, the frontend's and the autopilot's /metrics."""

from __future__ import annotations

import platform

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from backend.metrics import RolloutMetrics
from frontend.metrics import build_metrics
from launchers.backend import Backend
from parlor_runtime.build import build_labels
from parlor_runtime.version import VERSION


def test_backend_serves_build_info_from_the_package_version(backend: Backend) -> None:
    """A running backend's /metrics has one parlor_build_info sample: VERSION, a commit, this Python; and tasks."""
    text = httpx.get(backend.url + "/metrics", timeout=10).text
    samples = {f.name: f.samples for f in text_string_to_metric_families(text)}
    (build,) = samples["parlor_build_info"]
    assert build.value == 1 and build.labels["version"] == VERSION
    assert build.labels["python"] == platform.python_version() and build.labels["commit"]
    (tasks,) = samples["parlor_asyncio_tasks"]
    assert tasks.value >= 1


def test_frontend_and_autopilot_registries_carry_the_same_build_info() -> None:
    """The frontend's bridge registry and the autopilot's registry export the same labels as the backend."""
    for registry in (build_metrics(CollectorRegistry()).registry, CollectorRegistry()):
        if not list(registry.collect()):
            RolloutMetrics(("error_rate",), registry)
        assert registry.get_sample_value("parlor_build_info", build_labels()) == 1

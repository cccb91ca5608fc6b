"""One evaluation of the plan's checks against Prometheus' HTTP API (`/api/v1/query`, instant queries).

Anything short of a clear number is inconclusive, never a success: Prometheus unreachable or answering an
error, a query returning no series (no data), several series (the plan must aggregate), NaN, or the cohort
having made fewer connections than the plan's minimum. httpx talks to the API directly: the two endpoints
used do not justify a client library (prometheus-api-client pulls in pandas).
"""

from __future__ import annotations

import math

import httpx

from backend.rollout.engine import CheckResult, Evaluation, Verdict
from backend.rollout.plan import Check, Plan


class PrometheusError(Exception):
    """Prometheus could not answer the query (down, timeout, HTTP or PromQL error)."""


class Prometheus:
    def __init__(self, url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def values(self, query: str) -> list[float]:
        """The value of every series an instant query returns (a scalar counts as one)."""
        try:
            response = self._client.get(f"{self.url}/api/v1/query", params={"query": query})
        except httpx.HTTPError as exc:
            raise PrometheusError(f"Prometheus unreachable at {self.url}: {exc!r}") from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(f"Prometheus answered HTTP {response.status_code} without JSON") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise PrometheusError(f"Prometheus error (HTTP {response.status_code}): {body.get('error', body)}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return [float(data["result"][1])]
        if data["resultType"] != "vector":
            raise PrometheusError(f"expected an instant vector, got a {data['resultType']}")
        return [float(sample["value"][1]) for sample in data["result"]]


def _single(values: list[float]) -> tuple[float | None, str]:
    if not values:
        return None, "no data"
    if len(values) > 1:
        return None, f"{len(values)} series; the query must return one"
    if math.isnan(values[0]):
        return None, "NaN"
    return values[0], ""


def judge(check: Check, prometheus: Prometheus, cohort_note: str) -> CheckResult:
    """Query one check; `cohort_note` (too few connections) makes any value inconclusive."""
    condition = str(check.success)
    try:
        value, note = _single(prometheus.values(check.query))
    except PrometheusError as exc:
        value, note = None, str(exc)
    if value is None:
        verdict = Verdict.INCONCLUSIVE
    elif cohort_note:
        verdict, note = Verdict.INCONCLUSIVE, cohort_note
    else:
        verdict = Verdict.SUCCESS if check.success.holds(value) else Verdict.FAILURE
    return CheckResult(name=check.name, query=check.query, condition=condition, verdict=verdict, value=value, note=note)


def evaluate(plan: Plan, prometheus: Prometheus, now: float) -> Evaluation:
    """Every check of the plan, once. When Prometheus cannot even count the cohort, the checks are not queried
    (each would wait out the same timeout): all are inconclusive with its error."""
    cohort = plan.analysis.cohort
    try:
        values = prometheus.values(cohort.query)
    except PrometheusError as exc:
        return Evaluation(at=now, checks=tuple(_unjudged(check, str(exc)) for check in plan.analysis.checks))
    connections = values[0] if len(values) == 1 and not math.isnan(values[0]) else 0.0
    cohort_note = ""
    if connections < cohort.min_connections:
        cohort_note = (
            f"too few connections in the cohort: {cohort.query} = {connections:.6g} "
            f"(need >= {cohort.min_connections:g})"
        )
    return Evaluation(at=now, checks=tuple(judge(check, prometheus, cohort_note) for check in plan.analysis.checks))


def _unjudged(check: Check, note: str) -> CheckResult:
    return CheckResult(
        name=check.name, query=check.query, condition=str(check.success), verdict=Verdict.INCONCLUSIVE, note=note
    )

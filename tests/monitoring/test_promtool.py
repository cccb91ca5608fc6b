"""Prometheus configuration, recording rules and alerts, checked and unit-tested by the real promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from monitoring import links

ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = ROOT / "monitoring" / "prometheus"
RULE_FILES = sorted((PROM_DIR / "rules").glob("*.yml"))
UNIT_TESTS = sorted((PROM_DIR / "tests").glob("*.test.yml"))
ALERTS_FILE = PROM_DIR / "rules" / "parlor-alerts.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

pytestmark = pytest.mark.skipif(not Path(PROMTOOL).exists(), reason="promtool is not installed")


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def config_with_local_rules(tmp_path: Path) -> Path:
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    config["rule_files"] = [str(PROM_DIR / "rules" / Path(name).name) for name in config["rule_files"]]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_prometheus_config_is_valid(tmp_path: Path) -> None:
    """prometheus.yml (with its rule files pointed at the repo) passes `promtool check config`."""
    result = promtool("check", "config", config_with_local_rules(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_config_scrapes_backend_and_frontend_every_5s() -> None:
    """The compose config scrapes both backend and both frontend replicas every 5 s and loads both rule files."""
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    assert config["global"]["scrape_interval"] == "5s"
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]] for job in config["scrape_configs"]
    }
    assert targets["parlor-backend"] == ["backend-a:8000", "backend-b:8000"]
    assert targets["parlor-frontend"] == ["frontend-a:9108", "frontend-b:9108"]
    assert sorted(Path(name).name for name in config["rule_files"]) == [path.name for path in RULE_FILES]


def test_rule_files_are_valid() -> None:
    """Every recording and alerting rule file passes `promtool check rules`."""
    result = promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    """Every `promtool test rules` file passes: alerts fire when they should and stay quiet otherwise."""
    assert UNIT_TESTS
    result = promtool("test", "rules", *UNIT_TESTS, cwd=PROM_DIR / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    """Each alert is tested at least once with expected alerts and once with an empty exp_alerts."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in UNIT_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {str(rule["alert"]) for rule in alerts()}
    assert names - firing == set(), "alerts never shown to fire"
    assert names - quiet == set(), "alerts never shown to stay quiet"


def test_every_alert_has_severity_summary_and_a_runbook_section() -> None:
    """Alerts carry severity page|ticket, a summary and description, and a runbook_url anchor that exists."""
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("#")
    }
    for rule in alerts():
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict) and isinstance(annotations, dict)
        assert labels["severity"] in ("page", "ticket"), rule["alert"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert annotations["runbook_url"] == links.runbook_url(str(rule["alert"]).lower(), links.DEFAULT_DOCS_URL)
        assert annotations["dashboard_url"].startswith(links.DEFAULT_GRAFANA_URL + "/d/parlor-")
        assert str(rule["alert"]).lower() in headings, f"docs/runbook.md has no section for {rule['alert']}"


def test_unit_tests_catch_a_loosened_threshold(tmp_path: Path) -> None:
    """The rule unit tests fail when an alert's threshold is changed, so they really pin the rules down."""
    shutil.copytree(PROM_DIR / "rules", tmp_path / "rules")
    shutil.copytree(PROM_DIR / "tests", tmp_path / "tests")
    alerts_copy = tmp_path / "rules" / ALERTS_FILE.name
    loosened = alerts_copy.read_text().replace("ratio_rate5m < 0.95", "ratio_rate5m < 0.85")
    assert loosened != alerts_copy.read_text()
    alerts_copy.write_text(loosened)
    result = promtool("test", "rules", "slo.test.yml", cwd=tmp_path / "tests")
    assert result.returncode != 0
    assert "ParlorWSConnectionSuccessLow" in result.stdout + result.stderr


def test_alert_links_are_absolute_and_follow_the_base_urls(tmp_path: Path) -> None:
    """The committed rule and test files carry the default base URLs' links; another base rewrites every one."""
    assert links.main(["--check"]) == 0
    text = ALERTS_FILE.read_text()
    moved = links.render(text, "https://docs.example/parlor", "https://grafana.example")
    assert "parlor.invalid" not in moved and "127.0.0.1:3000" not in moved
    assert moved.count("runbook_url: https://docs.example/parlor/runbook.md#") == text.count("runbook_url:")
    assert moved.count("dashboard_url: https://grafana.example/d/") == text.count("dashboard_url:")
    assert links.render(moved, links.DEFAULT_DOCS_URL, links.DEFAULT_GRAFANA_URL) == text

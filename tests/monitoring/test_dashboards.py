"""Dashboards as code: the committed JSON is what generate.py produces, and it says what the rollout needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from monitoring.grafana import generate

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "monitoring" / "grafana" / "dashboards"
PROVISIONING = ROOT / "monitoring" / "grafana" / "provisioning"


def load(name: str) -> dict[str, Any]:
    return json.loads((DASHBOARDS / name).read_text())


def panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in model["panels"] if panel["type"] != "row"]


def by_title(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(panel["title"]): panel for panel in panels(model)}


def test_committed_dashboards_are_up_to_date() -> None:
    """`python -m monitoring.grafana.generate --check` passes on the committed JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "monitoring.grafana.generate", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_check_detects_a_hand_edited_dashboard(tmp_path: Path) -> None:
    """--check exits 1 and names the file when a dashboard differs from the generated one, 0 when it does not."""
    generate.write(tmp_path)
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    edited = tmp_path / generate.ROLLOUT_FILE
    edited.write_text(edited.read_text().replace('"Connection success ratio"', '"Connection success"'))
    assert generate.stale(tmp_path) == [edited]
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1
    (tmp_path / generate.BACKEND_FILE).unlink()
    assert len(generate.stale(tmp_path)) == 2


def test_every_panel_and_query_uses_the_datasource_variable_defaulting_to_the_provisioned_one() -> None:
    """Panels, targets, annotations and the instance picker query ${datasource}; it defaults to parlor-prometheus."""
    datasource = json.dumps({"type": "prometheus", "uid": "${datasource}"}, sort_keys=True)
    for name in (generate.ROLLOUT_FILE, generate.BACKEND_FILE):
        model = load(name)
        for panel in panels(model):
            assert json.dumps(panel["datasource"], sort_keys=True) == datasource, panel["title"]
            for target in panel["targets"]:
                assert json.dumps(target["datasource"], sort_keys=True) == datasource, panel["title"]
        for item in model["annotations"]["list"]:
            assert item["datasource"]["uid"] == "${datasource}"
        variables = {v["name"]: v for v in model["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        assert variables["datasource"]["current"]["value"] == "parlor-prometheus"
    provisioned = (PROVISIONING / "datasources" / "prometheus.yml").read_text()
    assert "uid: parlor-prometheus" in provisioned and "url: http://prometheus:9090" in provisioned


def test_success_criteria_panels_have_the_seeds_thresholds() -> None:
    """Each success-criterion panel exists and carries thresholds at the seed's values."""
    expected = {
        "Connection success ratio": [0.95, 0.99],
        "Average message latency": [0.05, 0.1],
        "p95 message latency": [0.2],
        "Unexpected disconnection rate": [0.01],
        "Concurrent players": [200, 500],
        "Zero downtime: replicas up and restarts": [1],
    }
    assert set(expected) == set(generate.SUCCESS_CRITERIA)
    rollout = by_title(load(generate.ROLLOUT_FILE))
    for title, values in expected.items():
        steps = rollout[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [step["value"] for step in steps][1:] == values, title


def test_success_criteria_split_by_transport_where_the_metric_has_one() -> None:
    """Criterion panels over transport-labelled metrics follow the $transport picker and group by transport."""
    rollout = load(generate.ROLLOUT_FILE)
    variables = {v["name"]: v for v in rollout["templating"]["list"]}
    assert variables["transport"]["includeAll"] and variables["transport"]["allValue"] == ".*"
    titles = by_title(rollout)
    for title in ("Average message latency", "p95 message latency", "Concurrent players"):
        exprs = [target["expr"] for target in titles[title]["targets"]]
        assert any('transport=~"$transport"' in e and "by (transport" in e for e in exprs), title


def test_rollout_dashboard_annotates_flag_flips_and_restarts() -> None:
    """The rollout dashboard marks flag changes and backend restarts, and shows flag state and transports."""
    rollout = load(generate.ROLLOUT_FILE)
    exprs = [item["expr"] for item in rollout["annotations"]["list"]]
    assert any("parlor_flag_last_change_timestamp_seconds" in e for e in exprs)
    assert any("changes(process_start_time_seconds" in e for e in exprs)
    titles = by_title(rollout)
    for title in ("Flag state", "Messages per connected player by transport", "Reconnects", "Fallback activations"):
        assert title in titles


def test_backend_dashboard_covers_red_process_game_and_store() -> None:
    """The backend dashboard has HTTP and WebSocket RED, process, game and store panels."""
    exprs = " ".join(expr for dash, _, expr in generate.panel_queries() if dash == "Parlor backend")
    for metric in (
        "parlor_http_requests_total",
        "parlor_http_request_duration_seconds_bucket",
        "parlor_ws_connection_attempts_total",
        "parlor_ws_handshake_rejections_total",
        "parlor_limit_refusals_total",
        "parlor_ws_disconnects_total",
        "parlor_ws_frames_sent_total",
        "parlor_ws_frames_received_total",
        "parlor_fanout_latency_seconds_bucket",
        "parlor_ws_send_queue_overflows_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "parlor_rooms_active",
        "parlor_games_finished_total",
        "parlor_store_errors_total",
        "parlor_cross_process_lag_seconds_bucket",
    ):
        assert metric in exprs, metric


def test_dashboard_provider_points_at_the_mounted_dashboards() -> None:
    """Grafana's file provider reads the directory the compose file mounts the generated JSON into."""
    provider = (PROVISIONING / "dashboards" / "parlor.yml").read_text()
    compose = (ROOT / "deploy" / "docker-compose.yml").read_text()
    assert "path: /etc/grafana/dashboards/parlor" in provider
    assert "../monitoring/grafana/dashboards:/etc/grafana/dashboards/parlor:ro" in compose


def test_rollout_dashboard_shows_the_autopilot_and_annotates_its_decisions() -> None:
    """A "Rollout autopilot" row shows stage, phase, hold, verdicts, values and decisions; decisions are annotated."""
    rollout = load(generate.ROLLOUT_FILE)
    rows = [panel["title"] for panel in rollout["panels"] if panel["type"] == "row"]
    assert "Rollout autopilot" in rows
    exprs = " ".join(expr for dash, _, expr in generate.panel_queries() if dash == "WebSocket rollout")
    for metric in (
        "parlor_rollout_stage",
        "parlor_rollout_percent",
        "parlor_rollout_phase",
        "parlor_rollout_hold_remaining_seconds",
        "parlor_rollout_check_verdict",
        "parlor_rollout_check_value",
        "parlor_rollout_check_threshold",
        "parlor_rollout_evaluations_total",
        "parlor_rollout_decisions_total",
    ):
        assert metric in exprs, metric
    annotations = {item["name"]: item["expr"] for item in rollout["annotations"]["list"] if item.get("expr")}
    assert "parlor_rollout_last_decision_timestamp_seconds" in annotations["Autopilot decisions"]


def test_dashboards_show_each_frontend_replica() -> None:
    """Sessions, CPU and memory per session are drawn per Streamlit replica (`instance`), from its own job."""
    queries = {title: expr for _, title, expr in generate.panel_queries()}
    assert queries["Streamlit sessions per frontend instance"] == "sum by (instance) (parlor_frontend_sessions)"
    for title in ("Frontend CPU per session", "Frontend memory per session", "Frontend uptime"):
        assert 'job="parlor-frontend"' in queries[title] and "by (instance)" in queries[title], title


def test_dashboards_by_the_book_units_instance_timeline_annotations_and_runbook_link() -> None:
    """Every panel states a unit; the backend's queries follow $instance; the autopilot's phase is a state
    timeline; decisions are annotated with who and why at their own time; the runbook link is absolute."""
    rollout, backend = load(generate.ROLLOUT_FILE), load(generate.BACKEND_FILE)
    for model in (rollout, backend):
        for panel in panels(model):
            assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        (runbook,) = [link for link in model["links"] if link["title"] == "Runbook"]
        assert runbook["url"].startswith(("https://", "http://")) and runbook["url"].endswith("runbook.md#dashboards")
    assert by_title(rollout)["Autopilot stage and percent"]["fieldConfig"]["defaults"]["unit"] == "percent"

    instance = {v["name"]: v for v in backend["templating"]["list"]}["instance"]
    assert instance["query"] == 'label_values(up{job="parlor-backend"}, instance)' and instance["includeAll"]
    backend_exprs = [expr for dash, title, expr in generate.panel_queries() if dash == "Parlor backend"]
    frontend = [e for e in backend_exprs if "parlor-frontend" in e or "parlor_frontend_sessions" in e]
    assert all('instance=~"$instance"' in e for e in backend_exprs if e not in frontend)

    phase = by_title(rollout)["Autopilot phase"]
    assert phase["type"] == "state-timeline"
    (mapping,) = phase["fieldConfig"]["defaults"]["mappings"]
    assert [mapping["options"][str(n)]["text"] for n in range(6)] == [
        "idle",
        "running",
        "paused",
        "completed",
        "rolled back",
        "aborted",
    ]
    decisions = {a["name"]: a for a in rollout["annotations"]["list"]}["Autopilot decisions"]
    assert decisions["useValueForTime"] and "parlor_rollout_last_decision_timestamp_seconds" in decisions["expr"]
    assert decisions["titleFormat"] == "{{decision}} by {{actor}}" and decisions["textFormat"] == "{{reason}}"

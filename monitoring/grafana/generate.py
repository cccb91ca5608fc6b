"""Grafana dashboards as code: `python -m monitoring.grafana.generate [--check]`.

Writes `dashboards/websocket-rollout.json` (the rollout's success criteria, judged by the seed's thresholds)
and `dashboards/parlor-backend.json` (RED views of HTTP and WebSocket, process, game and store). The JSON is
committed so Grafana's file provisioning can load it; `--check` exits 1 when it is stale.

By the book: every panel, query and annotation goes to `${datasource}` (a datasource variable whose default is
the provisioned `parlor-prometheus`), the backend's panels follow an `instance` picker, every panel states
its unit, the autopilot's phase is a state timeline, its decisions are annotated with who and why, and the
dashboards link to the runbook at PARLOR_DOCS_URL (monitoring/links.py, the alerts' base URL too).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from monitoring import links

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE_UID = "parlor-prometheus"  # the provisioned datasource: the ${datasource} variable's default
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
# The backend dashboard's panels follow the replica picker ("All" matches every instance).
INSTANCE = 'instance=~"$instance"'
BACKEND = 'job="parlor-backend"'
BACKEND_INSTANCE = f"{BACKEND}, {INSTANCE}"
SERVER_ERROR_INSTANCE = f'status=~"5..", {INSTANCE}'
FRONTEND = 'job="parlor-frontend"'
# Series with a transport label follow the dashboard's cohort picker ("All" matches every transport).
TRANSPORT = 'transport=~"$transport"'
SERVER_ERROR = 'status=~"5.."'
# The rollout autopilot's metrics (backend.metrics.RolloutMetrics), from its own process.
AUTOPILOT = "parlor_rollout"

ROLLOUT_FILE = "websocket-rollout.json"
BACKEND_FILE = "parlor-backend.json"
# Titles of the rollout dashboard's panels that judge a success criterion of the seed; each has thresholds.
SUCCESS_CRITERIA = (
    "Connection success ratio",
    "Average message latency",
    "p95 message latency",
    "Unexpected disconnection rate",
    "Concurrent players",
    "Zero downtime: replicas up and restarts",
)

Steps = list[tuple[float | None, str]]
# backend.metrics.ROLLOUT_PHASES in order, with the colour the state timeline gives each
ROLLOUT_PHASES = ("idle", "running", "paused", "completed", "rolled_back", "aborted")
PHASE_STATES = [
    ("idle", "text"),
    ("running", "blue"),
    ("paused", "yellow"),
    ("completed", "green"),
    ("rolled back", "red"),
    ("aborted", "orange"),
]


def query(expr: str, legend: str = "__auto") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)


def thresholds(steps: Steps) -> dash.ThresholdsConfig:
    return (
        dash.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def graph(
    title: str,
    description: str,
    targets: Iterable[prometheus.Dataquery],
    unit: str,
    steps: Steps | None = None,
    width: int = 12,
    stack: bool = False,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .height(8)
        .span(width)
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .calcs(["lastNotNull", "max"])
        )
    )
    for ref_id, target in zip("ABCDEFGH", targets, strict=False):
        panel = panel.with_target(target.ref_id(ref_id))
    if steps is not None:
        panel = panel.thresholds(thresholds(steps)).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED_AND_AREA)
        )
    if stack:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    return panel


def single(title: str, description: str, expr: str, unit: str, steps: Steps, width: int = 6) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .height(4)
        .span(width)
        .with_target(query(expr).ref_id("A").instant())
        .thresholds(thresholds(steps))
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
    )


def annotation(name: str, expr: str, color: str) -> dash.AnnotationQuery:
    return dash.AnnotationQuery().name(name).datasource(DATASOURCE).enable(True).icon_color(color).expr(expr)


# Grafana options of Prometheus annotations that the SDK's builder has no method for, set on the JSON by name:
# the autopilot's decisions are placed at the time they were written (the series' value, in ms) and titled
# with the decision and its actor, their text the reason.
ANNOTATION_OPTIONS = {
    "Autopilot decisions": {
        "useValueForTime": True,
        "step": "15s",
        "titleFormat": "{{decision}} by {{actor}}",
        "textFormat": "{{reason}}",
        "tagKeys": "decision,actor",
    },
    # the audit log's newest record when a backend picked the change up (CLI, admin API, page or autopilot)
    "Flag changes": {
        "useValueForTime": True,
        "step": "15s",
        "titleFormat": "flag changed by {{actor}}",
        "textFormat": "{{reason}}",
        "tagKeys": "actor",
    },
    "Backend restarts": {"titleFormat": "backend restarted", "textFormat": "{{instance}}", "tagKeys": "instance"},
}


def axis_right(unit: str) -> list[DynamicConfigValue]:
    """A field override: this series in its own unit, on an axis of its own on the right."""
    return [
        DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
        DynamicConfigValue(id_val="unit", value=unit),
    ]


def datasource_variable() -> dash.DatasourceVariable:
    return (
        dash.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID))
    )


def instance_variable() -> dash.QueryVariable:
    return (
        dash.QueryVariable("instance")
        .label("Backend replica")
        .datasource(DATASOURCE)
        .query('label_values(up{job="parlor-backend"}, instance)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def state_timeline(
    title: str, description: str, expr: str, legend: str, states: dict[int, tuple[str, str]], width: int
) -> statetimeline.Panel:
    """One row whose value is a state's number, shown as the state's name and colour."""
    mapping = ValueMap(
        options={
            str(value): ValueMappingResult(text=text, color=color, index=value)
            for value, (text, color) in states.items()
        }
    )
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit("none")
        .height(8)
        .span(width)
        .with_target(query(expr, legend).ref_id("A"))
        .mappings([mapping])
        .show_value(common.VisibilityMode.AUTO)
        .merge_values(True)
    )


def transport_variable() -> dash.CustomVariable:
    return (
        dash.CustomVariable("transport")
        .label("Transport (cohort)")
        .values("websocket,longpoll,polling")
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def base(title: str, uid: str, description: str) -> dash.Dashboard:
    return (
        dash.Dashboard(title)
        .with_variable(datasource_variable())
        .uid(uid)
        .description(description)
        .tags(["parlor"])
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time("now-1h", "now")
        .refresh("10s")
        .timezone("browser")
        .link(
            dash.DashboardLink("Parlor dashboards")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["parlor"])
            .as_dropdown(True)
            .keep_time(True)
            .include_vars(True)
        )
        .link(
            dash.DashboardLink("Runbook")
            .type(DashboardLinkType.LINK)
            .url(links.runbook_url("dashboards"))
            .tooltip("What each panel means and what to do (docs/runbook.md)")
            .target_blank(True)
        )
    )


def rate(metric: str, selector: str = "", by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{{{selector}}}[$__rate_interval]))"


def avg_from_histogram(metric: str, selector: str = "", by: str = "") -> str:
    return f"{rate(metric + '_sum', selector, by)} / ({rate(metric + '_count', selector, by)} > 0)"


def quantile(q: float, metric: str, selector: str = "", by: str = "") -> str:
    grouping = ", ".join(filter(None, [by, "le"]))
    return f"histogram_quantile({q}, sum by ({grouping}) (rate({metric}_bucket{{{selector}}}[$__rate_interval])))"


def rollout_dashboard() -> dash.Dashboard:
    """The WebSocket rollout, judged on the seed's success criteria and its "96% fewer requests" claim."""
    bridge_latency = "parlor_bridge_event_delivery_latency_seconds"
    return (
        base(
            "WebSocket rollout",
            "parlor-websocket-rollout",
            "Success criteria of the WebSocket rollout (docs/runbook.md): connection success, latency, "
            "disconnections, concurrent players, zero downtime; transports, fallbacks and the flag.",
        )
        .with_variable(transport_variable())
        .annotation(
            annotation(
                "Flag changes",
                "max by (actor, reason) (parlor_flag_last_change_timestamp_seconds) * 1000",
                "purple",
            )
        )
        .annotation(
            annotation(
                "Backend restarts",
                f"sum by (instance) (changes(process_start_time_seconds{{{BACKEND}}}[1m])) > 0",
                "red",
            )
        )
        .annotation(
            annotation(
                "Autopilot decisions",
                f"max by (decision, actor, reason) ({AUTOPILOT}_last_decision_timestamp_seconds) * 1000",
                "orange",
            )
        )
        .with_row(dash.Row("Success criteria"))
        .with_panel(
            graph(
                "Connection success ratio",
                "Should have > 95%, nice to have > 99%. Backend: accepted over attempts (refusals by the flag "
                "or kill switch excluded). Browser: connects the bridge saw succeed.",
                [
                    query("parlor:ws_connection_success:ratio_rate5m", "backend: accepted / attempts"),
                    query("parlor:bridge_connect_success:ratio_rate5m", "browser: connects succeeded"),
                ],
                unit="percentunit",
                steps=[(None, "red"), (0.95, "yellow"), (0.99, "green")],
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "Average message latency",
                "Should have < 100 ms, nice to have < 50 ms. Browser: event's server ts to the browser "
                "receiving it, per transport. Server: commit to the frame being written.",
                [
                    query(avg_from_histogram(bridge_latency, TRANSPORT, "transport"), "browser {{transport}}"),
                    query(avg_from_histogram("parlor_fanout_latency_seconds"), "server fan-out"),
                ],
                unit="s",
                steps=[(None, "green"), (0.05, "yellow"), (0.1, "red")],
            )
        )
        .with_panel(
            graph(
                "p95 message latency",
                "Must have: real time (< 200 ms). ParlorMessageLatencyP95High pages at 250 ms.",
                [
                    query(quantile(0.95, bridge_latency, TRANSPORT, "transport"), "browser {{transport}}"),
                    query(quantile(0.95, "parlor_fanout_latency_seconds"), "server fan-out"),
                ],
                unit="s",
                steps=[(None, "green"), (0.2, "red")],
            )
        )
        .with_panel(
            graph(
                "Unexpected disconnection rate",
                "Should have < 1%. Disconnects other than client_close, replaced and moved_to_polling, over "
                "connections accepted (5m). Browser: sockets the bridge saw close unexpectedly per connect.",
                [
                    query("parlor:ws_disconnects_unexpected:ratio_rate5m", "backend"),
                    query("parlor:bridge_disconnects:ratio_rate5m", "browser"),
                ],
                unit="percentunit",
                steps=[(None, "green"), (0.01, "red")],
            ).min(0)
        )
        .with_panel(
            graph(
                "Concurrent players",
                "Should support 200+, nice to have 500+. Players seen live by transport, and open sockets.",
                [
                    query(f"sum by (transport) (parlor_players_connected{{{TRANSPORT}}})", "{{transport}}"),
                    query("sum(parlor_ws_connections_active)", "open WebSockets"),
                ],
                unit="short",
                steps=[(None, "text"), (200, "green"), (500, "purple")],
            )
        )
        .with_panel(
            graph(
                "Zero downtime: replicas up and restarts",
                "Nice to have: zero downtime during backend restarts. Replicas answering scrapes (must stay "
                ">= 1), restarts in the last hour and sockets closed by a restart (1012).",
                [
                    query("parlor:backend_up:sum", "replicas up"),
                    query("parlor:backend_restarts:changes1h", "restarts (1h)"),
                    query(rate("parlor_ws_disconnects_total", 'reason="server_restart"'), "closed by restart /s"),
                ],
                unit="short",
                steps=[(None, "red"), (1, "green")],
            ).override_by_name("closed by restart /s", axis_right("ops"))
        )
        .with_row(dash.Row("Transports"))
        .with_panel(
            graph(
                "Messages per second by transport",
                "HTTP polls and WebSocket frames alike. The seed claimed 96% fewer: 2.5 req/s per polling "
                "player against 0.1 msg/s per WebSocket player.",
                [
                    query(
                        rate("parlor_transport_messages_total", TRANSPORT, "transport, direction"),
                        "{{transport}} {{direction}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "Messages per connected player by transport",
                "Messages per second divided by players on that transport: the measured form of the seed's "
                '"96% fewer requests" (compare websocket with polling).',
                [
                    query(
                        f"{rate('parlor_transport_messages_total', TRANSPORT, 'transport')} / "
                        f"(sum by (transport) (parlor_players_connected{{{TRANSPORT}}}) > 0)",
                        "{{transport}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "Players by transport",
                "Where players are: the WebSocket cohort, long-poll fallback and legacy polling.",
                [query(f"sum by (transport) (parlor_players_connected{{{TRANSPORT}}})", "{{transport}}")],
                unit="short",
                stack=True,
            )
        )
        .with_panel(
            graph(
                "Browser sessions by transport and status",
                "What the browser bridges report: connected, connecting, fallback, polling, stopped.",
                [
                    query(
                        f"sum by (transport, status) (parlor_bridge_sessions{{{TRANSPORT}}})",
                        "{{transport}} {{status}}",
                    )
                ],
                unit="short",
            )
        )
        .with_panel(
            graph(
                "Streamlit sessions per frontend instance",
                "Open browser tabs held by each Streamlit replica behind nginx-frontend (session affinity by "
                "cookie). During a rolling restart a replica's sessions move to the others and back.",
                [query("sum by (instance) (parlor_frontend_sessions)", "{{instance}}")],
                unit="short",
                stack=True,
            )
        )
        .with_row(dash.Row("Reconnects and fallbacks"))
        .with_panel(
            graph(
                "Reconnects",
                "Browser reconnects (bridge) and server-side resumes by whether the event log still reached "
                "back (recovered=false means a snapshot was sent).",
                [
                    query(rate("parlor_bridge_reconnects_total"), "browser reconnects"),
                    query(rate("parlor_ws_resumes_total", by="recovered"), "resumes recovered={{recovered}}"),
                ],
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Fallback activations",
                "Browsers switched to long-poll because their socket was down, and sockets the server moved "
                "to polling. See ParlorFallbackSpike.",
                [
                    query(rate("parlor_bridge_fallback_activations_total"), "browser fallbacks"),
                    query(rate("parlor_ws_disconnects_total", 'reason="moved_to_polling"'), "moved to polling"),
                ],
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Browser render latency",
                "Browser receipt to the game fragment showing the event, per transport (avg).",
                [
                    query(
                        avg_from_histogram("parlor_bridge_render_latency_seconds", TRANSPORT, "transport"),
                        "{{transport}}",
                    )
                ],
                unit="s",
            )
        )
        .with_panel(
            graph(
                "Events received by browsers",
                "Events the bridge handed to Python, per transport.",
                [query(rate("parlor_bridge_events_received_total", TRANSPORT, "transport"), "{{transport}}")],
                unit="ops",
            )
        )
        .with_row(dash.Row("Feature flag"))
        .with_panel(
            graph(
                "Flag state",
                "websocket-transport: rollout percent (left axis) and enabled (on when the flag is on and the kill "
                "switch allows it; right axis). Flag changes are annotated on every panel.",
                [
                    query("max(parlor_flag_rollout_percent)", "rollout %"),
                    query("max(parlor_flag_enabled)", "enabled"),
                ],
                unit="percent",
            )
            .min(0)
            .override_by_name("enabled", axis_right("bool_on_off"))
        )
        .with_panel(
            graph(
                "Transport given by the flag",
                "Flag evaluations per second by the transport they assigned (the cohorts).",
                [query(rate("parlor_flag_evaluations_total", TRANSPORT, "transport"), "{{transport}}")],
                unit="ops",
            )
        )
        .with_panel(
            single(
                "Backend uptime (youngest replica)",
                "Time since the most recent backend start.",
                "parlor:backend_uptime_seconds:min",
                "s",
                [(None, "orange"), (600, "green")],
            )
        )
        .with_panel(
            single(
                "Connected players now",
                "All transports.",
                "parlor:players_connected:total",
                "short",
                [(None, "text"), (200, "green"), (500, "purple")],
            )
        )
        .with_row(dash.Row("Rollout autopilot"))
        .with_panel(
            graph(
                "Autopilot stage and percent",
                "python -m backend.rollout: the percent it set (left axis) and the plan's stage (from 1; 0 when no "
                "rollout; right axis). Its decisions are annotated in orange on every panel.",
                [
                    query(f"max({AUTOPILOT}_percent)", "rollout %"),
                    query(f"max({AUTOPILOT}_stage)", "stage"),
                ],
                unit="percent",
                width=8,
            )
            .min(0)
            .override_by_name("stage", axis_right("none"))
        )
        .with_panel(
            state_timeline(
                "Autopilot phase",
                "python -m backend.rollout's phase over time: running, paused (waiting for a person), completed, "
                "rolled back, aborted (idle: no rollout). Each change of phase is a decision annotated in orange.",
                " + ".join(f'{n} * max({AUTOPILOT}_phase{{phase="{p}"}})' for n, p in enumerate(ROLLOUT_PHASES)),
                "phase",
                {n: state for n, state in enumerate(PHASE_STATES)},
                width=8,
            )
        )
        .with_panel(
            graph(
                "Hold remaining",
                "Seconds of passing evaluations the current stage still needs before it advances.",
                [query(f"max({AUTOPILOT}_hold_remaining_seconds)", "hold remaining")],
                unit="s",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Checks by last verdict",
                "How many of the plan's checks last passed, failed or could not be judged (no data, Prometheus "
                "error, too few connections in the cohort).",
                [query(f"sum by (verdict) ({AUTOPILOT}_check_verdict)", "{{verdict}}")],
                unit="short",
                stack=True,
                width=8,
            )
        )
        .with_panel(
            graph(
                "Check values against thresholds",
                "Each check's last value and its threshold from the plan; units are the check's own.",
                [
                    query(f"max by (check) ({AUTOPILOT}_check_value)", "{{check}}"),
                    query(f"max by (check) ({AUTOPILOT}_check_threshold)", "{{check}} threshold"),
                ],
                unit="none",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Evaluations and decisions",
                "Evaluations per minute by verdict, and decisions (advance, rollback, pause...) per minute.",
                [
                    query(f"60 * {rate(AUTOPILOT + '_evaluations_total', by='verdict')}", "evaluations {{verdict}}"),
                    query(f"60 * {rate(AUTOPILOT + '_decisions_total', by='decision')}", "{{decision}}"),
                ],
                unit="short",
                width=8,
            )
        )
    )


def backend_dashboard() -> dash.Dashboard:
    """RED views of the backend's HTTP and WebSocket traffic, its process, the game and the store."""
    http = "parlor_http_requests_total"
    http_duration = "parlor_http_request_duration_seconds"
    return (
        base(
            "Parlor backend",
            "parlor-backend",
            "HTTP and WebSocket RED, process resources, rooms and games, store errors and cross-process lag.",
        )
        .with_variable(instance_variable())
        .annotation(
            annotation(
                "Backend restarts",
                f"sum by (instance) (changes(process_start_time_seconds{{{BACKEND_INSTANCE}}}[1m])) > 0",
                "red",
            )
        )
        .with_row(dash.Row("HTTP"))
        .with_panel(
            graph(
                "HTTP request rate by handler",
                "Requests per second.",
                [query(rate(http, INSTANCE, by="handler"), "{{handler}}")],
                unit="reqps",
                width=8,
            )
        )
        .with_panel(
            graph(
                "HTTP 5xx ratio by handler",
                "Share of requests answered 5xx; handlers without errors show 0.",
                [
                    query(
                        f"({rate(http, SERVER_ERROR_INSTANCE, 'handler')} or {rate(http, INSTANCE, by='handler')} * 0)"
                        f" / ({rate(http, INSTANCE, by='handler')} > 0)",
                        "{{handler}}",
                    )
                ],
                unit="percentunit",
                width=8,
            )
        )
        .with_panel(
            graph(
                "HTTP responses by status",
                "Status classes (2xx, 4xx, 5xx) per second.",
                [query(rate(http, INSTANCE, by="status"), "{{status}}")],
                unit="reqps",
                width=8,
            )
        )
        .with_panel(
            graph(
                "HTTP duration by handler",
                "p50, p95 and p99 by handler (buckets from 2.5 ms to 30 s: backend/metrics.py "
                "HTTP_LATENCY_BUCKETS); long-poll handlers wait by design.",
                [
                    query(quantile(0.5, http_duration, INSTANCE, by="handler"), "p50 {{handler}}"),
                    query(quantile(0.95, http_duration, INSTANCE, by="handler"), "p95 {{handler}}"),
                    query(quantile(0.99, http_duration, INSTANCE, by="handler"), "p99 {{handler}}"),
                ],
                unit="s",
                width=24,
            )
        )
        .with_row(dash.Row("WebSocket"))
        .with_panel(
            graph(
                "Open WebSocket connections",
                "Authenticated sockets per replica.",
                [query(f"sum by (instance) (parlor_ws_connections_active{{{INSTANCE}}})", "{{instance}}")],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Connection attempts by result",
                "What the service decided: accepted, or a refusal of its own (the connection SLI).",
                [query(rate("parlor_ws_connection_attempts_total", INSTANCE, by="result"), "{{result}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Handshakes refused through the client's fault",
                "Unknown room, bad token, no or bad hello, foreign Origin, rate limit: outside the SLI.",
                [query(rate("parlor_ws_handshake_rejections_total", INSTANCE, by="reason"), "{{reason}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Per-client and capacity limits",
                "Requests, handshakes and moves refused by a limit (429/503 or a close code).",
                [query(rate("parlor_limit_refusals_total", INSTANCE, by="limit"), "{{limit}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Disconnects by reason",
                "Why sockets closed.",
                [query(rate("parlor_ws_disconnects_total", INSTANCE, by="reason"), "{{reason}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Frames out by type",
                "Frames written to clients.",
                [query(rate("parlor_ws_frames_sent_total", INSTANCE, by="type"), "{{type}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Frames in by type",
                "Frames read from clients (invalid ones count toward abuse).",
                [query(rate("parlor_ws_frames_received_total", INSTANCE, by="type"), "{{type}}")],
                unit="ops",
                width=8,
            )
        )
        .with_panel(
            graph(
                "WebSocket bytes sent",
                "Frame payload bytes per second.",
                [query(rate("parlor_ws_sent_bytes_total", INSTANCE), "bytes")],
                unit="Bps",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Fan-out latency",
                "Event commit to its frame being written to a socket.",
                [
                    query(quantile(0.5, "parlor_fanout_latency_seconds", INSTANCE), "p50"),
                    query(quantile(0.95, "parlor_fanout_latency_seconds", INSTANCE), "p95"),
                    query(quantile(0.99, "parlor_fanout_latency_seconds", INSTANCE), "p99"),
                    query(avg_from_histogram("parlor_fanout_latency_seconds", INSTANCE), "avg"),
                ],
                unit="s",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Send queue overflows and missed events",
                "Connections cut because their bounded send queue filled (slow consumers), and because an event's "
                "prev was above what the socket had been sent (a hole the hub refused to send past).",
                [
                    query(
                        "sum by (instance) "
                        f"(increase(parlor_ws_send_queue_overflows_total{{{INSTANCE}}}[$__rate_interval]))",
                        "{{instance}}",
                    ),
                    query(
                        f"sum by (instance) (increase(parlor_ws_missed_events_total{{{INSTANCE}}}[$__rate_interval]))",
                        "missed event {{instance}}",
                    ),
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Long-poll and polling requests",
                "GET /events by outcome and legacy GET /state.",
                [
                    query(rate("parlor_longpoll_requests_total", INSTANCE, by="outcome"), "long-poll {{outcome}}"),
                    query(rate("parlor_polling_requests_total", INSTANCE), "polling"),
                ],
                unit="reqps",
                width=8,
            )
        )
        .with_row(dash.Row("Process"))
        .with_panel(
            graph(
                "CPU",
                "Cores used per replica.",
                [
                    query(
                        f"sum by (instance) (rate(process_cpu_seconds_total{{{BACKEND_INSTANCE}}}[$__rate_interval]))",
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Resident memory",
                "RSS per replica.",
                [query(f"sum by (instance) (process_resident_memory_bytes{{{BACKEND_INSTANCE}}})", "{{instance}}")],
                unit="bytes",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Uptime and draining",
                "Seconds since start per replica; draining is 1 while a replica closes its sockets on SIGTERM.",
                [
                    query(
                        f"time() - max by (instance) (process_start_time_seconds{{{BACKEND_INSTANCE}}})",
                        "uptime {{instance}}",
                    ),
                    query(f"max by (instance) (parlor_draining{{{INSTANCE}}})", "draining {{instance}}"),
                ],
                unit="s",
                width=8,
            ).override_by_regexp("draining.*", axis_right("bool_on_off"))
        )
        .with_row(dash.Row("Frontend replicas (Streamlit)"))
        .with_panel(
            graph(
                "Frontend CPU per session",
                "Cores each Streamlit replica uses, divided by the sessions it holds (at least one): what one "
                "more player costs the frontend tier (docs/benchmarks.md, browser load).",
                [
                    query(
                        f"sum by (instance) (rate(process_cpu_seconds_total{{{FRONTEND}}}[$__rate_interval]))"
                        " / clamp_min(sum by (instance) (parlor_frontend_sessions), 1)",
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Frontend memory per session",
                "RSS of each Streamlit replica divided by the sessions it holds (at least one).",
                [
                    query(
                        f"sum by (instance) (process_resident_memory_bytes{{{FRONTEND}}})"
                        " / clamp_min(sum by (instance) (parlor_frontend_sessions), 1)",
                        "{{instance}}",
                    )
                ],
                unit="bytes",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Frontend uptime",
                "Seconds since each Streamlit replica started: a rolling restart shows one drop at a time.",
                [query(f"time() - max by (instance) (process_start_time_seconds{{{FRONTEND}}})", "{{instance}}")],
                unit="s",
                width=8,
            )
        )
        .with_row(dash.Row("Game"))
        .with_panel(
            graph(
                "Rooms",
                "Rooms held per replica.",
                [query(f"sum by (instance) (parlor_rooms_active{{{INSTANCE}}})", "{{instance}}")],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Games started and finished by winner",
                "Per interval.",
                [
                    query(f"sum(increase(parlor_games_started_total{{{INSTANCE}}}[$__rate_interval]))", "started"),
                    query(
                        f"sum by (winner) (increase(parlor_games_finished_total{{{INSTANCE}}}[$__rate_interval]))",
                        "won by {{winner}}",
                    ),
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            graph(
                "Events committed",
                "Room events appended to the log per second.",
                [query(rate("parlor_events_committed_total", INSTANCE), "events")],
                unit="ops",
                width=8,
            )
        )
        .with_row(dash.Row("Store"))
        .with_panel(
            graph(
                "Store errors by operation",
                "Failed store (Redis) operations; see ParlorStoreErrors.",
                [query(rate("parlor_store_errors_total", INSTANCE, by="op"), "{{op}}")],
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Cross-process lag",
                "Event commit on one replica to its arrival on another (Redis store only).",
                [
                    query(quantile(0.5, "parlor_cross_process_lag_seconds", INSTANCE), "p50"),
                    query(quantile(0.95, "parlor_cross_process_lag_seconds", INSTANCE), "p95"),
                ],
                unit="s",
                steps=[(None, "green"), (0.05, "red")],
            )
        )
    )


DASHBOARDS: dict[str, Callable[[], dash.Dashboard]] = {
    ROLLOUT_FILE: rollout_dashboard,
    BACKEND_FILE: backend_dashboard,
}


def render(builder: dash.Dashboard) -> str:
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for item in model.get("annotations", {}).get("list", []):
        item.update(ANNOTATION_OPTIONS.get(item.get("name"), {}))
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


def write(directory: Path = DASHBOARD_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in DASHBOARDS.items():
        path = directory / name
        path.write_text(render(build()), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path = DASHBOARD_DIR) -> list[Path]:
    """Committed dashboards that differ from what the code generates now (or are missing)."""
    out = []
    for name, build in DASHBOARDS.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(build()):
            out.append(path)
    return out


def _panels(panels: list[dict[str, object]]) -> Iterable[dict[str, object]]:
    for panel in panels:
        yield panel
        nested = panel.get("panels")
        if isinstance(nested, list):
            yield from _panels(nested)


def panel_queries(directory: Path = DASHBOARD_DIR) -> list[tuple[str, str, str]]:
    """(dashboard title, panel title, expr) for every query of every panel of the committed dashboards."""
    out = []
    for name in DASHBOARDS:
        model = json.loads((directory / name).read_text(encoding="utf-8"))
        for panel in _panels(model.get("panels", [])):
            for target in panel.get("targets") or []:  # type: ignore[attr-defined]
                out.append((model["title"], str(panel["title"]), str(target["expr"])))
    return out


def annotation_queries(directory: Path = DASHBOARD_DIR) -> list[tuple[str, str, str]]:
    """(dashboard title, annotation name, expr) for every Prometheus annotation of the committed dashboards."""
    out = []
    for name in DASHBOARDS:
        model = json.loads((directory / name).read_text(encoding="utf-8"))
        for item in model.get("annotations", {}).get("list", []):
            if item.get("expr"):
                out.append((model["title"], item["name"], item["expr"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON is stale")
    parser.add_argument("--out", type=Path, default=DASHBOARD_DIR, help="directory of the dashboard JSON")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.out)
        for path in outdated:
            print(f"stale: {path} (run python -m monitoring.grafana.generate)", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

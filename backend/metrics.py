"""Every backend metric, declared once.

Names carry the `parlor_` prefix, base units and `_total` on counters; label values come from the small
fixed sets below and are pre-created so every series exists from the first scrape (dashboards and
recording rules never see "no data" on a fresh process). Never label by player id or room code.
HTTP RED metrics come from prometheus-fastapi-instrumentator (`parlor_http_*`), wired in `backend.main`.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from backend.core.build import register_build_info
from parlor_protocol import CLIENT_FRAMES, SERVER_FRAMES, DisconnectReason, Transport
from parlor_protocol.vocabulary import PRIVATE_TYPES, PUBLIC_TYPES, Winner

# What the service decided about a handshake: the connection-success SLI is built from these alone.
TRANSPORTS = tuple(Transport)
CONNECT_RESULTS = (
    "accepted",
    "over_capacity",
    "store_unavailable",
    "flag_refused",
    "disabled",
)
# Handshakes that failed through the client's fault (or an attacker's): counted apart, outside the SLI, so
# nobody outside can burn the connection SLO's error budget.
HANDSHAKE_REJECTIONS = (
    "unknown_room",
    "auth_failed",
    "no_hello",
    "bad_hello",
    "origin_refused",
    "rate_limited",
    "unsupported_protocol",
)
# Why a per-client or capacity limit refused a request (429/503 JSON or a close code).
LIMIT_REASONS = (
    "create_rate",
    "join_rate",
    "summary_rate",
    "miss_rate",
    "handshake_rate",
    "room_quota",
    "longpoll_per_token",
    "socket_cap",
    "log_bytes",
    "banned",
    "bridge_report_rate",
)
DISCONNECT_REASONS = tuple(DisconnectReason)
CONTROL_TYPES = tuple(SERVER_FRAMES)
FRAME_TYPES_OUT: tuple[str, ...] = CONTROL_TYPES + PUBLIC_TYPES + PRIVATE_TYPES
FRAME_TYPES_IN: tuple[str, ...] = (*CLIENT_FRAMES, "invalid")
WINNERS = tuple(Winner)
STORE_OPS = ("read", "write", "publish", "subscribe")
# Longest actor or reason kept as a label of the last-decision and last-flag-change series
REASON_LABEL_MAX = 120

# Fan-out is sub-millisecond on loopback; the buckets resolve that and still show a stalled loop.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# HTTP by handler (parlor_http_request_duration_seconds, from prometheus-fastapi-instrumentator). Its default
# (0.1, 0.5, 1) put every game request, a few milliseconds, in the first bucket, so the dashboard's per-handler
# percentiles were interpolation. The top buckets hold long-polls, which wait up to 25 s.
HTTP_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0)


class Metrics:
    """The backend's metric families, bound to one registry (the default one in production)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        r = registry
        self.ws_connection_attempts = Counter(
            "parlor_ws_connection_attempts_total",
            "WebSocket connection attempts by result",
            ["result"],
            registry=r,
        )
        self.ws_connections_active = Gauge(
            "parlor_ws_connections_active", "Open, authenticated WebSocket connections", registry=r
        )
        self.ws_disconnects = Counter(
            "parlor_ws_disconnects_total", "Closed WebSocket connections by reason", ["reason"], registry=r
        )
        self.ws_frames_sent = Counter(
            "parlor_ws_frames_sent_total", "Frames written to WebSocket clients by type", ["type"], registry=r
        )
        self.ws_frames_received = Counter(
            "parlor_ws_frames_received_total", "Frames read from WebSocket clients by type", ["type"], registry=r
        )
        self.ws_bytes_sent = Counter(
            "parlor_ws_sent_bytes_total", "Bytes of frame payload written to WebSocket clients", registry=r
        )
        self.fanout_latency = Histogram(
            "parlor_fanout_latency_seconds",
            "Time from an event's commit to its frame being written to the last socket of its fan-out",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ws_resumes = Counter(
            "parlor_ws_resumes_total",
            "Reconnects that asked to resume from an event id, by whether the log still reached back",
            ["recovered"],
            registry=r,
        )
        self.send_queue_overflows = Counter(
            "parlor_ws_send_queue_overflows_total",
            "Connections cut because their send queue was full (slow consumers)",
            registry=r,
        )
        self.ws_missed_events = Counter(
            "parlor_ws_missed_events_total",
            "Sockets closed to resume because an event's prev was above the last id they were sent (a hole)",
            registry=r,
        )
        self.longpoll_requests = Counter(
            "parlor_longpoll_requests_total",
            "GET /events requests by outcome (events, timeout, snapshot)",
            ["outcome"],
            registry=r,
        )
        self.polling_requests = Counter(
            "parlor_polling_requests_total", "GET /state requests (legacy polling transport)", registry=r
        )
        self.transport_messages = Counter(
            "parlor_transport_messages_total",
            "Client-server messages by transport and direction: HTTP polls and WebSocket frames alike",
            ["transport", "direction"],
            registry=r,
        )
        self.rooms_active = Gauge("parlor_rooms_active", "Rooms held by this process", registry=r)
        self.players_connected = Gauge(
            "parlor_players_connected", "Players seen live, by the transport they use", ["transport"], registry=r
        )
        self.games_started = Counter("parlor_games_started_total", "Games started", registry=r)
        self.games_finished = Counter("parlor_games_finished_total", "Games finished by winner", ["winner"], registry=r)
        self.events_committed = Counter("parlor_events_committed_total", "Room events appended to the log", registry=r)
        self.draining = Gauge("parlor_draining", "1 while the process drains its sockets before exiting", registry=r)
        self.store_errors = Counter(
            "parlor_store_errors_total", "Store (Redis) operations that failed, by operation", ["op"], registry=r
        )
        self.store_data_losses = Counter(
            "parlor_store_data_losses_total",
            "Times the store was found to have lost writes (Redis back empty or older, a watched room flushed or "
            "evicted): rooms resync or close",
            registry=r,
        )
        self.store_eviction_unsafe = Gauge(
            "parlor_store_eviction_unsafe",
            "1 while the store's Redis runs a maxmemory-policy that can evict room keys (allkeys-*): not ready",
            registry=r,
        )
        self.ws_handshake_rejections = Counter(
            "parlor_ws_handshake_rejections_total",
            "WebSocket handshakes refused through the client's fault, by reason (not part of the SLI)",
            ["reason"],
            registry=r,
        )
        self.limit_refusals = Counter(
            "parlor_limit_refusals_total",
            "Requests, handshakes and moves refused by a per-client or capacity limit, by limit",
            ["limit"],
            registry=r,
        )
        self.idempotent_replays = Counter(
            "parlor_idempotent_replays_total",
            "Moves retried with an Idempotency-Key already used: answered with the first answer, not applied",
            registry=r,
        )
        self.store_conflicts = Counter(
            "parlor_store_conflicts_total",
            "Optimistic-concurrency retries: a Redis commit lost the race to another writer and ran again",
            registry=r,
        )
        self.cross_process_lag = Histogram(
            "parlor_cross_process_lag_seconds",
            "Time from an event's commit on one process to its arrival on another",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.foreign_events_decoded = Counter(
            "parlor_store_foreign_events_decoded_total",
            "Events of rooms this process holds no socket or long-poll of, decoded from pub/sub anyway "
            "(per-room channels keep it at zero but for the moment between unwatch and unsubscribe)",
            registry=r,
        )
        self.flag_rollout_percent = Gauge(
            "parlor_flag_rollout_percent", "Share of players in the WebSocket cohort (0-100)", registry=r
        )
        self.flag_enabled = Gauge(
            "parlor_flag_enabled",
            "1 when the websocket-transport flag is on and the kill switch allows it",
            registry=r,
        )
        self.flag_changes = Counter(
            "parlor_flag_changes_total", "Flag configuration changes picked up at run time", registry=r
        )
        self.flag_evaluations = Counter(
            "parlor_flag_evaluations_total",
            "websocket-transport evaluations by the transport given",
            ["transport"],
            registry=r,
        )
        # Who changed the flag last and why, for the dashboards' flag-change annotations (the audit log's newest
        # record when this process picked the change up): one series at a time, like the autopilot's decisions.
        self.flag_last_change = Gauge(
            "parlor_flag_last_change_timestamp_seconds",
            "When the flag's last change was written, labelled with its actor and reason (from the audit log)",
            ["actor", "reason"],
            registry=r,
        )
        self._flag_change_labels: tuple[str, str] | None = None
        self.asyncio_tasks = Gauge(
            "parlor_asyncio_tasks", "asyncio tasks alive in the event loop (read at scrape time)", registry=r
        )
        self.build_info = register_build_info(r)
        self._precreate()

    def flag_changed(self, actor: str, reason: str, at: float) -> None:
        """Make this change the one `parlor_flag_last_change_timestamp_seconds` shows."""
        labels = (actor[:REASON_LABEL_MAX], " ".join(reason.split())[:REASON_LABEL_MAX])
        if self._flag_change_labels is not None and self._flag_change_labels != labels:
            self.flag_last_change.remove(*self._flag_change_labels)
        self.flag_last_change.labels(*labels).set(at)
        self._flag_change_labels = labels

    def _precreate(self) -> None:
        for result in CONNECT_RESULTS:
            self.ws_connection_attempts.labels(result)
        for reason in HANDSHAKE_REJECTIONS:
            self.ws_handshake_rejections.labels(reason)
        for limit in LIMIT_REASONS:
            self.limit_refusals.labels(limit)
        for reason in DISCONNECT_REASONS:
            self.ws_disconnects.labels(reason)
        for frame_type in FRAME_TYPES_OUT:
            self.ws_frames_sent.labels(frame_type)
        for frame_type in FRAME_TYPES_IN:
            self.ws_frames_received.labels(frame_type)
        for recovered in ("true", "false"):
            self.ws_resumes.labels(recovered)
        for outcome in ("events", "timeout", "snapshot"):
            self.longpoll_requests.labels(outcome)
        for transport in TRANSPORTS:
            self.players_connected.labels(transport)
            self.flag_evaluations.labels(transport)
            for direction in ("in", "out"):
                self.transport_messages.labels(transport, direction)
        for winner in WINNERS:
            self.games_finished.labels(winner)
        for op in STORE_OPS:
            self.store_errors.labels(op)


_metrics: Metrics | None = None


def get_metrics() -> Metrics:
    """The process-wide metrics, created on first use so tests can build isolated ones instead."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


ROLLOUT_PHASES = ("idle", "running", "paused", "completed", "rolled_back", "aborted")
ROLLOUT_VERDICTS = ("success", "failure", "inconclusive")
ROLLOUT_DECISIONS = ("start", "advance", "promote", "complete", "rollback", "pause", "resume", "abort")


class RolloutMetrics:
    """The rollout autopilot's metrics (`python -m backend.rollout`, its own process and /metrics port).

    `checks` are the plan's check names: a small set fixed when the plan is loaded, pre-created like the rest.
    """

    def __init__(self, checks: tuple[str, ...], registry: CollectorRegistry = REGISTRY) -> None:
        r = registry
        self.build_info = register_build_info(r)
        self.stage = Gauge("parlor_rollout_stage", "Stage the autopilot is in, from 1 (0: no rollout)", registry=r)
        self.percent = Gauge("parlor_rollout_percent", "Rollout percent the autopilot has set (0-100)", registry=r)
        self.phase = Gauge(
            "parlor_rollout_phase", "1 for the autopilot's current phase, 0 for the others", ["phase"], registry=r
        )
        self.hold_remaining = Gauge(
            "parlor_rollout_hold_remaining_seconds",
            "Passing evaluations still needed before the stage advances",
            registry=r,
        )
        self.check_verdict = Gauge(
            "parlor_rollout_check_verdict",
            "1 for each check's last verdict (success, failure, inconclusive), 0 for the others",
            ["check", "verdict"],
            registry=r,
        )
        self.check_value = Gauge(
            "parlor_rollout_check_value", "Each check's last value (NaN: no value)", ["check"], registry=r
        )
        self.check_threshold = Gauge(
            "parlor_rollout_check_threshold", "Each check's threshold from the plan", ["check"], registry=r
        )
        self.evaluations = Counter(
            "parlor_rollout_evaluations_total", "Evaluations of the plan's checks by verdict", ["verdict"], registry=r
        )
        self.decisions = Counter(
            "parlor_rollout_decisions_total",
            "Autopilot decisions (and people's commands through it) by kind",
            ["decision"],
            registry=r,
        )
        self.last_evaluation = Gauge(
            "parlor_rollout_last_evaluation_timestamp_seconds", "When the checks were last evaluated", registry=r
        )
        # The dashboards annotate each decision with who and why. Prometheus is the only datasource there, so
        # the last decision's actor and reason ride as labels: one series at a time (the previous one is
        # removed), the reason cut to REASON_LABEL_MAX characters, a handful of decisions per rollout.
        self.last_decision = Gauge(
            "parlor_rollout_last_decision_timestamp_seconds",
            "When the autopilot's last decision was written, labelled with its kind, actor and reason",
            ["decision", "actor", "reason"],
            registry=r,
        )
        self._last_decision_labels: tuple[str, str, str] | None = None
        for phase in ROLLOUT_PHASES:
            self.phase.labels(phase)
        for verdict in ROLLOUT_VERDICTS:
            self.evaluations.labels(verdict)
        for decision in ROLLOUT_DECISIONS:
            self.decisions.labels(decision)
        for check in checks:
            self.check_value.labels(check).set(float("nan"))
            self.check_threshold.labels(check)
            for verdict in ROLLOUT_VERDICTS:
                self.check_verdict.labels(check, verdict)

    def decided(self, decision: str, actor: str, reason: str, at: float) -> None:
        """Count a decision and make it the one `parlor_rollout_last_decision_timestamp_seconds` shows."""
        self.decisions.labels(decision).inc()
        labels = (decision, actor[:REASON_LABEL_MAX], " ".join(reason.split())[:REASON_LABEL_MAX])
        if self._last_decision_labels is not None:
            self.last_decision.remove(*self._last_decision_labels)
        self.last_decision.labels(*labels).set(at)
        self._last_decision_labels = labels

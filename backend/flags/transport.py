"""TransportFlag: which transport a player gets, evaluated through OpenFeature and flagd's file provider.

flagd's in-process FILE resolver loads the flag file, polls its mtime on a daemon thread every
`poll_interval` seconds and reloads it; each reload raises PROVIDER_CONFIGURATION_CHANGED, on which we
re-read the file for the operator-facing state (percent, enabled), update metrics and call listeners.
The per-player decision itself always comes from the provider, so it is exactly flagd's `fractional`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.provider._registry import provider_registry  # what `api` itself uses; not re-exported

from backend.flags.file import DEFAULT_STATE, FLAG_KEY, POLLING, WEBSOCKET, FlagState, read_flag_file
from backend.metrics import Metrics
from parlor_protocol import Transport

logger = logging.getLogger(__name__)

Listener = Callable[[FlagState], None]

# Well inside the 2 s a change must take effect in, and a stat() per interval costs nothing.
DEFAULT_POLL_INTERVAL_SECONDS = 0.25


class _RepeatFilter(logging.Filter):
    """flagd's watcher logs a traceback on every poll while the file is missing or broken; keep the first
    of each message per minute."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        super().__init__()
        self._window = window_seconds
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = record.getMessage()
        now = time.monotonic()
        with self._lock:
            seen = self._last_seen.get(key)
            if seen is not None and now - seen < self._window:
                return False
            if len(self._last_seen) > 100:
                self._last_seen.clear()
            self._last_seen[key] = now
            return True


_flagd_logger = logging.getLogger("openfeature.contrib")
if not any(isinstance(f, _RepeatFilter) for f in _flagd_logger.filters):
    _flagd_logger.addFilter(_RepeatFilter())


class TransportFlag:
    """The websocket-transport flag of one process.

    `kill_switch` is settings.websocket_enabled: False puts everyone on polling whatever the file says.
    Each instance binds its own OpenFeature domain, so several can live in one process (tests).
    """

    def __init__(
        self,
        flags_file: Path,
        kill_switch: bool,
        metrics: Metrics | None = None,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
    ) -> None:
        self.flags_file = Path(flags_file)
        self.kill_switch = kill_switch
        self._metrics = metrics
        self._poll_interval = poll_interval
        self._domain = f"parlor-flags-{uuid.uuid4().hex[:12]}"
        self._client = api.get_client(self._domain)
        self._provider: FlagdProvider | None = None
        self._configured = DEFAULT_STATE
        # What a player gets when the provider has nothing to say: only the missing-file default is websocket.
        self._fallback: Transport = POLLING
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def state(self) -> FlagState:
        """The flag as applied: enabled only when the file says so and the kill switch allows it."""
        configured = self._configured
        return FlagState(enabled=configured.enabled and self.kill_switch, percent=configured.percent)

    def start(self) -> None:
        """Load the flag file and start watching it; returns once the provider is ready (a file read).

        A missing file means everyone on websocket (enabled, 100 %) until a file appears.
        """
        if self._provider is not None:
            raise RuntimeError("TransportFlag already started")
        self._provider = FlagdProvider(
            resolver_type=ResolverType.FILE,
            offline_flag_source_path=str(self.flags_file),
            # The file resolver sleeps deadline_ms between two mtime checks: this is the poll interval.
            deadline_ms=max(10, int(self._poll_interval * 1_000)),
        )
        try:
            api.set_provider_and_wait(self._provider, domain=self._domain)
        except Exception as exc:
            if self.flags_file.exists():
                logger.warning("flag file %s could not be loaded (%s); using the default", self.flags_file, exc)
            else:
                logger.warning(
                    "flag file %s is missing; websocket for everyone (enabled, 100%%) until it appears",
                    self.flags_file,
                )
            self._fallback = WEBSOCKET
        # Registered after the first load: that load's own event, run late on the SDK's executor, would
        # otherwise read a file rewritten since and report a state the provider has not loaded yet.
        self._client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, self._on_configuration_changed)
        if self._fallback == POLLING:
            self._refresh(notify=False)
        self._publish_gauges()

    def stop(self) -> None:
        """Stop watching the file and shut the provider down; safe to call twice."""
        provider, self._provider = self._provider, None
        if provider is None:
            return
        self._client.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, self._on_configuration_changed)
        provider.shutdown()
        # Release the domain so the registry drops the provider (it shuts it down again, harmlessly).
        api.set_provider(provider_registry.get_default_provider(), domain=self._domain)

    def __enter__(self) -> TransportFlag:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def add_listener(self, callback: Listener) -> None:
        """Call `callback(new_state)` after a change of the flag is picked up.

        It runs on an OpenFeature event-handler thread (a worker of the SDK's ThreadPoolExecutor, never the
        asyncio loop): asyncio code must hop with `loop.call_soon_threadsafe`. Calls are serialised.
        """
        with self._lock:
            self._listeners.append(callback)

    def transport_for(self, player_id: str) -> Transport:
        """The transport this player should use; the same player gets the same answer at the same rollout."""
        transport: Transport = POLLING
        if self.kill_switch:
            value = self._client.get_string_value(FLAG_KEY, self._fallback, EvaluationContext(targeting_key=player_id))
            transport = WEBSOCKET if value == WEBSOCKET else POLLING
        if self._metrics is not None:
            self._metrics.flag_evaluations.labels(transport).inc()
        return transport

    def _on_configuration_changed(self, _details: EventDetails) -> None:
        self._refresh(notify=True)

    def _refresh(self, *, notify: bool) -> None:
        # Handlers may run on several executor threads at once; reading under the lock means the last one
        # through always sees the newest file.
        with self._lock:
            try:
                configured = read_flag_file(self.flags_file)
            except (OSError, ValueError) as exc:
                logger.warning("keeping the last flag state; cannot read %s: %s", self.flags_file, exc)
                return
            self._fallback = POLLING
            if configured == self._configured:
                return
            before, self._configured = self.state, configured
            listeners = list(self._listeners)
            logger.info(
                "flag %s changed: %s -> %s",
                FLAG_KEY,
                before,
                self.state,
                extra={"flag": FLAG_KEY, "enabled": self.state.enabled, "percent": self.state.percent},
            )
            self._publish_gauges()
            if not notify:
                return
            if self._metrics is not None:
                self._metrics.flag_changes.inc()
            for listener in listeners:
                try:
                    listener(self.state)
                except Exception:
                    logger.exception("flag listener %r failed", listener)

    def _publish_gauges(self) -> None:
        if self._metrics is None:
            return
        state = self.state
        self._metrics.flag_enabled.set(1 if state.enabled else 0)
        self._metrics.flag_rollout_percent.set(state.percent)

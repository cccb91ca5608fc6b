"""Per-client limits: how often one client address may create, join, look up and connect.

Why: without them one anonymous client can fill the service (rooms until MAX_ROOMS, sockets until
MAX_CONNECTIONS) or guess room codes at thousands of tries a second. The windows are the `limits` package's
moving windows in this process's memory: a replica counts what it serves (nginx's `limit_req` and
`limit_conn` zones add a layer in front of all of them). The client address is the peer's, or the one
named in X-Forwarded-For when the peer is a trusted proxy (`TRUSTED_PROXIES`, applied by uvicorn's proxy
headers middleware in `backend.main`).

Every refusal raises `RateLimited` (429 JSON on REST, close 1013 on a WebSocket) and is counted in
`parlor_limit_refusals_total{limit}`.
"""

from __future__ import annotations

from enum import StrEnum

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from backend.core.config import Settings
from backend.core.errors import RateLimited
from backend.metrics import Metrics


class Limit(StrEnum):
    CREATE = "create_rate"
    JOIN = "join_rate"
    SUMMARY = "summary_rate"
    MISS = "miss_rate"
    HANDSHAKE = "handshake_rate"


_MESSAGES = {
    Limit.CREATE: "too many rooms created from your address; try again in a minute",
    Limit.JOIN: "too many joins from your address; try again in a minute",
    Limit.SUMMARY: "too many room look-ups from your address; try again in a minute",
    Limit.MISS: "too many unknown room codes from your address; try again in a minute",
    Limit.HANDSHAKE: "too many connections from your address; try again in a minute",
}


class ClientLimits:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.metrics = metrics
        self._items: dict[Limit, RateLimitItem] = {
            Limit.CREATE: parse(settings.rate_limit_create),
            Limit.JOIN: parse(settings.rate_limit_join),
            Limit.SUMMARY: parse(settings.rate_limit_summary),
            Limit.MISS: parse(settings.rate_limit_miss),
            Limit.HANDSHAKE: parse(settings.rate_limit_handshake),
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, limit: Limit, address: str) -> None:
        """Count one request against `address`'s window; raise RateLimited (and count it) when it is spent."""
        if not self._limiter.hit(self._items[limit], limit.value, address):
            self.refuse(limit)

    def check_misses(self, address: str) -> None:
        """Refuse lookups from an address that already spent its misses (without counting this one)."""
        if not self._limiter.test(self._items[Limit.MISS], Limit.MISS.value, address):
            self.refuse(Limit.MISS)

    def miss(self, address: str) -> None:
        self._limiter.hit(self._items[Limit.MISS], Limit.MISS.value, address)

    def refuse(self, limit: Limit | str, message: str | None = None, code: str = "rate_limited") -> None:
        self.metrics.limit_refusals.labels(str(limit)).inc()
        raise RateLimited(message or _MESSAGES.get(Limit(limit), "too many requests"), code)

    def reset(self) -> None:
        self._limiter.storage.reset()

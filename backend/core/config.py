"""Backend settings, read once from the environment (prefix-free names, documented in the README table)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the backend; defaults run a local game and leave room for load tests from one address."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    store_url: str = Field(
        "memory://", description="memory:// (embedded default), redis://host:port/db, or redis+cluster://host:port"
    )
    websocket_enabled: bool = Field(True, description="Global kill switch for the WebSocket transport")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "http://localhost:8501",
            "http://127.0.0.1:8501",
            "http://localhost:8000",
            "http://127.0.0.1:8000",
        ],
        description="Browser origins allowed for CORS and the WebSocket handshake",
    )
    max_rooms: int = Field(5000, ge=1, description="Rooms one process keeps at once")
    max_connections: int = Field(20000, ge=1, description="WebSocket connections one process accepts")
    room_idle_seconds: float = Field(3600.0, gt=0, description="A room with no activity this long expires")
    event_log_size: int = Field(1_000, ge=10, description="Events kept per room for resume and long-polling")
    clue_interval_seconds: float = Field(2.0, ge=0, description="Minimum time between two clues of a player")
    max_clues_per_round: int = Field(10, ge=1, description="Clues one player may post in one round")
    send_queue_size: int = Field(256, ge=8, description="Frames buffered per connection before it is cut")
    hello_timeout_seconds: float = Field(5.0, gt=0, description="Time a new socket has to send hello")
    heartbeat_timeout_seconds: float = Field(
        15.0,
        ge=0,
        description="Close a socket silent this long (0 disables): a half-open client is cut within about this "
        "plus 1 s; clients ping every PING_INTERVAL_SECONDS",
    )
    ping_interval_seconds: float = Field(4.0, gt=0, description="How often a client pings (sent in welcome)")
    pong_timeout_seconds: float = Field(
        4.0, gt=0, description="How long a client waits for any frame after a ping before it drops the link (welcome)"
    )
    abuse_limit: int = Field(5, ge=1, description="Bad frames tolerated before the ABUSE close")
    max_frame_bytes: int = Field(16384, ge=256, description="Largest client frame; a larger one closes with TOO_BIG")
    ws_per_message_deflate: bool = Field(
        False, description="Offer permessage-deflate (python -m backend); off: frames are small, zlib costs per socket"
    )
    longpoll_max_wait_seconds: float = Field(30.0, gt=0, le=120)
    presence_timeout_seconds: float = Field(
        10.0, gt=0, description="A polling player not seen this long is shown offline"
    )
    bot_min_delay_seconds: float = Field(1.0, ge=0, description="Bots act no sooner than this into a phase")
    bot_max_delay_seconds: float = Field(4.0, ge=0, description="Bots act no later than this into a phase")
    drain_seconds: float = Field(3.0, ge=0, description="On SIGTERM, the RESTART closes are spread over this long")
    admin_token: str | None = Field(None, description="Token for /api/admin; admin API disabled when unset")
    flags_file: Path = Field(Path("deploy/flags/flags.json"), description="OpenFeature flag file")
    flags_audit_log: Path = Field(Path("var/flags-audit.jsonl"), description="Audit log of flag changes")
    test_hooks: bool = Field(False, description="Enable /api/test endpoints used by the test suite only")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses/CIDRs whose X-Forwarded-For names the client (nginx); empty: the peer is the client",
    )
    rate_limit_create: str = Field("20/minute", description="Rooms one client address may create")
    rate_limit_join: str = Field("60/minute", description="Joins from one client address")
    rate_limit_summary: str = Field("120/minute", description="Room look-ups (GET /api/rooms/{code}) per address")
    rate_limit_miss: str = Field("20/minute", description="Unknown room codes one address may try (summary, join, ws)")
    rate_limit_handshake: str = Field("120/minute", description="WebSocket handshakes from one client address")
    max_rooms_per_address: int = Field(10, ge=1, description="Rooms one client address may hold at once")
    max_longpolls_per_token: int = Field(2, ge=1, description="Long-polls held at once for one player")
    lobby_idle_seconds: float = Field(300.0, gt=0, description="A lobby with nobody online this long expires")
    event_log_bytes: int = Field(131072, ge=4096, description="Bytes of events kept per room (besides the count)")
    limit_concurrency: int = Field(
        0, ge=0, description="uvicorn's cap on connections plus tasks, 503 beyond (0: MAX_CONNECTIONS + 1000)"
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, description="A connection that has not sent a whole request head this long is closed"
    )
    keep_alive_timeout_seconds: float = Field(5.0, gt=0, description="Idle keep-alive connections close after this")
    max_header_bytes: int = Field(16384, ge=1024, description="Largest request head uvicorn buffers (h11)")
    parlor_host: str = Field("127.0.0.1", description="Address `python -m backend` listens on (--host wins)")
    parlor_port: int = Field(8000, ge=0, le=65535, description="Port `python -m backend` listens on (--port wins)")
    parlor_log_level: str = Field("info", description="uvicorn log level for `python -m backend` (--log-level wins)")

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "rate_limit_create", "rate_limit_join", "rate_limit_summary", "rate_limit_miss", "rate_limit_handshake"
    )
    @classmethod
    def _parse_rate(cls, value: str) -> str:
        from limits import parse

        parse(value)  # "N/second|minute|hour": refuse a typo at start-up, not at the first request
        return value

    @field_validator("admin_token")
    @classmethod
    def _refuse_weak_admin_token(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("ADMIN_TOKEN must be at least 16 characters")
        return value or None


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Frontend settings, read from the environment once per process (names documented in the README table)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FrontendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    backend_url: str = Field("http://127.0.0.1:8000", description="Backend base URL as the Streamlit server sees it")
    public_backend_url: str | None = Field(
        None, description="Backend base URL as the browser sees it (WebSocket and long-poll); default BACKEND_URL"
    )
    websocket_enabled: bool = Field(True, description="false: legacy mode, Python polls the state endpoint")
    legacy_poll_seconds: float = Field(0.4, gt=0, description="State polling interval of the legacy mode")
    # Each hand-over reruns the page's fragment (about 30 ms of a phone's main thread): while clues flow, one
    # every 20 s cost a watching page more than the clues themselves. A phase change (at most a discussion apart)
    # carries whatever is owed at once; the reports feed 5-minute rates.
    bridge_heartbeat_ms: int = Field(
        60000,
        ge=500,
        description="How often a waiting batch checks for quiet events or bridge reports owed to Python "
        "(status changes and layout events resolve at once; an idle page waits on, up to 4 minutes)",
    )
    request_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of the frontend's REST calls")
    frontend_metrics_port: int = Field(9108, ge=0, le=65535, description="Port of the bridge /metrics; 0 disables")
    frontend_metrics_addr: str = Field(
        "127.0.0.1", description="Address of the bridge /metrics (0.0.0.0 in containers, for Prometheus)"
    )

    @field_validator("backend_url", "public_backend_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("backend URLs must start with http:// or https://")
        return value.rstrip("/")

    @property
    def browser_backend_url(self) -> str:
        return self.public_backend_url or self.backend_url


@lru_cache
def get_settings() -> FrontendSettings:
    return FrontendSettings()

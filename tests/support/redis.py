"""Kept only for tests/backend/store until it imports `launchers.redis` directly; the launcher lives there."""

from launchers.redis import RedisServer, redis_available, run_redis

__all__ = ["RedisServer", "redis_available", "run_redis"]

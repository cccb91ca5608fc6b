"""What the Redis store's three parts share: the key names of the layout described in `backend.store.redis`,
the encoding of what goes into Redis, the translation of a Redis failure and a bounded connection cleanup.
No state of its own: names and functions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Iterator
from typing import Any

from redis.exceptions import RedisError

from backend.core.errors import Unavailable
from backend.game.events import StoredEvent
from backend.metrics import Metrics

log = logging.getLogger("backend.store.redis")  # the store's one logger, as before the split: log filters stay valid

PREFIX = "parlor:"
ROOMS_KEY = PREFIX + "{i}:rooms"
WAKEUPS_KEY = PREFIX + "{i}:wakeups"
ACTIVITY_KEY = PREFIX + "{i}:activity"
WAKEVER_KEY = PREFIX + "{i}:wakever"
GENERATION_KEY = PREFIX + "{i}:generation"
CLOSE_TIMEOUT_SECONDS = 1.0  # bound on closing a connection that Redis (or the network) already dropped


async def within(cleanup: Awaitable[object], seconds: float) -> None:
    """Run a connection's cleanup for at most `seconds`, its errors ignored. Not `asyncio.wait_for`: on a timeout
    that cancels the call and then waits for it to finish, and redis-py's cleanup of a connection the network
    killed can swallow the cancellation, which hung a store's close() (and a test's teardown) for minutes."""
    task = asyncio.ensure_future(cleanup)
    try:
        await asyncio.wait({task}, timeout=seconds)
    finally:
        if task.done():
            if not task.cancelled():
                task.exception()  # retrieved, so asyncio does not log it as never retrieved
        else:
            task.cancel()  # left to finish on its own; nobody waits for it


@contextlib.contextmanager
def guard(metrics: Metrics, op: str) -> Iterator[None]:
    """A Redis call failing inside becomes Unavailable (503 for the caller, who retries), counted under `op`."""
    try:
        yield
    except (RedisError, OSError) as exc:
        metrics.store_errors.labels(op).inc()
        log.warning("redis store: %s failed: %r", op, exc)
        raise Unavailable("store unavailable", "store_unavailable") from exc


def room_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:room"


def log_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:log"


def answers_key(code: str) -> str:
    return f"{PREFIX}{{{code}}}:answers"


def channel_of(code: str) -> str:
    return f"{PREFIX}{{{code}}}:events"


def code_of(channel: str) -> str:
    return channel[channel.index("{") + 1 : channel.index("}")]


async def missing_rooms(redis: Any, codes: list[str]) -> list[str]:
    """The rooms among `codes` whose state is gone: one EXISTS per room, routed by the client (so right while a
    slot migrates), in one pipeline."""
    async with redis.pipeline(transaction=False) as pipe:
        for code in codes:
            pipe.exists(room_key(code))
        found = await pipe.execute()
    return [code for code, there in zip(codes, found, strict=True) if not there]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_entries(entries: Any) -> list[StoredEvent]:
    """XRANGE rows: (stream id, {"e": event JSON}) as redis-py parses them, or raw [id, [field, value]]."""
    out = []
    for _id, fields in entries:
        raw = fields["e"] if isinstance(fields, dict) else fields[1]
        out.append(StoredEvent.from_dict(json.loads(raw)))
    return out

"""A store's close() must end even when a connection's cleanup will not: redis-py's cleanup of a connection the
network killed can swallow a cancellation, and `asyncio.wait_for` then waits for it for ever (a fresh-clone run's
teardown hung five minutes on it)."""

from __future__ import annotations

import asyncio
import time

from backend.store.redis_shared import within


async def _stubborn(release: asyncio.Event) -> None:
    """A cleanup that ignores every cancellation until it is released."""
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_a_cleanup_that_swallows_its_cancellation_is_left_behind_not_waited_for() -> None:
    release = asyncio.Event()
    started = time.monotonic()
    await within(_stubborn(release), 0.05)
    assert time.monotonic() - started < 1.0
    # asyncio.wait_for, for contrast, is still waiting long after its own timeout
    hung = asyncio.ensure_future(asyncio.wait_for(_stubborn(release), 0.05))
    await asyncio.wait({hung}, timeout=0.5)
    assert not hung.done()
    release.set()
    await hung


async def test_a_cleanup_that_fails_is_ignored_and_one_that_ends_is_awaited() -> None:
    async def boom() -> None:
        raise ConnectionResetError("gone")

    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        finished.append("closed")

    await within(boom(), 1.0)
    await within(quick(), 1.0)
    assert finished == ["closed"]


async def test_closing_the_caller_is_not_swallowed_by_the_cleanup() -> None:
    release = asyncio.Event()
    caller = asyncio.ensure_future(within(_stubborn(release), 30))
    await asyncio.sleep(0.01)
    caller.cancel()
    done, _ = await asyncio.wait({caller}, timeout=1.0)
    assert caller in done and caller.cancelled()
    release.set()

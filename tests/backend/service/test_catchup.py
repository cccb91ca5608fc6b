"""Catchup: a returning client gets the events after its id while the log has them and the history is the same,
otherwise a snapshot; a poll is held until an event arrives."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from backend.realtime.protocol import Transport
from tests.backend.service.helpers import Clock, make_service


async def test_a_resume_replays_the_same_history_and_resyncs_another(tmp_path: Path) -> None:
    """From a known id of the room's epoch: the missed events; from no id or another epoch: a snapshot."""
    service = make_service(tmp_path, Clock())
    code, alice = await service.create_room("Alice")
    fresh = await service.resume(alice, None, transport=Transport.WEBSOCKET)
    assert fresh.snapshot is not None and not fresh.recovered
    await service.join(code, "Bob")
    back = await service.resume(alice, fresh.last_event_id, transport=Transport.WEBSOCKET, epoch=fresh.epoch)
    assert back.recovered and [e.type for e in back.events] == ["player_joined"]
    other = await service.resume(alice, fresh.last_event_id, transport=Transport.WEBSOCKET, epoch="another")
    assert other.snapshot is not None and other.last_event_id == back.last_event_id


async def test_a_long_poll_waits_for_the_next_commit(tmp_path: Path) -> None:
    """With nothing new a long-poll is held until its wait is over; a commit answers it at once."""
    service = make_service(tmp_path, Clock())
    code, alice = await service.create_room("Alice")
    await service.presence.seen_polling(alice, Transport.LONGPOLL)  # the poll's own presence change, done first
    last = await service.read(code, lambda r: r.event_seq)
    started = time.monotonic()
    quiet = await service.poll_events(alice, last, wait=0.2)
    assert quiet.recovered and quiet.events == [] and time.monotonic() - started >= 0.2
    started = time.monotonic()
    poll = asyncio.create_task(service.poll_events(alice, last, wait=30))
    await service.join(code, "Bob")
    async with asyncio.timeout(5):
        answer = await poll
    assert [e.type for e in answer.events] == ["player_joined"] and time.monotonic() - started < 5

"""The hub's fan-out: per-connection queues, slow consumers cut, no duplicates across the resume seam."""

from __future__ import annotations

import asyncio
import json

from prometheus_client import CollectorRegistry

from backend.game.events import StoredEvent
from backend.metrics import Metrics
from backend.realtime.direct import DirectWriter
from backend.realtime.hub import Hub
from backend.realtime.protocol import CloseCode, dumps, event_frame


class RecordingSocket:
    """A socket that records what it is sent; `stall` makes send_text block like a client that stopped reading."""

    def __init__(self, stall: bool = False) -> None:
        self.sent: list[dict] = []
        self.closed: tuple[int, str | None] | None = None
        self._gate = asyncio.Event()
        if not stall:
            self._gate.set()

    async def send_text(self, data: str) -> None:
        await self._gate.wait()
        self.sent.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


class RecordingDirect(DirectWriter):
    """A direct writer that keeps the frames it is handed, as an open, writable socket would take them."""

    def __init__(self) -> None:
        super().__init__(None)
        self.frames: list[bytes] = []

    def write(self, frame: bytes) -> bool:
        self.frames.append(frame)
        return True

    def decoded(self) -> list[dict]:
        # short unmasked text frames: FIN|TEXT, a one-byte length, then the JSON
        assert all(f[0] == 0x81 and f[1] == len(f) - 2 for f in self.frames)
        return [json.loads(f[2:]) for f in self.frames]


def event(i: int, to: str | None = None, prev: int | None = None, prevs: dict[str, int] | None = None) -> StoredEvent:
    return StoredEvent(i, 1.0, "clue_posted", {"text": f"clue {i}"}, to, prev, prevs)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_slow_consumer_is_cut_and_does_not_stall_the_room() -> None:
    """A client that stops reading is closed with 1013 once its queue fills; the other gets every event."""
    metrics = Metrics(CollectorRegistry())
    hub = Hub(metrics, queue_size=8)
    fast, slow = RecordingSocket(), RecordingSocket(stall=True)
    cf = hub.new_connection(fast, "ROOMA", "fast")
    cs = hub.new_connection(slow, "ROOMA", "slow")
    hub.register(cf)
    hub.register(cs)
    for i in range(1, 51):
        hub.publish("ROOMA", [event(i)])
        await settle()
    assert [f["id"] for f in fast.sent] == list(range(1, 51))
    assert cs.close_code == 1013 and cs.disconnect_reason == "slow_consumer"
    assert metrics.send_queue_overflows._value.get() >= 1
    assert hub.unregister(cs) is True


async def test_private_events_reach_only_their_owner() -> None:
    """An event addressed to one player is queued to that player's socket only."""
    hub = Hub(Metrics(CollectorRegistry()))
    a, b = RecordingSocket(), RecordingSocket()
    hub.register(hub.new_connection(a, "R", "a"))
    hub.register(hub.new_connection(b, "R", "b"))
    hub.publish("R", [event(1, to="a"), event(2)])
    await settle()
    assert [f["id"] for f in a.sent] == [1, 2]
    assert [f["id"] for f in b.sent] == [2]


async def test_live_events_held_during_replay_are_not_doubled() -> None:
    """Events published while a resume replay is queued arrive once, after the replay, in id order."""
    hub = Hub(Metrics(CollectorRegistry()))
    sock = RecordingSocket()
    conn = hub.new_connection(sock, "R", "p")
    conn.pending = []
    hub.register(conn)
    hub.publish("R", [event(3), event(4)])  # committed while the replay (1..3) is being read
    hub.send(conn, "welcome", {"recovered": True})
    await hub.replay(conn, [event(i) for i in (1, 2, 3)])
    hub.go_live(conn)
    hub.publish("R", [event(5)])
    await settle()
    assert sock.sent[0]["type"] == "welcome"
    assert [f["id"] for f in sock.sent[1:]] == [1, 2, 3, 4, 5]


async def test_an_event_after_a_hole_is_never_sent_the_socket_resumes_instead() -> None:
    """Live event 7 (prev 6) reaching a socket that was sent up to 5 (6 never reached the hub): nothing past the
    hole goes out, the socket closes with 1012 so its client resumes from 5, and it is counted."""
    registry = CollectorRegistry()
    hub = Hub(Metrics(registry))
    sock = RecordingSocket()
    conn = hub.new_connection(sock, "R", "p")
    conn.pending = []
    hub.register(conn)
    hub.publish("R", [event(7, prev=6), event(8, prev=7)])  # live, while the replay (..5) is read
    await hub.replay(conn, [event(i, prev=i - 1) for i in (4, 5)])
    conn.last_id = 3
    hub.go_live(conn)
    await settle()
    assert [f["id"] for f in sock.sent] == [4, 5]
    assert sock.closed is not None and sock.closed[0] == CloseCode.RESTART
    assert conn.disconnect_reason == "missed_event"
    assert registry.get_sample_value("parlor_ws_missed_events_total") == 1


async def test_live_events_held_out_of_order_go_out_in_id_order() -> None:
    """A local commit that reached the hub before an earlier remote one (while the room's subscription was set
    up) is released after it: both are sent, in order, and the socket stays."""
    hub = Hub(Metrics(CollectorRegistry()))
    sock = RecordingSocket()
    conn = hub.new_connection(sock, "R", "p")
    conn.pending = []
    hub.register(conn)
    hub.publish("R", [event(7, prev=6)])
    hub.publish("R", [event(6, prev=5)])
    await hub.replay(conn, [event(5, prev=4)])
    conn.last_id = 4
    hub.go_live(conn)
    await settle()
    assert [f["id"] for f in sock.sent] == [5, 6, 7] and sock.closed is None


async def test_the_public_event_after_private_ones_names_each_players_own_prev() -> None:
    """After the `your_word` block each player's frame of the next public event names their own word's id."""
    hub = Hub(Metrics(CollectorRegistry()))
    socks = {p: RecordingSocket() for p in ("ann", "bob", "cy")}
    for p, sock in socks.items():
        hub.register(conn := hub.new_connection(sock, "R", p))
        conn.last_id = 10
    hub.publish(
        "R", [event(11, "ann", prev=10), event(12, "bob", prev=10), event(13, prev=10, prevs={"ann": 11, "bob": 12})]
    )
    await settle()
    got = {p: [(f["id"], f["prev"]) for f in sock.sent] for p, sock in socks.items()}
    assert got == {"ann": [(11, 10), (13, 11)], "bob": [(12, 10), (13, 12)], "cy": [(13, 10)]}
    assert all(sock.closed is None for sock in socks.values())


async def test_replay_longer_than_the_queue_is_delivered_whole() -> None:
    """A resume replay of 600 events through a queue of 8 waits for the writer instead of cutting the client."""
    hub = Hub(Metrics(CollectorRegistry()), queue_size=8)
    sock = RecordingSocket()
    conn = hub.new_connection(sock, "R", "p")
    conn.pending = []
    hub.register(conn)
    await hub.replay(conn, [event(i) for i in range(1, 601)])
    hub.go_live(conn)
    await settle()
    assert [f["id"] for f in sock.sent] == list(range(1, 601))
    assert conn.close_code is None


async def test_replaced_connection_is_closed_with_requested_code() -> None:
    """request_close flushes what is queued, then closes with the code given."""
    hub = Hub(Metrics(CollectorRegistry()))
    sock = RecordingSocket()
    conn = hub.new_connection(sock, "R", "p")
    hub.register(conn)
    hub.publish("R", [event(1)])
    conn.request_close(4409, "replaced", "replaced")
    await settle()
    assert [f["id"] for f in sock.sent] == [1]
    assert sock.closed == (4409, "replaced")
    assert hub.unregister(conn) is True
    assert hub.connection_count() == 0


async def test_close_all_closes_only_the_picked_connections_with_the_code_and_reason() -> None:
    """close_all(where=...) asks just those connections to close, after what is queued, with code and reason."""
    hub = Hub(Metrics(CollectorRegistry()))
    sockets = {name: RecordingSocket() for name in ("ann", "bob", "cy")}
    conns = {name: hub.new_connection(s, "ROOMA", name) for name, s in sockets.items()}
    for conn in conns.values():
        hub.register(conn)
    hub.send(conns["bob"], "pong", {"t": 1})
    closed = await hub.close_all(
        CloseCode.NOT_IN_COHORT, "use polling", where=lambda c: c.player_id != "ann", disconnect_reason="moved"
    )
    await Hub.flush(closed, 1.0)
    assert sorted(c.player_id for c in closed) == ["bob", "cy"]
    assert sockets["bob"].sent[-1]["type"] == "pong", "queued frames go out before the close"
    assert sockets["bob"].closed == sockets["cy"].closed == (CloseCode.NOT_IN_COHORT, "use polling")
    assert conns["cy"].disconnect_reason == "moved"
    assert sockets["ann"].closed is None and conns["ann"].close_code is None


async def test_close_all_spreads_the_closes_over_the_window() -> None:
    """With spread, connection i of n is closed no sooner than i/n of the window: a stream, not a stampede."""
    hub = Hub(Metrics(CollectorRegistry()))
    conns = [hub.new_connection(RecordingSocket(), "ROOMA", f"p{i}") for i in range(4)]
    for conn in conns:
        hub.register(conn)
    asked: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for conn in conns:
        original = conn.request_close

        def record(code: int, reason: str, why: str, original=original) -> None:
            asked.append(loop.time() - start)
            original(code, reason, why)

        conn.request_close = record  # type: ignore[method-assign]
    closed = await hub.close_all(CloseCode.RESTART, "restarting", spread=0.4)
    assert len(closed) == 4 and all(c.close_code == CloseCode.RESTART for c in conns)
    assert asked == sorted(asked)
    for i, when in enumerate(asked):
        assert when >= 0.4 * i / 4 - 0.05  # released in ticks of CLOSE_TICK_SECONDS


async def test_written_frames_reach_the_counters_at_flush_and_latency_is_observed_once_per_event() -> None:
    """Frames and bytes written are counted exactly (folded in at scrape); the latency histogram gets one
    observation per event however many sockets it went to."""
    registry = CollectorRegistry()
    hub = Hub(Metrics(registry))
    sockets = [RecordingSocket() for _ in range(3)]
    for n, socket in enumerate(sockets):
        hub.register(hub.new_connection(socket, "R", f"p{n}"))
    events = [event(1), event(2), event(3, to="p0")]
    hub.publish("R", events)
    await settle()
    assert sum(len(s.sent) for s in sockets) == 7
    clue = {"type": "clue_posted"}
    out = {"transport": "websocket", "direction": "out"}
    assert registry.get_sample_value("parlor_ws_frames_sent_total", clue) == 0
    hub.flush_metrics()
    assert registry.get_sample_value("parlor_ws_frames_sent_total", clue) == 7
    assert registry.get_sample_value("parlor_transport_messages_total", out) == 7
    sizes = [len(dumps(event_frame(e, "ann"))) for e in events]
    assert registry.get_sample_value("parlor_ws_sent_bytes_total") == 3 * sizes[0] + 3 * sizes[1] + sizes[2]
    assert registry.get_sample_value("parlor_fanout_latency_seconds_count") == 3
    hub.flush_metrics()  # nothing written since: the counters stay put
    assert registry.get_sample_value("parlor_ws_frames_sent_total", clue) == 7


async def test_control_frames_go_straight_to_an_idle_socket_and_queue_behind_anything_in_flight() -> None:
    """A pong or an ack to an idle socket with a direct writer is written at once and counted like any frame;
    while the socket resumes, or has a frame in flight, it takes the queue after what is there, so order holds."""
    registry = CollectorRegistry()
    hub = Hub(Metrics(registry))
    socket, direct = RecordingSocket(stall=True), RecordingDirect()
    conn = hub.new_connection(socket, "R", "ann", direct)
    conn.pending = []  # resuming: the welcome goes through the queue
    hub.register(conn)
    hub.send(conn, "welcome", {})
    hub.go_live(conn)
    await settle()  # the writer is stuck sending the welcome: nothing may overtake it
    hub.send(conn, "ack", {"command": "k1", "last_event_id": 0})
    hub.publish("R", [event(1, prev=0)])
    assert direct.frames == []
    socket._gate.set()
    await settle()
    assert [f["type"] for f in socket.sent] == ["welcome", "ack", "clue_posted"]
    hub.send(conn, "pong", {"t": 7})  # idle again: straight to the socket
    hub.publish("R", [event(2, prev=1)])
    hub.send(conn, "ack", {"command": "k2", "last_event_id": 2})
    await settle()
    assert [(f["type"], f["id"]) for f in direct.decoded()] == [("pong", None), ("clue_posted", 2), ("ack", None)]
    assert direct.decoded()[0]["data"] == {"t": 7} and len(socket.sent) == 3
    conn.request_close(CloseCode.NORMAL, "bye", "client_close")
    hub.send(conn, "pong", {"t": 8})  # after a close was asked for, nothing more goes out directly
    assert len(direct.frames) == 3
    hub.flush_metrics()
    for frame_type, n in {"welcome": 1, "ack": 2, "pong": 1, "clue_posted": 2}.items():
        assert registry.get_sample_value("parlor_ws_frames_sent_total", {"type": frame_type}) == n, frame_type

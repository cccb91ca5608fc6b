"""A TCP proxy on 127.0.0.1 that a test can break in the ways a player's network breaks, then restore.

- `cut()` resets every connection through it and refuses new ones (accepted, then reset): the browser sees its
  WebSocket drop and its requests fail at once, as when a phone loses its network.
- `freeze()` stops every open connection in both directions, with no RST and no FIN, while new connections
  pass: the half-open link of a phone switching networks or a NAT that forgot the flow. Bytes already sent wait
  in the kernel's buffers and flow again after `restore()`, as TCP retransmission would deliver them.
- `blackhole()` accepts new connections and never answers them (nothing is forwarded) and freezes the open
  ones: a hung handshake. After `restore()` the held connections go through, late.
- `cut_after_welcome(delay)` drops the open WebSockets, then lets each new one through until the server's first
  frame has passed and resets it `delay` seconds later: a flapping server that welcomes and drops. Plain HTTP
  passes.
- `restore()` ends any of them.

It counts the connections it accepted (`connections`, `websockets`: those whose first bytes are a WebSocket
upgrade). It runs its own asyncio loop in a thread, so sync tests and benchmarks can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

CHUNK = 65536
HEAD_END = b"\r\n\r\n"


class Mode(StrEnum):
    OPEN = "open"
    CUT = "cut"
    FREEZE = "freeze"
    BLACKHOLE = "blackhole"
    FLAP = "flap"


@dataclass(eq=False)
class _Link:
    """One client connection: its gate (set = bytes flow) and its two writers once upstream is open."""

    client: asyncio.StreamWriter
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    upstream: asyncio.StreamWriter | None = None
    websocket: bool = False
    dead: bool = False

    def abort(self) -> None:
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()


class NetCut:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.mode = Mode.OPEN
        self.flap_delay = 0.2
        self.connections = 0
        self.websockets = 0
        self._loop = asyncio.new_event_loop()
        self._links: set[_Link] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="netcut", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self.mode is Mode.CUT

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, server.wait_closed(), return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode is Mode.CUT:
            writer.transport.abort()
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            with contextlib.suppress(OSError):
                # The first bytes say what the connection is (counted even when it is never answered).
                first = await reader.read(CHUNK)
                link.websocket = b"upgrade: websocket" in first.lower()
                self.websockets += link.websocket
                if self.mode is not Mode.BLACKHOLE:
                    link.gate.set()
                await link.gate.wait()
                if link.dead or not first:
                    return
                up_reader, link.upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
                link.upstream.write(first)
                flap = self.mode is Mode.FLAP and link.websocket
                await asyncio.gather(
                    self._pipe(link, reader, link.upstream), self._pipe(link, up_reader, writer, flap=flap)
                )
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            self._links.discard(link)
            link.abort()

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, flap: bool = False
    ) -> None:
        head = b""
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while True:
                await link.gate.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                await link.gate.wait()  # a read that completed as the link froze waits here, undelivered
                writer.write(data)
                await writer.drain()
                if flap:
                    head += data
                    if HEAD_END in head and head.index(HEAD_END) + len(HEAD_END) < len(head):
                        flap = False  # the upgrade's answer and a first frame have passed
                        self._loop.call_later(self.flap_delay, link.abort)
        link.abort()

    def _set(self, mode: Mode, done: threading.Event) -> None:
        self.mode = mode
        for link in list(self._links):
            if mode is Mode.CUT:
                link.dead = True
                link.abort()
                link.gate.set()
            elif mode in (Mode.FREEZE, Mode.BLACKHOLE):
                link.gate.clear()
            elif mode is Mode.FLAP and link.websocket:
                link.abort()  # the flapping server dropped its open sockets too
            else:
                link.gate.set()
        done.set()

    def _switch(self, mode: Mode) -> None:
        done = threading.Event()
        self._loop.call_soon_threadsafe(self._set, mode, done)
        done.wait(5)

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        self._switch(Mode.CUT)

    def freeze(self) -> None:
        """Stop every open connection in both directions (no RST, no FIN); new connections pass."""
        self._switch(Mode.FREEZE)

    def blackhole(self) -> None:
        """Accept new connections and never answer them; freeze the open ones."""
        self._switch(Mode.BLACKHOLE)

    def cut_after_welcome(self, delay: float = 0.2) -> None:
        """Drop the open WebSockets; reset each new one `delay` seconds after the server's first frame passed it."""
        self.flap_delay = delay
        self._switch(Mode.FLAP)

    def restore(self) -> None:
        """A working network again: frozen and held connections flow, new ones pass."""
        self._switch(Mode.OPEN)

    def start(self) -> NetCut:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@contextlib.contextmanager
def run_netcut(target_port: int) -> Iterator[NetCut]:
    """A proxy in front of 127.0.0.1:`target_port` for the block's duration."""
    proxy = NetCut(target_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()

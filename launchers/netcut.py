"""A TCP proxy on 127.0.0.1 that a test can cut and restore, standing in for a player's network.

`cut()` resets every connection through it and refuses new ones (accepted, then reset) until `restore()`: the
browser sees its WebSocket drop and its requests fail at once, as when a phone loses its network. It runs its
own asyncio loop in a thread, so sync tests and benchmarks can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class NetCut:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.is_cut = False
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="netcut", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, up_writer}
        self._writers |= pair
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            self._writers -= pair
            for w in pair:
                w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def _abort_all(self, done: threading.Event) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        done.set()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        self.is_cut = True
        done = threading.Event()
        self._loop.call_soon_threadsafe(self._abort_all, done)
        done.wait(5)

    def restore(self) -> None:
        self.is_cut = False

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

"""The fault proxy itself, against a plain TCP echo server: each mode breaks the link the way it says."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from launchers.netcut import NetCut, run_netcut

UPGRADE = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
QUIET_S = 0.3  # how long a stopped link must stay silent


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def proxy() -> Iterator[NetCut]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with run_netcut(server.server_address[1]) as net:
            yield net
            net.restore()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _open(proxy: NetCut) -> Iterator[None]:
    proxy.restore()
    yield
    proxy.restore()


def connect(net: NetCut) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", net.port), timeout=5)
    return sock


def echo(sock: socket.socket, data: bytes) -> bytes:
    sock.settimeout(5)
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def dropped(sock: socket.socket) -> bool:
    """The connection ends (closed or reset) within 5 s, whatever was still on its way."""
    sock.settimeout(5)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def silent(sock: socket.socket) -> bool:
    """Nothing arrives, and the connection is neither closed nor reset, for QUIET_S."""
    sock.settimeout(QUIET_S)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    return False


def test_freeze_stops_open_links_both_ways_and_passes_new_ones(proxy: NetCut) -> None:
    """Frozen: an open link neither answers nor closes; a new one works; after restore the held bytes arrive."""
    old = connect(proxy)
    assert echo(old, b"a") == b"a"
    proxy.freeze()
    old.sendall(b"held")
    assert silent(old)
    new = connect(proxy)
    assert echo(new, b"fresh") == b"fresh"
    proxy.restore()
    old.settimeout(5)
    assert old.recv(16) == b"held"


def test_blackhole_accepts_and_never_answers_until_restored(proxy: NetCut) -> None:
    """Blackholed: new connections are accepted, counted and left hanging; they go through after restore."""
    before = proxy.websockets
    proxy.blackhole()
    hung = connect(proxy)
    hung.sendall(UPGRADE)
    assert silent(hung)
    deadline = time.monotonic() + 5
    while proxy.websockets == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proxy.websockets == before + 1
    proxy.restore()
    hung.settimeout(5)
    assert hung.recv(65536).startswith(b"GET /ws")


def test_cut_after_welcome_drops_websockets_after_their_first_frame(proxy: NetCut) -> None:
    """Flapping: open WebSockets drop, a new one shortly after its upgrade's answer and a frame passed; HTTP stays."""
    open_ws = connect(proxy)
    assert echo(open_ws, UPGRADE + b"x") == UPGRADE + b"x"
    proxy.cut_after_welcome(0.05)
    assert dropped(open_ws)
    plain = connect(proxy)
    assert echo(plain, b"GET / HTTP/1.1\r\n\r\n") == b"GET / HTTP/1.1\r\n\r\n"
    ws = connect(proxy)
    assert echo(ws, UPGRADE + b"welcome") == UPGRADE + b"welcome"
    assert dropped(ws)
    assert silent(plain)  # neither reset nor closed


def test_cut_resets_open_links_and_refuses_new_ones(proxy: NetCut) -> None:
    """Cut: the open link is reset at once and a new one is reset on arrival."""
    old = connect(proxy)
    assert echo(old, b"a") == b"a"
    proxy.cut()
    assert dropped(old)
    new = connect(proxy)
    assert dropped(new)

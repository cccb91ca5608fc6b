"""The frontend's REST client retries a move whose answer was lost, under one Idempotency-Key (issue 13, point 8).

A real backend behind a small TCP proxy that forwards every request but drops the answer of the first clue: the
backend has committed it, the client sees the connection close without a response and retries. The clue must
be in the room's log once."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

from frontend.api import Api
from launchers.backend import run_backend
from launchers.process import free_port


def _read_message(sock: socket.socket) -> bytes:
    """One HTTP/1.1 message (head and a Content-Length body) from `sock`; b'' when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head + b"\r\n\r\n" + body


class DroppingProxy:
    """Forwards each client connection to the backend; the first request whose path contains `drop` reaches the
    backend, but its answer is thrown away and the client's connection closed (a crash after the commit)."""

    def __init__(self, backend_port: int, drop: bytes) -> None:
        self.backend_port = backend_port
        self.drop = drop
        self.dropped = 0
        self.forwarded: list[bytes] = []
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.backend_port), timeout=30) as upstream:
            while True:
                request = _read_message(client)
                if not request:
                    return
                self.forwarded.append(request.split(b"\r\n", 1)[0])
                upstream.sendall(request)
                answer = _read_message(upstream)
                if self.drop in request.split(b"\r\n", 1)[0] and self.dropped == 0:
                    self.dropped += 1
                    return  # committed on the backend; the client never hears of it
                client.sendall(answer)

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.close()


@contextlib.contextmanager
def proxied_backend(tmp: Path) -> Iterator[tuple[str, DroppingProxy]]:
    with (
        run_backend({"MAX_CLUES_PER_ROUND": "100"}, tmp=tmp) as backend,
        DroppingProxy(backend.port, b"/clues") as proxy,
    ):
        yield backend.url, proxy


def test_a_move_retried_after_its_answer_was_dropped_is_applied_once(tmp_path: Path) -> None:
    """Api.clue: the first answer is lost after the commit, the retry carries the same key and gets the first
    answer; the room's log holds the clue once, and the next clue (a new key) is applied as usual."""
    with proxied_backend(tmp_path) as (backend_url, proxy):
        api = Api(proxy.url)
        host = api.create_room("Host")
        for name in ("Bea", "Cy"):
            api.join_room(host.room_code, name)
        api.start(host)
        api.clue(host, "a careful clue")
        assert proxy.dropped == 1
        sent = [line for line in proxy.forwarded if b"/clues" in line]
        assert len(sent) == 2, sent  # the move and its retry both reached the backend
        api.clue(host, "another clue")
        log = httpx.get(
            f"{backend_url}/api/rooms/{host.room_code}/events?after=0",
            headers={"Authorization": f"Bearer {host.token}"},
            timeout=10,
        ).json()["events"]
        texts = [e["data"]["text"] for e in log if e["type"] == "clue_posted"]
        assert texts == ["a careful clue", "another clue"], texts

"""Locust players that play real Undercover games over one of Parlor's three transports.

* `PollingPlayer`: the legacy transport, GET /state every 0.4 s (constant pacing, 2.5 requests/s).
* `LongPollPlayer`: the fallback, GET /events?after=ID&wait=25 back to back.
* `WebSocketPlayer`: websocket-client under gevent; events are pushed.

Players of one class share rooms of PARLOR_ROOM_SIZE humans (default 5) plus two bots, so every room can
start however many users arrive; the host starts a game as soon as the room is full (or after 4 s) and again
after each game over. Discussion lasts 10 s and voting 5 s; each player posts one clue, marks ready and votes.

Every transport reports the delivery latency of each `clue_posted` event it learns of (receipt time minus the
event's server `ts`) as a Locust request of type DELIVER, so Locust's statistics hold it beside the HTTP
requests. WebSocket connects are reported as type WS (name `connect`); an unexpected close as a WS failure.

    locust -f loadtest/locustfile.py --headless -u 50 -r 25 -t 60s --host http://127.0.0.1:8000 WebSocketPlayer
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from typing import Any, ClassVar

import gevent
import websocket
from gevent.lock import Semaphore
from locust import constant, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

ROOM_SIZE = int(os.environ.get("PARLOR_ROOM_SIZE", "5"))
POLL_SECONDS = 0.4
LONGPOLL_WAIT = 25
PING_SECONDS = 25
_STALE = object()  # a request that got no answer at all on a reused connection


@events.init.add_listener
def _raise_nofile(**_kwargs: Any) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def report_delivery(environment: Any, transport: str, ts: float, length: int = 0) -> None:
    environment.events.request.fire(
        request_type="DELIVER",
        name=f"clue_posted via {transport}",
        response_time=max(0.0, (time.time() - ts) * 1000),
        response_length=length,
        exception=None,
        context={},
    )


class _Matchmaker:
    """Per-process room assignment: the first user of a class opens a room, the next ROOM_SIZE - 1 join it."""

    def __init__(self) -> None:
        self.lock = Semaphore()
        self.rooms: dict[str, list[Any]] = {}  # class name -> [code, seats taken]


MATCH = _Matchmaker()


class ParlorPlayer(FastHttpUser):
    abstract = True
    transport = "?"
    hosts: ClassVar[dict[str, Any]] = {}

    def on_start(self) -> None:
        self.code = ""
        self.player_id = ""
        self.token = ""
        self.is_host = False
        self.alive: set[str] = set()
        self.phase_key: tuple[int, str, int] | None = None
        self.stopping = False
        self._join()

    # ---- room ------------------------------------------------------------------------------------------

    def _join(self) -> None:
        kind = type(self).__name__
        with MATCH.lock:
            slot = MATCH.rooms.get(kind)
            if slot is None or slot[1] >= ROOM_SIZE:
                seat = self._post("/api/rooms", {"name": "Host"}, name="/api/rooms")
                slot = MATCH.rooms[kind] = [seat["room_code"], 1]
                self.is_host = True
            else:
                slot[1] += 1
        if self.is_host:
            self.code, self.player_id, self.token = seat["room_code"], seat["player_id"], seat["token"]
            for _ in range(2):
                self._post(f"/api/rooms/{self.code}/bots", name="/api/rooms/[code]/bots", keyed=True)
            self._request(
                "PATCH",
                f"/api/rooms/{self.code}/settings",
                {"discussion_seconds": 10, "voting_seconds": 5},
                name="/api/rooms/[code]/settings",
            )
            gevent.spawn(self._start_when_full, slot)
        else:
            seat = self._post(
                f"/api/rooms/{slot[0]}/players", {"name": f"P{slot[1]}"}, name="/api/rooms/[code]/players"
            )
            self.code, self.player_id, self.token = seat["room_code"], seat["player_id"], seat["token"]

    def _start_when_full(self, slot: list[Any]) -> None:
        deadline = time.monotonic() + 4
        while slot[1] < ROOM_SIZE and time.monotonic() < deadline:
            gevent.sleep(0.2)
        self._start_game()

    def _start_game(self) -> None:
        self._request(
            "POST", f"/api/rooms/{self.code}/start", name="/api/rooms/[code]/start", ok=(200, 409), keyed=True
        )

    # ---- REST ------------------------------------------------------------------------------------------

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        name: str,
        ok: tuple[int, ...] = (200, 201),
        keyed: bool = False,
    ) -> Any:
        """One request as a real client makes it. A move (`keyed`) carries an Idempotency-Key, and like GETs it is
        sent once more on a connection that failed before any answer: the pooled keep-alive connection it went out
        on had just been closed by the server for idleness (uvicorn closes idle ones after KEEP_ALIVE_TIMEOUT_SECONDS;
        the client learns of it only when its next request meets the FIN). The key makes the second copy safe: the
        server applies a move once whichever copy reached it. Such retries are counted as their own request type."""
        headers = dict(self.auth)
        if keyed:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        retry = keyed or method == "GET"
        for attempt in range(2 if retry else 1):
            last = attempt == (1 if retry else 0)
            result = self._attempt(method, path, body, headers, name=name, ok=ok, last=last)
            if result is not _STALE:
                return result
            self.environment.events.request.fire(
                request_type="RETRY", name=f"{name} (stale keep-alive connection)", response_time=0,
                response_length=0, exception=None, context={},
            )  # fmt: skip
        return {}

    def _attempt(
        self, method: str, path: str, body: Any, headers: dict[str, str], *, name: str, ok: tuple[int, ...], last: bool
    ) -> Any:
        with self.client.request(method, path, json=body, headers=headers, name=name, catch_response=True) as resp:
            if resp.status_code == 0 and not last and not self.stopping:
                resp.success()  # no answer at all: retried (above), and that retry is what counts
                return _STALE
            if resp.status_code in ok:
                resp.success()
                try:
                    return resp.json()
                except ValueError:
                    return {}
            if resp.status_code == 0 and self.stopping:
                # cut off by Locust's own shutdown (the user was already stopping): not the server's failure
                resp.success()
                return {}
            resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
            return {}

    def _post(self, path: str, body: Any = None, *, name: str, keyed: bool = False) -> Any:
        """Creating a room and joining take no key (a second copy would be a second room or seat): never resent."""
        return self._request("POST", path, body, name=name, keyed=keyed)

    # ---- game ------------------------------------------------------------------------------------------

    def on_phase(self, phase: str, game: int, round_: int) -> None:
        """React once per phase: clue and ready in discussion, a vote in voting, a new game when it is over."""
        key = (game, phase, round_)
        if key == self.phase_key:
            return
        self.phase_key = key
        gevent.spawn(self._act, phase)

    def _act(self, phase: str) -> None:
        gevent.sleep(random.uniform(0.3, 1.5))
        if self.stopping or (phase != "finished" and self.player_id not in self.alive):
            return  # eliminated, or a spectator who joined mid-game
        base = f"/api/rooms/{self.code}"
        # 409 (wrong phase, already over) and 404 (dead target) are normal races of a real game
        if phase == "discussion":
            self._request(
                "POST",
                f"{base}/clues",
                {"text": f"qz {random.randint(1, 999)}"},
                name="/api/rooms/[code]/clues",
                ok=(200, 403, 409, 429),
                keyed=True,
            )
            self._request("POST", f"{base}/ready", name="/api/rooms/[code]/ready", ok=(200, 403, 409), keyed=True)
        elif phase == "voting":
            targets = sorted(self.alive - {self.player_id})
            if targets:
                self._request(
                    "POST",
                    f"{base}/votes",
                    {"target_id": random.choice(targets)},
                    name="/api/rooms/[code]/votes",
                    ok=(200, 400, 403, 409),
                    keyed=True,
                )
        elif phase == "finished" and self.is_host:
            gevent.sleep(1.0)
            self._start_game()

    def on_event(self, frame: dict[str, Any]) -> None:
        kind, data = frame.get("type"), frame.get("data") or {}
        if kind == "clue_posted":
            report_delivery(self.environment, self.transport, frame["ts"])
        elif kind == "game_started":
            self.alive = set(data.get("players", []))
            self.game = data.get("game", 0)
        elif kind in ("player_eliminated", "player_left"):
            self.alive.discard(data.get("player_id"))
        elif kind == "phase_changed":
            self.on_phase(data["phase"], getattr(self, "game", 0), data.get("round", 0))

    def on_stop(self) -> None:
        self.stopping = True


class PollingPlayer(ParlorPlayer):
    """The legacy client: a full snapshot every 0.4 s."""

    transport = "polling"
    wait_time = constant_pacing(POLL_SECONDS)

    def on_start(self) -> None:
        super().on_start()
        self.seen_clues: set[tuple[Any, ...]] | None = None

    @task
    def poll(self) -> None:
        snap = self._request("GET", f"/api/rooms/{self.code}/state", name="/api/rooms/[code]/state")
        if not snap:
            return
        self.alive = {p["id"] for p in snap.get("players", []) if p.get("alive")}
        clues = {(c.get("round"), c.get("player_id"), c.get("ts")) for c in snap.get("clues", [])}
        if self.seen_clues is not None:
            for clue in clues - self.seen_clues:
                report_delivery(self.environment, self.transport, clue[2])
        self.seen_clues = clues
        game = snap.get("game") or 0
        self.on_phase(snap.get("phase", ""), game if isinstance(game, int) else 0, snap.get("round") or 0)


class LongPollPlayer(ParlorPlayer):
    """The fallback client: one held request at a time, answered at the next event."""

    transport = "longpoll"
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        self.last_id = 0

    @task
    def wait_events(self) -> None:
        body = self._request(
            "GET",
            f"/api/rooms/{self.code}/events?after={self.last_id}&wait={LONGPOLL_WAIT}",
            name="/api/rooms/[code]/events?wait",
        )
        if not body:
            gevent.sleep(1)
            return
        for frame in body.get("events", []):
            self.on_event(frame)
        self.last_id = body.get("last_event_id", self.last_id)


class WebSocketPlayer(ParlorPlayer):
    """The real-time client: one socket, events pushed, an app-level ping every 25 s."""

    transport = "websocket"
    wait_time = constant(5)

    def on_start(self) -> None:
        super().on_start()
        self.ws: websocket.WebSocket | None = None
        self._connect()

    def _connect(self) -> None:
        url = (self.host or "").replace("http", "ws", 1) + f"/ws/{self.code}"
        start = time.perf_counter()
        try:
            # a browser's Origin would have to be in ALLOWED_ORIGINS; a load generator sends none
            ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
            ws.send(json.dumps({"type": "hello", "player_id": self.player_id, "token": self.token, "last_event_id": 0}))
            first = json.loads(ws.recv())
            if first.get("type") != "welcome":
                raise ConnectionError(f"expected welcome, got {first.get('type')}")
        except Exception as exc:
            self._fire("connect", start, exc)
            return
        self._fire("connect", start, None)
        ws.settimeout(None)
        self.ws = ws
        gevent.spawn(self._read, ws)
        gevent.spawn(self._ping_loop, ws)

    def _fire(self, name: str, start: float, exc: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - start) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )

    def _read(self, ws: websocket.WebSocket) -> None:
        start = time.perf_counter()
        try:
            while True:
                raw = ws.recv()
                if not raw:
                    raise websocket.WebSocketConnectionClosedException("closed by the server")
                self.on_event(json.loads(raw))
        except Exception as exc:
            if not self.stopping:
                self._fire("disconnect", start, exc)

    def _ping_loop(self, ws: websocket.WebSocket) -> None:
        """The app-level heartbeat, first at a random offset so a window of any length sees its true rate."""
        gevent.sleep(random.uniform(0, PING_SECONDS))
        while not self.stopping:
            try:
                ws.send(json.dumps({"type": "ping", "t": time.time()}))
            except Exception as exc:
                if not self.stopping:
                    self._fire("ping", time.perf_counter(), exc)
                return
            gevent.sleep(PING_SECONDS)

    @task
    def idle(self) -> None:
        """Everything happens in the reader and pinger greenlets; a Locust user still needs a task."""

    def on_stop(self) -> None:
        super().on_stop()
        if self.ws is not None:
            self.ws.close()

"""Two backend processes on one Redis behind nginx: shared rooms, rolling restarts, crashes, a Redis outage.

The game and the rolling restart run again on a 3-master Redis Cluster (per-room keys on one slot, sharded
pub/sub); the outage and SIGKILL scenarios are about one Redis and one process and run on single Redis only."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from backend.realtime.protocol import CloseCode
from launchers.backend import backend_env, backend_server
from launchers.nginx import Nginx, nginx_available, run_nginx
from launchers.process import Server
from launchers.redis import RedisServer, redis_available, run_redis
from launchers.redis_cluster import run_redis_cluster
from tests.conftest import scaled
from tests.support.client import Seat, WsPlayer

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not (redis_available() and nginx_available()), reason="needs redis-server and nginx"),
]

DRAIN_SECONDS = 1.0
RETRY_STATUSES = (502, 503, 504)


# ---- processes ---------------------------------------------------------------------------------------------


class BackendProcess(Server):
    """`python -m backend` on a fixed port, ready once /readyz says so, stopped and started again in place."""

    def terminate(self, timeout: float = 15.0) -> tuple[int, bool]:
        """SIGTERM: the process drains its sockets and exits by itself; also says if /readyz showed the drain."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        seen_draining = False
        while self.process.poll() is None and not seen_draining:
            with contextlib.suppress(httpx.HTTPError):
                resp = httpx.get(self.url + "/readyz", timeout=0.5)
                seen_draining = resp.status_code == 503 and resp.json() == {"status": "draining"}
            time.sleep(0.02)
        return self.process.wait(scaled(timeout)), seen_draining

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(5)


def backend_process(env: dict[str, str], tmp: Path) -> BackendProcess:
    server = backend_server(backend_env(env, tmp), tmp=tmp)
    return BackendProcess(server.argv, server.port, server.log_path, server.env, health="/readyz", ready_below=300)


@dataclass
class Cluster:
    redis: RedisServer | None  # None on a Redis Cluster
    backends: list[BackendProcess]
    nginx: Nginx


def single_redis_only(cluster: Cluster) -> RedisServer:
    if cluster.redis is None:
        pytest.skip("a scenario about one Redis server")
    return cluster.redis


@pytest.fixture(scope="module", params=["redis", "redis_cluster"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scaleout")
    with contextlib.ExitStack() as stack:
        redis_server: RedisServer | None = None
        if request.param == "redis_cluster":
            store_url = stack.enter_context(run_redis_cluster(tmp / "redis-cluster")).url
        else:
            redis_server = stack.enter_context(run_redis(tmp))
            store_url = redis_server.url
        env = {
            "STORE_URL": store_url,
            "DRAIN_SECONDS": str(DRAIN_SECONDS),
            "MAX_CLUES_PER_ROUND": "200",
        }
        backends = [backend_process(env, tmp) for _ in range(2)]
        try:
            for backend in backends:
                backend.launch()
            for backend in backends:
                backend.wait(60.0)  # a loaded machine starts slowly
            with run_nginx([b.port for b in backends], tmp / "nginx") as nginx:
                yield Cluster(redis_server, backends, nginx)
        finally:
            for backend in backends:
                backend.stop(timeout=0)


@pytest.fixture
async def http(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cluster.nginx.url, timeout=10) as client:
        yield client


# ---- clients -----------------------------------------------------------------------------------------------


async def call(
    http: httpx.AsyncClient, method: str, path: str, seat: Seat | None = None, body: Any = None, within: float = 15.0
) -> httpx.Response:
    """A client that falls back and retries while a backend restarts or the store is away."""
    deadline = time.monotonic() + scaled(within)
    headers = seat.auth if seat is not None else None
    while True:
        try:
            resp = await http.request(method, path, json=body, headers=headers)
            if resp.status_code not in RETRY_STATUSES or time.monotonic() > deadline:
                return resp
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


@dataclass
class Resilient:
    """A player's socket through nginx that reconnects with its last event id, as the browser client does."""

    base_ws: str
    seat: Seat
    player: WsPlayer = field(init=False)
    closes: list[int | None] = field(default_factory=list)
    welcomes: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False

    def __post_init__(self) -> None:
        self.player = WsPlayer(self.base_ws, self.seat)

    async def start(self) -> None:
        self.welcomes.append(await self.player.connect(last_event_id=0))
        self._task = asyncio.create_task(self._keep_connected())

    async def _keep_connected(self) -> None:
        while not self._stopping:
            code = await self.player.wait_closed(timeout=3600)
            if self._stopping:
                return
            self.closes.append(code)
            while not self._stopping:
                await asyncio.sleep(0.05)
                try:
                    self.welcomes.append(await self.player.connect(last_event_id=self.player.last_event_id))
                    break
                except (OSError, TimeoutError, websockets.InvalidStatus, websockets.ConnectionClosed):
                    continue

    async def stop(self) -> None:
        self._stopping = True
        await self.player.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def ids(self) -> list[int]:
        return [f["id"] for f in self.player.events()]


async def log_ids(http: httpx.AsyncClient, seat: Seat) -> tuple[list[int], list[dict[str, Any]]]:
    resp = await call(http, "GET", f"/api/rooms/{seat.room_code}/events?after=0", seat)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["recovered"] is True
    return [e["id"] for e in body["events"]], body["events"]


async def assert_holds_the_log(http: httpx.AsyncClient, clients: list[Resilient], timeout: float = 10.0) -> None:
    """Every client ends with exactly its view of the room's log: nothing lost, doubled or reordered."""
    for client in clients:
        expected, events = await log_ids(http, client.seat)
        deadline = time.monotonic() + scaled(timeout)
        while client.ids()[-1:] != expected[-1:] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        got = client.ids()
        assert got == expected, f"{client.seat.player_id}: missing {sorted(set(expected) - set(got))[:10]}, " + (
            f"doubled {len(got) - len(set(got))}"
        )
        got_types = [f["type"] for f in client.player.events()]
        assert got_types == [e["type"] for e in events]
        assert all(w["data"]["recovered"] for w in client.welcomes)
        # every frame named the event before it in this player's view: no hole was ever sent, and the server
        # never had to cut a socket for one it caught itself
        assert client.player.chain_breaks == [], (client.seat.player_id, client.player.chain_breaks[:5])
        assert all(f.get("prev") is not None for f in client.player.events()), "every event frame carries prev"
        assert "missed an event: reconnect and resume" not in client.player.close_reasons
        chain = [0, *got[:-1]]
        assert [e["prev"] for e in events] == chain, "the log's own prev links, as GET /events answers them"


async def seat_room(http: httpx.AsyncClient, humans: int = 3, bots: int = 1) -> list[Seat]:
    resp = await call(http, "POST", "/api/rooms", body={"name": "Host"})
    assert resp.status_code == 201, resp.text
    host = Seat(**resp.json())
    seats = [host]
    for n in range(1, humans):
        resp = await call(http, "POST", f"/api/rooms/{host.room_code}/players", body={"name": f"P{n}"})
        assert resp.status_code == 201, resp.text
        seats.append(Seat(**resp.json()))
    for _ in range(bots):
        assert (await call(http, "POST", f"/api/rooms/{host.room_code}/bots", host)).status_code == 201
    return seats


async def start_game_watched(cluster: Cluster, http: httpx.AsyncClient, seats: list[Seat]) -> list[Resilient]:
    """A resilient client per seat, through nginx, then the host starts the game."""
    clients = [Resilient(cluster.nginx.ws_url, seat) for seat in seats]
    for client in clients:
        try:
            await client.start()
        except TimeoutError as exc:
            logs = "\n".join(f"--- {b.port}\n{b.log()[-3000:]}" for b in cluster.backends)
            raise AssertionError(f"{exc}\nnginx:\n{cluster.nginx.log()[-2000:]}\n{logs}") from exc
    code = seats[0].room_code
    assert (await call(http, "POST", f"/api/rooms/{code}/start", seats[0])).status_code == 200
    return clients


async def finish_game(http: httpx.AsyncClient, seats: list[Seat], timeout: float = 40.0) -> dict[str, Any]:
    """Everyone clues, readies and votes for one target until the game is over; retries through restarts."""
    host, code = seats[0], seats[0].room_code
    deadline = time.monotonic() + scaled(timeout)
    snap: dict[str, Any] = {}
    while time.monotonic() < deadline:
        snap = (await call(http, "GET", f"/api/rooms/{code}/state", host)).json()
        if snap["phase"] == "finished":
            return snap
        alive = [p["id"] for p in snap["players"] if p["alive"]]
        # The bot first: it votes as it likes, and a tie eliminates nobody (tie_rule nobody_out), so with the
        # bot alive every human votes for it; after that every human but the target votes for the target.
        bots = [p["id"] for p in snap["players"] if p["alive"] and p["is_bot"]]
        target = bots[0] if bots else next(p for p in alive if p != host.player_id)
        for n, seat in enumerate(s for s in seats if s.player_id in alive):
            if snap["phase"] == "discussion":
                await call(http, "POST", f"/api/rooms/{code}/clues", seat, {"text": f"clue {n} {snap['round']}"})
                await call(http, "POST", f"/api/rooms/{code}/ready", seat)
            elif snap["phase"] == "voting":
                vote_for = target if seat.player_id != target else host.player_id
                await call(http, "POST", f"/api/rooms/{code}/votes", seat, {"target_id": vote_for})
        await asyncio.sleep(0.2)
    raise TimeoutError(f"game did not finish: {snap}")


async def chatter(http: httpx.AsyncClient, seats: list[Seat], stop: asyncio.Event) -> int:
    """A steady stream of events: humans take turns posting clues while the test restarts things."""
    posted = 0
    while not stop.is_set():
        seat = seats[posted % len(seats)]
        resp = await call(http, "POST", f"/api/rooms/{seat.room_code}/clues", seat, {"text": f"hmm {posted}"})
        assert resp.status_code in (200, 409, 502), resp.text
        posted += 1
        await asyncio.sleep(0.05)
    return posted


def public_sequence(player: WsPlayer) -> list[tuple[int, str]]:
    return [(f["id"], f["type"]) for f in player.events() if f["type"] != "your_word"]


# ---- tests -------------------------------------------------------------------------------------------------


async def test_players_on_different_processes_share_one_game(cluster: Cluster, http: httpx.AsyncClient) -> None:
    """Players on two processes see one event order; deadlines fire once each though both processes tick."""
    a, b = cluster.backends
    seats = await seat_room(http)
    code = seats[0].room_code
    await call(http, "PATCH", f"/api/rooms/{code}/settings", seats[0], {"discussion_seconds": 10, "voting_seconds": 5})
    players = [WsPlayer(backend.ws_url, seat) for backend, seat in zip([a, b, a], seats, strict=True)]
    for player in players:
        await player.connect(last_event_id=0)
    assert (await call(http, "POST", f"/api/rooms/{code}/start", seats[0])).status_code == 200
    # nobody acts in round 1: the discussion deadline, then the voting deadline, must each fire exactly once
    timeout = scaled(25)
    for phase in ("voting", "discussion|finished"):
        await players[1].wait_for(
            lambda f, phase=phase: f["type"] == "phase_changed" and f["data"]["phase"] in phase.split("|"),
            timeout=timeout,
        )
    over = await finish_game(http, seats)
    assert over["game_over"]["winner"] in ("civilians", "undercover")
    for player in players:
        await player.wait_for(lambda f: f["type"] == "game_over")
    await asyncio.sleep(0.2)
    first = public_sequence(players[0])
    assert all(public_sequence(p) == first for p in players[1:])
    ids, events = await log_ids(http, seats[0])
    assert [f["id"] for f in players[0].events()] == ids
    phases = [(e["data"]["round"], e["data"]["phase"]) for e in events if e["type"] == "phase_changed"]
    assert len(phases) == len(set(phases)), f"a phase change fired twice: {phases}"
    changes = {(e["data"]["round"], e["data"]["phase"]): e["data"] for e in events if e["type"] == "phase_changed"}
    assert changes[(1, "voting")]["started_at"] >= changes[(1, "discussion")]["deadline"], "fired by the deadline"
    for player in players:
        await player.close()


async def test_rolling_restart_during_a_game_loses_and_doubles_nothing(
    cluster: Cluster, http: httpx.AsyncClient
) -> None:
    """SIGTERM each process in turn mid-game: clients reconnect via nginx and resume; the game finishes."""
    seats = await seat_room(http)
    code = seats[0].room_code
    await call(http, "PATCH", f"/api/rooms/{code}/settings", seats[0], {"discussion_seconds": 120})
    clients = await start_game_watched(cluster, http, seats)
    stop = asyncio.Event()
    talk = asyncio.create_task(chatter(http, seats, stop))
    drains = []
    try:
        for backend in cluster.backends:
            await asyncio.sleep(0.5)
            code, seen_draining = await asyncio.to_thread(backend.terminate)
            assert code == 0, backend.log()[-2000:]
            drains.append(seen_draining)
            await asyncio.to_thread(backend.start, 60.0)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        posted = await talk
    assert posted > 20
    assert any(drains), "a process with sockets reported draining on /readyz while it closed them"
    await finish_game(http, seats)
    for client in clients:
        await client.player.wait_for(lambda f: f["type"] == "game_over")
    await assert_holds_the_log(http, clients)
    assert all(CloseCode.RESTART in client.closes for client in clients), [c.closes for c in clients]
    for client in clients:
        await client.stop()


async def test_redis_outage_gives_clear_errors_and_play_resumes(cluster: Cluster, http: httpx.AsyncClient) -> None:
    """Redis restarted mid-game: 503 JSON and failing readiness while it is down, nothing corrupted after."""
    redis_server = single_redis_only(cluster)
    seats = await seat_room(http)
    code = seats[0].room_code
    clients = await start_game_watched(cluster, http, seats)
    await call(http, "POST", f"/api/rooms/{code}/clues", seats[1], {"text": "before the outage"})
    before, _ = await log_ids(http, seats[0])

    await asyncio.to_thread(redis_server.shutdown_saving)
    try:
        resp = await http.post(f"/api/rooms/{code}/clues", json={"text": "during"}, headers=seats[2].auth)
        assert resp.status_code == 503
        assert resp.json()["error"]["code"] == "store_unavailable"
        resp = await http.get(f"/api/rooms/{code}/state", headers=seats[0].auth)
        assert resp.status_code == 503 and resp.json()["error"]["code"] == "store_unavailable"
        for backend in cluster.backends:
            assert httpx.get(backend.url + "/readyz").status_code == 503
            assert httpx.get(backend.url + "/healthz").status_code == 200
        await asyncio.sleep(1.0)  # timers and subscribers keep failing meanwhile; nothing may be half-written
    finally:
        await asyncio.to_thread(redis_server.start)
    for backend in cluster.backends:
        await asyncio.to_thread(backend.wait)
    after, events = await log_ids(http, seats[0])
    assert after[: len(before)] == before, "the log before the outage is intact"
    assert not [e for e in events if e["type"] == "clue_posted" and e["data"].get("text") == "during"]
    resp = await call(http, "POST", f"/api/rooms/{code}/clues", seats[2], {"text": "after the outage"})
    assert resp.status_code == 200, resp.text
    over = await finish_game(http, seats)
    assert over["game_over"]["winner"] in ("civilians", "undercover")
    await assert_holds_the_log(http, clients)
    errors = httpx.get(cluster.backends[0].url + "/metrics").text
    assert 'parlor_store_errors_total{op="subscribe"}' in errors
    for client in clients:
        await client.stop()


async def test_sigkill_loses_no_state_and_clients_resume_elsewhere(cluster: Cluster, http: httpx.AsyncClient) -> None:
    """A process killed outright mid-game: its clients resume on the other one, the game goes on (runs last)."""
    single_redis_only(cluster)
    victim = cluster.backends[0]
    seats = await seat_room(http)
    clients = await start_game_watched(cluster, http, seats)
    stop = asyncio.Event()
    talk = asyncio.create_task(chatter(http, seats, stop))
    try:
        await asyncio.sleep(0.7)
        await asyncio.to_thread(victim.kill)
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await talk
    over = await finish_game(http, seats)
    assert over["game_over"]["winner"] in ("civilians", "undercover")
    for client in clients:
        await client.player.wait_for(lambda f: f["type"] == "game_over")
    await assert_holds_the_log(http, clients)
    assert any(client.closes for client in clients), "nobody was on the killed process"
    for client in clients:
        await client.stop()

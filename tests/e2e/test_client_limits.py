"""Per-client limits against a real server, with clients on several loopback addresses (127.0.0.0/8)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from launchers.backend import UNLIMITED_CLIENTS, Backend, run_backend

LIMITS = {
    **UNLIMITED_CLIENTS,
    "RATE_LIMIT_CREATE": "6/minute",
    "MAX_ROOMS_PER_ADDRESS": "3",
    "RATE_LIMIT_MISS": "5/minute",
    "MAX_LONGPOLLS_PER_TOKEN": "2",
    "MAX_CONNECTIONS": "4",
    "HELLO_TIMEOUT_SECONDS": "3",
    "TRUSTED_PROXIES": "127.0.0.1",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    tmp: Path = tmp_path_factory.mktemp("limits")
    with run_backend(LIMITS, tmp=tmp) as server:
        yield server


def client(backend: Backend, address: str, **headers: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=backend.url, transport=transport, headers=headers, timeout=10)


def refusals(backend: Backend, limit: str) -> float:
    for line in httpx.get(backend.url + "/metrics").text.splitlines():
        if line.startswith(f'parlor_limit_refusals_total{{limit="{limit}"}}'):
            return float(line.split()[-1])
    raise AssertionError(f"no refusal series for {limit}")


def test_room_quota_per_address_is_a_clear_429_and_other_addresses_still_play(limited: Backend) -> None:
    """A fourth room from one address: 429 room_quota (counted); another address creates rooms as usual."""
    with client(limited, "127.0.0.21") as flood, client(limited, "127.0.0.22") as honest:
        for i in range(3):
            assert flood.post("/api/rooms", json={"name": f"F{i}"}).status_code == 201
        refused = flood.post("/api/rooms", json={"name": "F4"})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "room_quota"
        assert honest.post("/api/rooms", json={"name": "Honest"}).status_code == 201
    assert refusals(limited, "room_quota") >= 1


def test_guessing_room_codes_is_cut_off_after_a_few_misses(limited: Backend) -> None:
    """Five unknown codes from one address, then even lookups that would hit are refused for a while."""
    with client(limited, "127.0.0.23") as guesser, client(limited, "127.0.0.24") as honest:
        code = honest.post("/api/rooms", json={"name": "Host"}).json()["room_code"]
        misses = [guesser.get(f"/api/rooms/{c * 5}").status_code for c in "ABCDE"]
        assert misses == [404] * 5
        refused = guesser.get(f"/api/rooms/{code}")
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert honest.get(f"/api/rooms/{code}").status_code == 200
    assert refusals(limited, "miss_rate") >= 1


def test_forwarded_for_is_trusted_from_configured_proxies_only(limited: Backend) -> None:
    """From 127.0.0.1 (a trusted proxy) X-Forwarded-For names the client; from anyone else it is ignored."""
    with client(limited, "127.0.0.1", **{"X-Forwarded-For": "10.9.9.1"}) as proxied:
        assert [proxied.post("/api/rooms", json={"name": f"P{i}"}).status_code for i in range(4)][-1] == 429
    with client(limited, "127.0.0.1", **{"X-Forwarded-For": "10.9.9.2"}) as other:
        assert other.post("/api/rooms", json={"name": "Q"}).status_code == 201
    with client(limited, "127.0.0.25", **{"X-Forwarded-For": "10.9.9.3"}) as spoofer:
        codes = [spoofer.post("/api/rooms", json={"name": f"S{i}"}).status_code for i in range(3)]
    with client(limited, "127.0.0.25", **{"X-Forwarded-For": "10.9.9.4"}) as spoofer:
        assert codes == [201] * 3 and spoofer.post("/api/rooms", json={"name": "S4"}).status_code == 429


async def test_at_most_two_long_polls_per_token(limited: Backend) -> None:
    """Two held long-polls for one seat are served; a third at the same time is a 429 too_many_longpolls."""
    async with httpx.AsyncClient(
        base_url=limited.url, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.26")
    ) as http:
        seat = (await http.post("/api/rooms", json={"name": "Poller"})).json()
        url = f"/api/rooms/{seat['room_code']}/events"
        headers = {"Authorization": f"Bearer {seat['token']}"}
        held = [asyncio.create_task(http.get(url, params={"after": 99, "wait": 0.0}, headers=headers))]
        last = (await held.pop()).json()["last_event_id"]
        held = [
            asyncio.create_task(http.get(url, params={"after": last, "wait": 3}, headers=headers, timeout=10))
            for _ in range(2)
        ]
        await asyncio.sleep(0.5)
        third = await http.get(url, params={"after": last, "wait": 3}, headers=headers)
        assert third.status_code == 429 and third.json()["error"]["code"] == "too_many_longpolls"
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]


async def test_sockets_waiting_for_hello_count_toward_the_connection_cap(limited: Backend) -> None:
    """MAX_CONNECTIONS=4: four silent handshakes fill it, the fifth is closed with 1013 at once."""
    silent = [await websockets.connect(f"{limited.ws_url}/ws/AAAAA") for _ in range(4)]
    try:
        fifth = await websockets.connect(f"{limited.ws_url}/ws/AAAAA")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(fifth.recv(), 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    finally:
        for ws in silent:
            await ws.close()
    await asyncio.sleep(0.3)
    seat = httpx.post(limited.url + "/api/rooms", json={"name": "After"}).json()
    async with websockets.connect(f"{limited.ws_url}/ws/{seat['room_code']}") as ws:
        await ws.send(json.dumps({"type": "hello", "player_id": seat["player_id"], "token": seat["token"]}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"

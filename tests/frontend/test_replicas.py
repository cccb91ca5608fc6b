"""Two Streamlit replicas behind deploy/nginx-frontend.conf: a browser stays on one, a rolling restart keeps players.

Real nginx (Debian's), real Streamlit x2, real uvicorn and real Chromium, through `loadtest.tier`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from launchers.nginx import nginx_available
from loadtest.tier import Tier, frontend_tier
from tests.conftest import scaled
from tests.frontend.player import Player, rest_clue

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not nginx_available(), reason="needs nginx"),
]


class SeatLost(AssertionError):
    """A page whose replica restarted is not back in its seat: no seat restore across Streamlit sessions yet."""


@pytest.fixture(scope="module")
def tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tier]:
    with frontend_tier(tmp_path_factory.mktemp("tier"), replicas=2) as running:
        yield running


def open_pinned(browser: Browser, tier: Tier, url: str, name: str, key: str | None) -> Player:
    """A player in its own browser context; with `key`, its affinity cookie is set before the first request."""
    player = Player.open(browser, "about:blank", name)
    if key is not None:
        player.page.context.add_cookies([{"name": "parlor_frontend", "value": key, "url": tier.url}])
    player.page.goto(url)
    return player


def cookie(player: Player) -> dict[str, object]:
    cookies = [c for c in player.page.context.cookies() if c["name"] == "parlor_frontend"]
    assert len(cookies) == 1, cookies
    return dict(cookies[0])


@pytest.fixture(scope="module")
def players(browser: Browser, tier: Tier) -> Iterator[list[Player]]:
    """Alice pinned to frontend-a and Bob to frontend-b; Cyd gets whatever cookie nginx gives her."""
    keys = tier.affinity_keys()
    a, b = (keys[replica.address] for replica in tier.replicas)
    alice = open_pinned(browser, tier, tier.url, "Alice", a)
    code = alice.create_room()
    bob = open_pinned(browser, tier, f"{tier.url}/?room={code}", "Bob", b)
    bob.join_room(code)
    cyd = open_pinned(browser, tier, f"{tier.url}/?room={code}", "Cyd", None)
    cyd.join_room(code)
    yield [alice, bob, cyd]
    for player in (alice, bob, cyd):
        player.page.context.close()


def wait_sessions(tier: Tier, expected: list[int], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + scaled(timeout_s)
    while (seen := [replica.sessions() for replica in tier.replicas]) != expected:
        assert time.monotonic() < deadline, f"parlor_frontend_sessions per replica {seen}, expected {expected}"
        time.sleep(0.2)


def test_every_request_of_a_page_reaches_one_replica(tier: Tier, players: list[Player]) -> None:
    """Each page's HTTP requests and its /_stcore/stream land on one replica; the session gauges agree."""
    by_key = tier.replicas_by_key()
    homes = {}
    nginx_set = cookie(players[2])  # Cyd's came from nginx's first response, not from the test
    assert nginx_set["httpOnly"] and nginx_set["sameSite"] == "Lax"
    for player in players:
        served = by_key[str(cookie(player)["value"])]
        assert len(served) == 1, f"{player.name}'s requests reached {served}"
        homes[player.name] = served.pop()
    addresses = [replica.address for replica in tier.replicas]
    assert homes["Alice"] == addresses[0] and homes["Bob"] == addresses[1]
    # nginx logs a WebSocket only when it closes (see the restart test); the replicas' own gauges count them now
    wait_sessions(tier, [sum(home == address for home in homes.values()) for address in addresses])


def restart(tier: Tier, index: int, clues: list[str], players: list[Player], token: str, code: str) -> None:
    """Stop one replica, post a clue while it is down, start it again on the same port."""
    replica = tier.replicas[index]
    keys = {str(cookie(player)["value"]) for player in players}
    homed = {key for key, served in tier.replicas_by_key().items() if key in keys and served == {replica.address}}
    own_key = tier.affinity_keys()[replica.address]
    replica.stop()
    # nginx logs a WebSocket when it closes: the streams this replica held were its own pages' streams
    streams = {
        key for _, _, path, up, key in tier.requests() if path == "/_stcore/stream" and up.endswith(replica.address)
    }
    assert homed and homed <= streams, f"{replica.name} held pages {homed}, nginx logged its streams for {streams}"
    text = f"while {replica.name} is down"
    rest_clue(tier.backend.url, code, token, text)
    clues.append(text)
    replica.start()
    wait_routed(tier, replica.address, own_key)


def wait_routed(tier: Tier, address: str, key: str, timeout_s: float = 20) -> None:
    """As a deploy does before restarting the next replica: wait until nginx sends this replica's browsers to it
    again. nginx skips a replica for fail_timeout after its last failure (the restored pages' own requests keep
    failing on it while it is down), and with both skipped it has no live upstream left."""
    deadline = time.monotonic() + scaled(timeout_s)
    while True:
        httpx.get(f"{tier.url}/_stcore/health", headers={"Cookie": f"parlor_frontend={key}"})
        time.sleep(0.1)  # nginx writes the log line just after the response
        latest = [up for status, _, _, up, k in tier.requests() if k == key and status < 500]
        if latest and latest[-1].split(", ")[-1] == address:
            return
        assert time.monotonic() < deadline, f"nginx still routes {address}'s browsers elsewhere"
        time.sleep(0.4)


def check_seated(player: Player, code: str, clues: list[str], timeout_s: float = 15) -> None:
    """The page shows its seat in `code` with exactly `clues`, each once, or SeatLost says what it shows."""
    deadline = time.monotonic() + scaled(timeout_s)
    while True:
        landing = player.page.get_by_role("button", name="Join room").count() > 0
        status = player.page.get_by_test_id("connection-status").count() > 0
        shown = [text for _, text in player.clues()] if status else []
        doubled = sorted({text for text in shown if shown.count(text) > 1})
        assert not doubled, f"{player.name}'s page shows {doubled} more than once"
        if status and sorted(shown) == sorted(clues):
            return
        if time.monotonic() > deadline:
            view = (
                "the landing page (seat gone)" if landing else f"a stale view missing {sorted(set(clues) - set(shown))}"
            )
            raise SeatLost(f"{player.name}'s page shows {view} after its frontend replica restarted")
        time.sleep(0.25)


def test_rolling_restart_keeps_every_player_in_their_seat(tier: Tier, players: list[Player]) -> None:
    """Restart frontend-a, then frontend-b, mid-game: every page ends in its seat with every clue exactly once."""
    alice = players[0]
    code = alice.code
    token = alice.token
    base = tier.backend.url
    auth = {"Authorization": f"Bearer {token}"}
    httpx.patch(
        f"{base}/api/rooms/{code}/settings", json={"discussion_seconds": 600, "voting_seconds": 300}, headers=auth
    ).raise_for_status()
    httpx.post(f"{base}/api/rooms/{code}/start", headers=auth).raise_for_status()
    for player in players:
        expect(player.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
    clues = ["before the restarts"]
    rest_clue(base, code, token, clues[0])
    for player in players:
        player.expect_text(clues[0])

    for index in range(len(tier.replicas)):
        restart(tier, index, clues, players, token, code)
        # nginx answered the restarting replica's browsers from the other one; nothing a page needs is left
        # unserved. A health probe is the exception: it is how Streamlit's client and the bridge ask "is a
        # frontend back yet?" and retry until one is, so a 502 to it is a true "not yet" (seen once: nginx had
        # just counted a failure against the other replica too, max_fails=1); check_seated below proves the
        # page came back to its seat.
        unserved = [r for r in tier.requests()[-50:] if r[0] >= 500 and r[0] != 499 and r[2] != "/_stcore/health"]
        assert not unserved, f"nginx answered {unserved}\n{tier.nginx.log()[-3000:]}"
        between = f"after restarting {tier.replicas[index].name}"
        rest_clue(base, code, token, between)
        clues.append(between)
        for player in players:
            check_seated(player, code, clues)
    # the seats came back from the tabs' storage, yet no token reached nginx's log or a replica's
    tokens = {player.token for player in players}
    logs = {
        "nginx": tier.nginx.log(),
        **{replica.name: replica.server.log() for replica in tier.replicas if replica.server},
    }
    for name, text in logs.items():
        assert not [t for t in tokens if t in text], f"a player's token is in the {name} log"

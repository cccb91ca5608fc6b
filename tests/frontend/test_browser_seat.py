"""Players keep their seat, in real Chromium: reloads, tabs, "Continue as", Leave, rejected seats, a Streamlit
restart and a network cut.

One backend (access log on, so the token check reads real request lines), a cuttable proxy in front of it for
the browsers (Streamlit's own calls go direct), and one Streamlit with its bridge metrics exported; the last test
reads every log, URL and metric of the module for the players' tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from launchers.backend import Backend, run_backend
from launchers.netcut import NetCut, run_netcut
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from tests.conftest import scaled
from tests.frontend.player import (
    STATUS_CONNECTED,
    STATUS_FALLBACK,
    UI_TIMEOUT_MS,
    Player,
    rest_clue,
    seat_two_and_a_bot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKENS: set[str] = set()  # every token a test of this module saw, for the last test
URLS: list[str] = []  # every URL any page of this module requested or navigated to


@dataclass
class Stack:
    backend: Backend
    frontend: Frontend
    net: NetCut
    metrics_port: int


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("seat")
    port, metrics_port = free_port(), free_port()
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp, args=("--log-level", "info")) as backend,
        run_netcut(backend.port) as net,
    ):
        env = {"FRONTEND_METRICS_PORT": str(metrics_port), "PUBLIC_BACKEND_URL": net.url}
        with run_streamlit(backend.url, port=port, tmp=tmp, env=env) as frontend:
            yield Stack(backend, frontend, net, metrics_port)


def watch(page: Page) -> Page:
    page.on("request", lambda request: URLS.append(request.url))
    page.on("framenavigated", lambda frame: URLS.append(frame.url))
    return page


def player(browser: Browser, url: str, name: str) -> Player:
    p = Player.open(browser, "about:blank", name)
    watch(p.page).goto(url)
    return p


def new_tab(of: Player, url: str, name: str) -> Player:
    """Another tab of the same browser profile (shared localStorage, its own sessionStorage)."""
    page = watch(of.page.context.new_page())
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    return Player(page, name)


def token(p: Player) -> str:
    """The seat's token, once the bridge has been pointed at the seat (its iframe may land after the room draws)."""
    p.page.wait_for_function("window.parlorBridge && window.parlorBridge.config")
    return p.token


def feed(p: Player) -> list[str] | None:
    """The humans' clues on the page, in order (Bot Ada posts her own); any clue shown twice fails the test.

    None while the page is navigating (a reload by the test or by the bridge).
    """
    try:
        shown = p.clues()
    except PlaywrightError:
        return None
    assert len(shown) == len(set(shown)), f"{p.name}'s page shows a clue twice: {shown}"
    return [text for name, text in shown if name != "Bot Ada"]


def expect_seated(p: Player, phase: str, clues: list[str]) -> float:
    """Wait until the page shows its seat in `phase` with exactly `clues` and the light green; seconds taken."""
    start = time.monotonic()
    expect(p.page.get_by_test_id("phase")).to_have_text(phase, timeout=scaled(20) * 1000)
    deadline = start + scaled(20)
    while (shown := feed(p)) != clues:
        assert time.monotonic() < deadline, f"{p.name}'s feed is {shown}, expected {clues}"
        time.sleep(0.05)
        expect(p.page.get_by_test_id("phase")).to_have_text(phase, timeout=scaled(20) * 1000)
    p.expect_status(STATUS_CONNECTED, timeout_s=20)
    return time.monotonic() - start


def expect_landing(p: Player) -> None:
    expect(p.page.get_by_role("button", name="Create room")).to_be_visible(timeout=scaled(20) * 1000)
    assert p.page.get_by_test_id("connection-status").count() == 0


def reload(p: Player) -> float:
    """Reload like F5 and return the seconds until the page shows its room again."""
    start = time.monotonic()
    p.page.reload()
    p.page.get_by_test_id("connection-status").wait_for(timeout=scaled(20) * 1000)
    return time.monotonic() - start


def test_reload_in_discussion_and_voting_keeps_seat_view_and_feed(browser: Browser, stack: Stack) -> None:
    """F5 mid-discussion and mid-voting: same seat and view, every clue once, green light, can post and vote."""
    backend, frontend = stack.backend, stack.frontend
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    for p in (alice, bob):
        watch(p.page)
        TOKENS.add(token(p))
    code, auth = alice.code, {"Authorization": f"Bearer {alice.token}"}
    settings = {"discussion_seconds": 600, "voting_seconds": 300}
    httpx.patch(f"{backend.url}/api/rooms/{code}/settings", json=settings, headers=auth).raise_for_status()
    alice.click("Start game")
    word = {}
    for p in (alice, bob):
        expect(p.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
        word[p.name] = p.page.get_by_test_id("word").inner_text()
    alice.post_clue("first clue")
    rest_clue(backend.url, code, bob.token, "second clue")
    expect_seated(bob, "Discussion", ["first clue", "second clue"])

    print(f"reload in discussion: back in {reload(bob):.2f} s")
    # a clue posted while the page reloads arrives exactly once, by resume or by snapshot
    rest_clue(backend.url, code, alice.token, "during the reload")
    clues = ["first clue", "second clue", "during the reload"]
    expect_seated(bob, "Discussion", clues)
    assert bob.page.get_by_test_id("word").inner_text() == word["Bob"]
    assert bob.page.locator(".parlor-me-name").inner_text() == "Bob"
    assert "token" not in bob.page.url
    bob.post_clue("after the reload")
    clues.append("after the reload")
    expect_seated(alice, "Discussion", clues)
    expect_seated(bob, "Discussion", clues)
    roster = httpx.get(f"{backend.url}/api/rooms/{code}/state", headers=auth).json()["players"]
    assert sorted(p["name"] for p in roster) == ["Alice", "Bob", "Bot Ada"]

    alice.click("I'm ready to vote")
    bob.click("I'm ready to vote")
    expect_seated(alice, "Voting", clues)
    print(f"reload in voting: back in {reload(alice):.2f} s")
    expect_seated(alice, "Voting", clues)
    alice.click("Vote Bot Ada")
    expect(bob.page.locator("[data-player] .parlor-tag.voted").first).to_be_visible(timeout=scaled(30) * 1000)
    bob.click("Vote Bot Ada")
    for p in (alice, bob):
        expect(p.page.get_by_test_id("winner")).to_be_visible(timeout=scaled(30) * 1000)
    for p in (alice, bob):
        p.page.context.close()


def test_tabs_are_people_continue_as_and_leave(browser: Browser, stack: Stack) -> None:
    """A second tab joins as a second player; a closed tab's seat is offered back; Leave forgets it for good."""
    backend, frontend = stack.backend, stack.frontend
    alice = player(browser, frontend.url, "Alice")
    code = alice.create_room()
    alice_token = token(alice)
    TOKENS.add(alice_token)
    link = f"{frontend.url}/?room={code}"

    # Alice's seat is open in her tab, so a second tab of the same browser is not offered it: it is Carol
    carol = new_tab(alice, link, "Carol")
    expect(carol.page.get_by_role("button", name="Join room")).to_be_visible()
    expect(carol.page.get_by_test_id("restoring")).to_have_count(0)  # only for the page's one answer
    assert carol.page.get_by_role("button", name="Continue as Alice").count() == 0
    carol.join_room(code)
    TOKENS.add(token(carol))
    alice.expect_text("Carol")
    assert carol.page.locator(".parlor-me-name").inner_text() == "Carol"

    # Alice closes her tab and opens the link again: "Continue as Alice" puts her back in her seat
    alice.page.close()
    again = new_tab(carol, link, "Alice")
    again.page.get_by_role("button", name="Continue as Alice").click()
    again.page.get_by_test_id("connection-status").wait_for()
    expect(again.page.locator(".parlor-me-name")).to_have_text("Alice")
    again.expect_status(STATUS_CONNECTED)
    state = httpx.get(f"{backend.url}/api/rooms/{code}/state", headers={"Authorization": f"Bearer {carol.token}"})
    assert sorted(p["name"] for p in state.json()["players"]) == ["Alice", "Carol"]

    # Leave forgets the seat in both storages: a reload and the room link land on the join page, with no offer
    again.page.get_by_role("button", name="Leave room").click()
    expect_landing(again)
    stored = again.page.evaluate("JSON.stringify({...sessionStorage}) + JSON.stringify({...localStorage})")
    assert alice_token not in stored
    again.page.reload()
    expect_landing(again)
    again.page.goto(link)
    expect(again.page.get_by_role("button", name="Join room")).to_be_visible()
    assert again.page.get_by_role("button", name="Continue as Alice").count() == 0
    carol.page.context.close()


def test_a_seat_the_backend_rejects_is_forgotten_with_a_message(browser: Browser, stack: Stack) -> None:
    """A removed player's offered seat and a stored seat in a room that is gone: a clear message, then forgotten."""
    backend, frontend = stack.backend, stack.frontend
    alice = player(browser, frontend.url, "Alice")
    code = alice.create_room()
    link = f"{frontend.url}/?room={code}"
    bob = new_tab(alice, link, "Bob")
    bob.join_room(code)
    TOKENS.update({token(alice), token(bob)})
    bob_id = bob.bridge("config.player")
    bob.page.close()
    httpx.delete(
        f"{backend.url}/api/rooms/{code}/players/{bob_id}", headers={"Authorization": f"Bearer {alice.token}"}
    ).raise_for_status()
    again = new_tab(alice, link, "Bob")
    again.page.get_by_role("button", name="Continue as Bob").click()
    again.expect_text(f"Your seat in room {code} is no longer valid")
    assert again.page.get_by_role("button", name="Continue as Bob").count() == 0
    again.page.reload()
    expect(again.page.get_by_role("button", name="Join room")).to_be_visible()
    assert again.page.get_by_role("button", name="Continue as Bob").count() == 0

    # a stored seat in a room that no longer exists: the reload says so and lands on the join page
    seat = {"room": "ZZZZZ", "player": "p-gone", "token": "not-a-token", "name": "Ghost"}
    again.page.evaluate("s => sessionStorage.setItem('parlor:seat', JSON.stringify(s))", seat)
    again.page.goto(frontend.url)
    again.expect_text("Room ZZZZZ has ended")
    expect_landing(again)
    assert again.page.evaluate("sessionStorage.getItem('parlor:seat')") is None
    alice.page.context.close()


def start_long_game(backend: Backend, alice: Player, bob: Player) -> str:
    code, auth = alice.code, {"Authorization": f"Bearer {alice.token}"}
    settings = {"discussion_seconds": 600, "voting_seconds": 300}
    httpx.patch(f"{backend.url}/api/rooms/{code}/settings", json=settings, headers=auth).raise_for_status()
    httpx.post(f"{backend.url}/api/rooms/{code}/start", headers=auth).raise_for_status()
    for p in (alice, bob):
        watch(p.page)
        TOKENS.add(token(p))
        expect(p.page.get_by_test_id("word")).to_be_visible(timeout=scaled(30) * 1000)
    return code


def test_streamlit_restart_mid_game_puts_every_page_back_in_its_seat(browser: Browser, stack: Stack) -> None:
    """Streamlit stops mid-game: each page says it is reconnecting; once it is back, each page is in its seat
    within 10 s with every clue once, and live updates flow again."""
    backend, frontend = stack.backend, stack.frontend
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    code = start_long_game(backend, alice, bob)
    clues = ["before the restart"]
    rest_clue(backend.url, code, alice.token, clues[0])
    for p in (alice, bob):
        expect_seated(p, "Discussion", clues)

    frontend.stop()
    for p in (alice, bob):
        expect(p.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible(timeout=scaled(10) * 1000)
    rest_clue(backend.url, code, bob.token, "while Streamlit is down")
    clues.append("while Streamlit is down")
    frontend.start(timeout=60)
    back = time.monotonic()
    for p in (alice, bob):
        expect_seated(p, "Discussion", clues)
        print(f"{p.name} back in the seat {time.monotonic() - back:.2f} s after Streamlit answered")
        assert time.monotonic() - back < scaled(10), f"{p.name} took longer than 10 s to be back in the seat"
        expect(p.page.get_by_role("status").filter(has_text="Reconnecting")).to_have_count(0)
    bob.post_clue("after the restart")
    clues.append("after the restart")
    for p in (alice, bob):
        expect_seated(p, "Discussion", clues)
    for p in (alice, bob):
        p.page.context.close()


CUTS = 2
CUT_SECONDS = 6


def test_after_a_network_cut_the_socket_is_back_within_two_seconds(browser: Browser, stack: Stack) -> None:
    """The browser's network drops for 6 s (CUTS times): the clue posted meanwhile arrives once, and the light
    is green again within 2 s of the network returning, not after the socket's backoff."""
    backend, frontend, net = stack.backend, stack.frontend, stack.net
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    code = start_long_game(backend, alice, bob)
    clues: list[str] = []
    waits = []
    for i in range(CUTS):
        net.cut()
        bob.expect_status(STATUS_FALLBACK, timeout_s=10)
        time.sleep(CUT_SECONDS / 2)
        clues.append(f"during cut {i}")
        rest_clue(backend.url, code, alice.token, clues[-1])
        time.sleep(CUT_SECONDS / 2)
        restored = time.monotonic()
        net.restore()
        bob.expect_status(STATUS_CONNECTED, timeout_s=30)
        waits.append(time.monotonic() - restored)
        expect_seated(bob, "Discussion", clues)
    # with every poll refused, only the browser's `online` event can end the backoff early
    bob.page.route("**/events?*", lambda route: route.abort())
    net.cut()
    bob.expect_status(STATUS_FALLBACK, timeout_s=10)
    time.sleep(CUT_SECONDS)
    net.restore()
    restored = time.monotonic()
    bob.page.evaluate("window.dispatchEvent(new Event('online'))")
    bob.expect_status(STATUS_CONNECTED, timeout_s=30)
    waits.append(time.monotonic() - restored)
    bob.page.unroute("**/events?*")
    print("back to connected after each cut (s), the last by the online event:", [round(w, 2) for w in waits])
    assert max(waits) < scaled(2), f"the light came back {waits} s after the network"
    for p in (alice, bob):
        p.page.context.close()


def test_the_token_is_in_no_url_log_line_or_metric(stack: Stack) -> None:
    """After the tests above: no token in any URL a page used, the backend's and Streamlit's logs, or metrics."""
    backend, frontend, metrics_port = stack.backend, stack.frontend, stack.metrics_port
    assert TOKENS and URLS
    assert "GET /api/rooms/" in backend.log(), "the backend's access log is on, so the check reads real lines"
    metrics = httpx.get(f"{backend.url}/metrics").text + httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert "parlor_bridge_" in metrics
    places = {"URLs": "\n".join(URLS), "backend log": backend.log(), "Streamlit log": frontend.log()}
    places["metrics"] = metrics
    for where, text in places.items():
        leaked = [token[:6] + "…" for token in TOKENS if token in text]
        assert not leaked, f"tokens {leaked} appear in the {where}"

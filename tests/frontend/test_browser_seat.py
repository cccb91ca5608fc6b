"""Seat restore in real Chromium: reloads keep the seat, tabs are people, "Continue as", Leave, rejected seats.

One backend (access log on, so the token check reads real request lines) and one Streamlit with its bridge
metrics exported; the last test reads every log, URL and metric of the module for the players' tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import scaled
from tests.frontend.player import STATUS_CONNECTED, UI_TIMEOUT_MS, Player, rest_clue, seat_two_and_a_bot
from tests.support.servers import Backend, free_port, run_backend
from tests.support.streamlit import Frontend, frontend_origins, run_streamlit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKENS: set[str] = set()  # every token a test of this module saw, for the last test
URLS: list[str] = []  # every URL any page of this module requested or navigated to


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Frontend, int]]:
    tmp = tmp_path_factory.mktemp("seat")
    port, metrics_port = free_port(), free_port()
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp, args=("--log-level", "info")) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp, env={"FRONTEND_METRICS_PORT": str(metrics_port)}) as frontend,
    ):
        yield backend, frontend, metrics_port


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


def feed(p: Player) -> list[str]:
    """The humans' clues on the page, in order (Bot Ada posts her own); any clue shown twice fails the test."""
    shown = p.clues()
    assert len(shown) == len(set(shown)), f"{p.name}'s page shows a clue twice: {shown}"
    return [text for name, text in shown if name != "Bot Ada"]


def expect_seated(p: Player, phase: str, clues: list[str]) -> float:
    """Wait until the page shows its seat in `phase` with exactly `clues` and the light green; seconds taken."""
    start = time.monotonic()
    expect(p.page.get_by_test_id("phase")).to_have_text(phase, timeout=scaled(20) * 1000)
    deadline = start + scaled(20)
    while feed(p) != clues:
        assert time.monotonic() < deadline, f"{p.name}'s feed is {feed(p)}, expected {clues}"
        time.sleep(0.05)
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


def test_reload_in_discussion_and_voting_keeps_seat_view_and_feed(
    browser: Browser, stack: tuple[Backend, Frontend, int]
) -> None:
    """F5 mid-discussion and mid-voting: same seat and view, every clue once, green light, can post and vote."""
    backend, frontend, _ = stack
    alice, bob = seat_two_and_a_bot(browser, frontend.url)
    for p in (alice, bob):
        watch(p.page)
        TOKENS.add(p.token)
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


def test_tabs_are_people_continue_as_and_leave(browser: Browser, stack: tuple[Backend, Frontend, int]) -> None:
    """A second tab joins as a second player; a closed tab's seat is offered back; Leave forgets it for good."""
    backend, frontend, _ = stack
    alice = player(browser, frontend.url, "Alice")
    code = alice.create_room()
    alice_token = alice.token
    TOKENS.add(alice_token)
    link = f"{frontend.url}/?room={code}"

    # Alice's seat is open in her tab, so a second tab of the same browser is not offered it: it is Carol
    carol = new_tab(alice, link, "Carol")
    expect(carol.page.get_by_role("button", name="Join room")).to_be_visible()
    assert carol.page.get_by_role("button", name="Continue as Alice").count() == 0
    carol.join_room(code)
    TOKENS.add(carol.token)
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


def test_a_seat_the_backend_rejects_is_forgotten_with_a_message(
    browser: Browser, stack: tuple[Backend, Frontend, int]
) -> None:
    """A removed player's offered seat and a stored seat in a room that is gone: a clear message, then forgotten."""
    backend, frontend, _ = stack
    alice = player(browser, frontend.url, "Alice")
    code = alice.create_room()
    link = f"{frontend.url}/?room={code}"
    bob = new_tab(alice, link, "Bob")
    bob.join_room(code)
    TOKENS.update({alice.token, bob.token})
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


def test_a_tab_without_a_seat_gets_the_landing_page_at_once(
    browser: Browser, stack: tuple[Backend, Frontend, int]
) -> None:
    """No stored seat: "Restoring your seat…" only for the one round trip that asks the page, then the forms."""
    _, frontend, _ = stack
    p = player(browser, frontend.url, "Nobody")
    expect_landing(p)
    assert p.page.get_by_test_id("restoring").count() == 0
    p.page.context.close()


def test_the_token_is_in_no_url_log_line_or_metric(stack: tuple[Backend, Frontend, int]) -> None:
    """After the tests above: no token in any URL a page used, the backend's and Streamlit's logs, or metrics."""
    backend, frontend, metrics_port = stack
    assert len(TOKENS) >= 4 and URLS
    assert "GET /api/rooms/" in backend.log(), "the backend's access log is on, so the check reads real lines"
    metrics = httpx.get(f"{backend.url}/metrics").text + httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert "parlor_frontend" in metrics
    places = {"URLs": "\n".join(URLS), "backend log": backend.log(), "Streamlit log": frontend.log()}
    places["metrics"] = metrics
    for where, text in places.items():
        leaked = [token[:6] + "…" for token in TOKENS if token in text]
        assert not leaked, f"tokens {leaked} appear in the {where}"

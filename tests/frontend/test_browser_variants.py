"""The variants in real Chromium: a French room on a phone with Mr. White to a guess, a pasted pack refused by
line, and a player who closes the tab replaced by a stand-in and back in their seat."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from backend.game.engine import MR_WHITE, Room
from backend.game.words import PackLibrary
from launchers.backend import Backend, run_backend
from launchers.process import free_port
from launchers.streamlit import Frontend, frontend_origins, run_streamlit
from tests.conftest import scaled, screenshot_dir
from tests.frontend.player import STATUS_CONNECTED, UI_TIMEOUT_MS, Player

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = screenshot_dir()
PHONE = {"width": 375, "height": 740}
WAIT_MS = scaled(30) * 1000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Frontend]]:
    tmp = tmp_path_factory.mktemp("variants")
    port = free_port()
    with (
        run_backend(env={"ALLOWED_ORIGINS": frontend_origins(port)}, tmp=tmp) as backend,
        run_streamlit(backend.url, port=port, tmp=tmp) as frontend,
    ):
        yield backend, frontend


def open_phone(browser: Browser, url: str, name: str, locale: str = "en-US") -> Player:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale=locale)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    return Player(page, name)


def assert_fits_the_phone(page: Page) -> None:
    """Nothing makes the page wider than the 375 px screen (no horizontal scrolling)."""
    page.wait_for_timeout(200)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


def shoot(page: Page, name: str) -> None:
    """A screenshot of the top of the page (Streamlit scrolls inside its own container, not the document)."""
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    page.wait_for_timeout(300)
    page.screenshot(path=str(IMG / name))


def choose(page: Page, box: Locator, option: str) -> None:
    """Pick an option of a selectbox; a rerun that lands meanwhile closes the list, so open it again."""
    for _ in range(10):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=2000)
        except PlaywrightTimeout:
            continue
        if box.locator("input").input_value() == option:
            return
    raise AssertionError(f"could not choose {option!r}")


def rest(backend: Backend, method: str, path: str, seat: dict[str, str], body: Any = None) -> Any:
    resp = httpx.request(
        method, f"{backend.url}/api/rooms/{seat['room_code']}/{path}", json=body,
        headers={"Authorization": f"Bearer {seat['token']}"},
    )  # fmt: skip
    assert resp.status_code < 300, resp.text
    return resp.json()


def seed_for_first_player_as_mr_white() -> int:
    """A seed whose deal (French pack, 5 players, Mr. White on) makes the first to join Mr. White."""
    library = PackLibrary.default()
    for seed in range(1000):
        room, _ = Room.create("ABCDE", host_id="a", host_name="A", token_hash="", now=0)
        for n in range(4):
            room.join(f"p{n}", f"P{n}", "", 0)
        room.update_settings("a", {"language": "fr", "mr_white": True}, 0, library.languages())
        room.start("a", 0, random.Random(seed), library)
        if room.players["a"].role == MR_WHITE:
            return seed
    raise AssertionError("no seed")


def test_french_phone_game_with_mr_white_to_a_guess(browser: Browser, stack: tuple[Backend, Frontend]) -> None:
    """On a 375x740 phone in a French browser: the landing page speaks French until the EN switch; the host
    switches the room to French (the connection light follows) and turns Mr. White on; a pasted pack and an
    uploaded file, each with a bad line, are refused naming the line in French, as is a file too big; the host,
    dealt Mr. White, sees "no word", is voted out and guesses right. No view scrolls sideways."""
    backend, frontend = stack
    alice = open_phone(browser, frontend.url, "Alice", locale="fr-FR")
    page = alice.page
    expect(page.get_by_text("Créer un salon", exact=True)).to_be_visible()
    page.get_by_text("EN", exact=True).click()
    code = alice.create_room()
    alice.expect_status(STATUS_CONNECTED)
    others = [httpx.post(f"{backend.url}/api/rooms/{code}/players", json={"name": n}).json()
              for n in ("Ben", "Chloé", "Dora", "Émile")]  # fmt: skip
    alice.expect_text("Émile")
    assert_fits_the_phone(page)

    settings = page.get_by_test_id("stForm").filter(has_text="Save settings")
    choose(page, settings.get_by_test_id("stSelectbox").filter(has_text="Language"), "Français")
    settings.get_by_text("Mr. White", exact=True).click()
    settings.get_by_role("button", name="Save settings").click()
    alice.expect_text("Réglages de l'hôte")
    alice.expect_status("🟢 Connecté (temps réel)")
    expect(page.get_by_role("button", name="Lancer la partie")).to_be_visible()
    assert_fits_the_phone(page)

    page.get_by_text("Nos propres mots", exact=True).click()
    pack = page.get_by_test_id("stForm").filter(has_text="Utiliser ces mots")
    pack.get_by_label("Paires").fill("chat, chien\nsolitaire\nsoleil, lune")
    pack.get_by_role("button", name="Utiliser ces mots").click()
    alice.expect_text("ligne 2 : « solitaire » doit contenir exactement deux mots")
    from_file = page.get_by_test_id("stForm").filter(has_text="Utiliser ce fichier")
    upload = from_file.locator("input[type=file]")
    upload.set_input_files(
        {"name": "mots.txt", "mimeType": "text/plain", "buffer": "chat, chien\n# thé\nété, été\n".encode()}
    )
    from_file.get_by_role("button", name="Utiliser ce fichier").click()
    alice.expect_text("ligne 3 : « été » ne peut pas être associé à lui-même")
    page.get_by_test_id("stExpander").filter(has_text="Nos propres mots").screenshot(
        path=str(IMG / "phone-own-pack.png")
    )
    upload.set_input_files({"name": "gros.txt", "mimeType": "text/plain", "buffer": b"chat, chien\n" * 2000})
    from_file.get_by_role("button", name="Utiliser ce fichier").click()
    alice.expect_text("« gros.txt » fait 24 Ko ; un fichier de paquet fait 20 Ko au plus.")
    shoot(page, "phone-lobby.png")

    httpx.post(f"{backend.url}/api/test/rng", json={"seed": seed_for_first_player_as_mr_white()})
    page.get_by_role("button", name="Lancer la partie").click()
    expect(page.get_by_test_id("mr-white")).to_contain_text("Vous n'avez pas de mot", timeout=WAIT_MS)
    words = Counter(rest(backend, "GET", "state", seat)["you"]["word"] for seat in others)
    civilian_word = words.most_common(1)[0][0]
    for n, seat in enumerate(others):
        rest(backend, "POST", "clues", seat, {"text": f"indice numéro {n}"})
        rest(backend, "POST", "ready", seat)
    alice.expect_text("indice numéro 3")
    page.get_by_label("Votre indice").fill("indice numéro 0")
    alice.click("Envoyer")
    expect(page.locator(".parlor-feed > p").filter(has_text="Alice")).to_have_count(1, timeout=WAIT_MS)
    shoot(page, "phone-game.png")
    assert_fits_the_phone(page)
    alice.click("Prêt à voter")
    expect(page.get_by_test_id("phase")).to_have_text("Vote", timeout=WAIT_MS)
    for seat in others:
        rest(backend, "POST", "votes", seat, {"target_id": alice_id(backend, code, others[0])})
    alice.click("Voter Ben")

    expect(page.get_by_test_id("phase")).to_have_text("Devinette de Mr. White", timeout=WAIT_MS)
    assert_fits_the_phone(page)
    shoot(page, "phone-guess.png")
    guess = page.get_by_test_id("stForm").filter(has_text="Deviner")
    guess.get_by_label("Votre proposition").fill(f"  {civilian_word.upper()} ")
    guess.get_by_role("button", name="Deviner").click()
    expect(page.get_by_test_id("winner")).to_have_text("Mr. White gagne !", timeout=WAIT_MS)
    alice.expect_text("Le récit de la partie")
    alice.expect_text("Éliminations, dans l'ordre")
    assert_fits_the_phone(page)
    shoot(page, "phone-over.png")
    page.context.close()


def alice_id(backend: Backend, code: str, seat: dict[str, str]) -> str:
    players = rest(backend, "GET", "state", seat)["players"]
    return str(next(p["id"] for p in players if p["name"] == "Alice"))


def test_closed_tab_gets_a_stand_in_then_the_seat_back(browser: Browser, stack: tuple[Backend, Frontend]) -> None:
    """Bob closes his tab mid-discussion: Alice sees him reconnecting, then a bot standing in (after the room's
    grace period, shortened to 5 s) that gives a clue for him; Bob opens the room link again, takes his seat
    back and sees what he missed."""
    _backend, frontend = stack
    alice = Player.open(browser, frontend.url, "Alice")
    code = alice.create_room()
    bob = Player.open(browser, f"{frontend.url}/?room={code}", "Bob")
    bob.join_room(code)
    alice.click("Add a bot")
    alice.expect_text("Bot Ada")
    resp = httpx.patch(
        f"{_backend.url}/api/rooms/{code}/settings", json={"grace_seconds": 5, "discussion_seconds": 120},
        headers={"Authorization": f"Bearer {alice.token}"},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    alice.click("Start game")
    expect(bob.page.get_by_test_id("word")).to_be_visible(timeout=WAIT_MS)
    word = bob.page.get_by_test_id("word").inner_text()
    bob.page.close()

    row = alice.page.locator("[data-player]").filter(has_text="Bob")
    expect(row.locator(".parlor-tag.away")).to_have_text("reconnecting…", timeout=WAIT_MS)
    expect(row.locator(".parlor-tag.standin")).to_have_text("(bot standing in)", timeout=WAIT_MS)
    expect(alice.page.locator(".parlor-feed > p").filter(has_text="Bob")).to_have_count(1, timeout=WAIT_MS)
    alice.page.screenshot(path=str(IMG / "stand-in.png"))

    page = bob.page.context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(f"{frontend.url}/?room={code}")
    page.get_by_role("button", name="Continue as Bob").click()
    back = Player(page, "Bob", code)
    back.expect_status(STATUS_CONNECTED)
    expect(page.get_by_test_id("word")).to_have_text(word)
    expect(page.locator(".parlor-feed > p").filter(has_text="Bob")).to_have_count(1)  # the clue given for him
    expect(row.locator(".parlor-tag.standin")).to_have_count(0, timeout=WAIT_MS)
    back.post_clue("back in my seat")
    alice.expect_text("back in my seat")
    alice.page.context.close()
    page.context.close()

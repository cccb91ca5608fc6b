"""What a player reads when the backend refuses a name or a clue: the game's reason, never "Some of what you
entered is not valid." (seen on the landing page with a control character in a name)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from backend.game.vocabulary import CLUE_MAX, NAME_MAX
from frontend.api import Api, ApiError
from launchers.backend import Backend, run_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with run_backend({}, tmp=tmp_path_factory.mktemp("backend")) as server:
        yield server


def refusal(call: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_name_too_long_gets_the_reason(backend: Backend) -> None:
    err = refusal(lambda: Api(backend.url).create_room("x" * 200))
    assert (err.status, err.code) == (422, "invalid_name")
    assert err.text == f"Name must be 1-{NAME_MAX} characters after trimming."


def test_control_characters_in_a_name_get_the_reason(backend: Backend) -> None:
    err = refusal(lambda: Api(backend.url).create_room("evil\u0000x"))
    assert (err.status, err.code) == (422, "invalid_name")
    assert err.text == "Name must not contain control characters."


def test_a_name_in_two_scripts_gets_the_game_reason(backend: Backend) -> None:
    err = refusal(lambda: Api(backend.url).create_room("Zoë Зоя"))
    assert err.code == "invalid_name"
    assert err.text == "A name must be written in one script."


def test_a_clue_too_long_gets_the_reason(backend: Backend) -> None:
    api = Api(backend.url)
    seat = api.create_room("Host")
    for name in ("Ann", "Bob"):
        api.join_room(seat.room_code, name)
    api.act(seat, "start")
    err = refusal(lambda: api.act(seat, "clues", {"text": "x" * 500}))
    assert (err.status, err.code) == (422, "invalid_clue")
    assert err.text == f"Clue must be 1-{CLUE_MAX} characters after trimming."


def test_other_validation_errors_keep_the_general_sentence(backend: Backend) -> None:
    api = Api(backend.url)
    seat = api.create_room("Host")
    resp = httpx.patch(f"{backend.url}/api/rooms/{seat.room_code}/settings", json={"discussion_seconds": "soon"})
    assert resp.status_code in (401, 422)
    err = refusal(lambda: api.act(seat, "settings", {"discussion_seconds": "soon"}, method="PATCH"))
    assert err.code == "validation_error" and err.text == "Some of what you entered is not valid."

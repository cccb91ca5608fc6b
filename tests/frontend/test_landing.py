"""The landing page run by Streamlit's AppTest against a real backend: what its forms send."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from launchers.backend import Backend, run_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with run_backend(tmp=tmp_path_factory.mktemp("backend")) as server:
        yield server


def _landing_app(base_url: str) -> None:
    import streamlit as st

    from frontend.api import Api
    from frontend.views import landing

    def on_seat(seat: object, name: str) -> None:
        st.session_state["seated"] = seat

    landing.render(Api(base_url), on_seat)


def test_a_room_created_from_the_french_page_starts_in_french(backend: Backend) -> None:
    """EN/FR switch on FR, "Créer un salon": the room's first snapshot is French with the French pack, and its
    log holds no settings change (the create call carried the language)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_landing_app, args=(backend.url,), default_timeout=30).run()
    at.radio[0].set_value("fr").run()
    assert not at.exception
    at.text_input(key="create_name").input("Zoé")
    create = next(b for b in at.button if b.label == "Créer le salon")
    create.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    seat = at.session_state["seated"]
    headers = {"Authorization": f"Bearer {seat.token}"}
    state = httpx.get(f"{backend.url}/api/rooms/{seat.room_code}/state", headers=headers).json()
    assert (state["settings"]["language"], state["settings"]["pack"]) == ("fr", "fr-classique")
    log = httpx.get(f"{backend.url}/api/rooms/{seat.room_code}/events", params={"after": 0}, headers=headers).json()
    assert "settings_changed" not in {e["type"] for e in log["events"]}

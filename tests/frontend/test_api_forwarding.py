"""The frontend's REST client speaks for the player's address, not its own (per-address limits, issue 13).

Every REST call of a Streamlit process comes from that process: without X-Forwarded-For, all its players shared
one budget of the backend's per-address limits. A real backend trusting the frontend (TRUSTED_PROXIES) with a
join limit of 3 a minute: each player's address has its own budget, and a header the browser sent itself does not
let it pass for someone else."""

from __future__ import annotations

import httpx
import pytest

from frontend.api import Api, ApiError, forwarded_chain
from launchers.backend import run_backend


def test_the_chain_appends_streamlits_peer_to_what_reached_it() -> None:
    assert forwarded_chain(None, None) is None
    assert forwarded_chain(None, "203.0.113.5") == "203.0.113.5"
    assert forwarded_chain("203.0.113.5", "10.0.0.7") == "203.0.113.5, 10.0.0.7"  # behind nginx-frontend
    assert forwarded_chain(" 198.51.100.1 ,203.0.113.5", "10.0.0.7") == "198.51.100.1, 203.0.113.5, 10.0.0.7"
    assert forwarded_chain("", None) is None


def test_each_player_address_gets_its_own_join_budget_through_one_frontend() -> None:
    env = {"TRUSTED_PROXIES": "127.0.0.1", "RATE_LIMIT_JOIN": "3/minute"}
    with run_backend(env) as backend:
        code = httpx.post(f"{backend.url}/api/rooms", json={"name": "Host"}).json()["room_code"]
        ann = Api(backend.url, forwarded_for=forwarded_chain(None, "203.0.113.5"))
        for n in range(3):
            ann.join_room(code, f"Ann {n}")
        with pytest.raises(ApiError) as refused:
            ann.join_room(code, "Ann 3")
        assert refused.value.status == 429

        # Another player on the same Streamlit process still joins: the budget is per player address.
        Api(backend.url, forwarded_for=forwarded_chain(None, "203.0.113.6")).join_room(code, "Bob")

        # A browser naming another address in its own header is still counted as itself.
        spoofer = Api(backend.url, forwarded_for=forwarded_chain("198.51.100.1", "203.0.113.5"))
        with pytest.raises(ApiError) as spoofed:
            spoofer.join_room(code, "Eve")
        assert spoofed.value.status == 429

        # Without the header (a frontend the backend was not told to trust) the frontend is the client.
        plain = Api(backend.url)
        for n in range(3):
            plain.join_room(code, f"Cy {n}")
        with pytest.raises(ApiError):
            plain.join_room(code, "Cy 3")

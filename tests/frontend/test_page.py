"""The page's seat records: what the browser hands back is checked before it is used, and refusals are explained."""

from __future__ import annotations

from frontend.api import ApiError, Seat
from frontend.page import _seat_gone_text, _stored_seat


def test_a_stored_seat_needs_room_player_and_token() -> None:
    """Only a complete record becomes a seat; anything else the page hands back is ignored."""
    good = {"room": "ABCDE", "player": "p1", "token": "t", "name": "Ann", "savedAt": 1}
    assert _stored_seat(good) == (Seat("ABCDE", "p1", "t"), "Ann")
    bad: tuple[object, ...] = (None, "ABCDE", [], {}, {**good, "token": ""}, {"room": "ABCDE", "player": "p1"})
    for record in bad:
        assert _stored_seat(record) is None


def test_a_rejected_seat_says_why() -> None:
    """404 for the room says the room ended; 401 or an unknown player says the seat is no longer valid."""
    assert "has ended" in _seat_gone_text(ApiError(404, "unknown_room", ""), "ABCDE")
    assert "no longer valid" in _seat_gone_text(ApiError(401, "bad_token", ""), "ABCDE")
    assert "no longer valid" in _seat_gone_text(ApiError(404, "unknown_player", ""), "ABCDE")

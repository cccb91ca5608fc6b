"""The backend's REST API as the Streamlit server calls it, with every error turned into a sentence for people."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import httpx

from frontend.state import State
from parlor_protocol import PROTOCOL_VERSION, Transport, version
from parlor_protocol.vocabulary import CLUE_MAX, MIN_PLAYERS, NAME_MAX

FRIENDLY: dict[str, str] = {
    "unknown_room": "There is no room with that code. Check the code and try again.",
    "room_full": "That room is full.",
    "room_exists": "That room code is taken; please try again.",
    "too_many_rooms": "The server is hosting as many rooms as it can right now. Please try again later.",
    "name_taken": "Someone in that room already uses that name. Pick another one.",
    "invalid_name": f"Names need 1 to {NAME_MAX} characters, without control characters.",
    "invalid_clue": f"Clues need 1 to {CLUE_MAX} characters, without control characters.",
    "clue_contains_word": "Your clue must not contain your own word.",
    "too_many_clues": "You have posted the most clues allowed this round.",
    "not_guesser": "Only Mr. White, just voted out, can guess now.",
    "not_enough_players": f"Not enough players to start: {MIN_PLAYERS}, or 5 with Mr. White (bots count).",
    "invalid_vote": "You can only vote for another player who is still in the game.",
    "not_host": "Only the host can do that.",
    "not_in_game": "Only players still in the game can do that.",
    "wrong_phase": "That is not possible right now; the game has moved on.",
    "unknown_player": "You are no longer in this room.",
    "missing_token": "Your session has expired. Please join the room again.",
    "bad_token": "Your session has expired. Please join the room again.",
    "unauthorized": "Your session has expired. Please join the room again.",
    "validation_error": "Some of what you entered is not valid.",
    "unavailable": "The server is busy right now. Please try again in a moment.",
    "internal": "Something went wrong on the server. Please try again.",
    "unsupported_protocol": "The game server was just updated. Reload the page in a moment.",
    "network": "Cannot reach the game server. Is it running?",
}


class ApiError(Exception):
    """A refused or failed call: `code` from the backend's error body, `text` a sentence for the player."""

    def __init__(self, status: int, code: str, message: str, lines: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.lines = lines or []  # a refused pack's bad lines: {line, reason, word, ...}, worded by frontend.i18n

    @property
    def text(self) -> str:
        return friendly(self.code, self.message)


# A request refused before it reached the game names the field it refused; for the two a player types, that
# is the same mistake the game itself reports, so it gets the same code and sentence.
FIELD_CODES = {"name": "invalid_name", "text": "invalid_clue"}
# The game says why a name or clue was refused ("a name must be written in one script"): more use to the player
# than the general sentence, which is kept for refusals without a reason.
REASON_FIRST = frozenset({"invalid_name", "invalid_clue"})


def field_error(code: str, message: str, fields: object) -> tuple[str, str]:
    """(code, message) for a validation error on a field the player typed; anything else unchanged."""
    if code != "validation_error" or not isinstance(fields, list) or not fields or not isinstance(fields[0], dict):
        return code, message
    loc, kind, msg = fields[0].get("loc"), fields[0].get("type"), str(fields[0].get("msg", ""))
    field = str(loc[-1]) if isinstance(loc, list) and loc else ""
    if field not in FIELD_CODES:
        return code, message
    # a reason the game gave (pydantic prefixes it "Value error, "); a length or type refusal has none
    reason = msg.removeprefix("Value error, ") if kind == "value_error" else ""
    return FIELD_CODES[field], reason


def friendly(code: str, message: str = "") -> str:
    if code == "rate_limited":
        return f"Slow down a little ({message})." if message else "Slow down a little."
    if code in REASON_FIRST and message:
        return message[:1].upper() + message[1:].rstrip(".") + "."
    if code in FRIENDLY:
        return FRIENDLY[code]
    return message[:1].upper() + message[1:] if message else "Something went wrong. Please try again."


@dataclass(frozen=True)
class Seat:
    room_code: str
    player_id: str
    token: str
    transport: str = Transport.WEBSOCKET


RETRY_STATUSES = (502, 503, 504)
RETRY_DELAYS = (0.2, 0.6)  # seconds before the second and third try of a move


class Api:
    """Synchronous REST client; one per Streamlit session (connections are pooled)."""

    def __init__(self, base_url: str, timeout: float = 10.0, forwarded_for: str | None = None) -> None:
        """`forwarded_for`: the player's address chain (see `forwarded_chain`), sent as X-Forwarded-For.

        Without it every player of this Streamlit process is one client to the backend's per-address limits (a
        busy frontend would hit "60 joins a minute" for everyone at once); the backend believes the header only
        from its TRUSTED_PROXIES, so the frontend replicas must be listed there."""
        self.base_url = base_url
        # the protocol version this frontend speaks, on every call: a backend of another release answers 426
        protocol = {version.HEADER: str(PROTOCOL_VERSION)}
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers=protocol)
        self._forwarded = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}

    def _call(self, method: str, path: str, seat: Seat | None = None, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {seat.token}"} if seat else {}
        headers.update(self._forwarded)
        # A move carries an Idempotency-Key, so it can be retried safely: a move whose answer was lost (a 502
        # after the commit, a dropped connection) is answered, not applied, the second time.
        retries = 0
        if seat is not None and method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
            retries = len(RETRY_DELAYS)
        for attempt in range(retries + 1):
            try:
                resp = self._http.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                if attempt < retries:
                    time.sleep(RETRY_DELAYS[attempt])
                    continue
                raise ApiError(0, "network", str(exc)) from None
            if resp.status_code in RETRY_STATUSES and attempt < retries:
                time.sleep(RETRY_DELAYS[attempt])
                continue
            break
        if resp.status_code >= 400:
            lines: list[dict[str, Any]] = []
            try:
                err = resp.json()["error"]
                code, message = str(err.get("code", "http_error")), str(err.get("message", ""))
                lines = [line for line in err.get("lines") or [] if isinstance(line, dict)]
                code, message = field_error(code, message, err.get("fields"))
            except (ValueError, KeyError, TypeError, AttributeError):
                code, message = "http_error", resp.text[:200]
            raise ApiError(resp.status_code, code, message, lines)
        return resp.json()

    def create_room(self, name: str, language: str | None = None) -> Seat:
        """A new room with this host; `language` sets the room's language (and its pack) from the start."""
        body = {"name": name} if language is None else {"name": name, "language": language}
        return Seat(**self._call("POST", "/api/rooms", body=body))

    def join_room(self, code: str, name: str) -> Seat:
        return Seat(**self._call("POST", f"/api/rooms/{code.strip().upper()}/players", body={"name": name}))

    def state(self, seat: Seat) -> State:
        return cast(State, self._call("GET", f"/api/rooms/{seat.room_code}/state", seat))

    def act(self, seat: Seat, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        return self._call(method, f"/api/rooms/{seat.room_code}/{path}", seat, body)

    def add_bot(self, seat: Seat) -> None:
        self.act(seat, "bots")

    def remove_player(self, seat: Seat, player_id: str) -> None:
        self.act(seat, f"players/{player_id}", method="DELETE")

    def settings(self, seat: Seat, changes: dict[str, Any]) -> None:
        self.act(seat, "settings", changes, method="PATCH")

    def set_pack(self, seat: Seat, text: str) -> None:
        self.act(seat, "pack", {"text": text}, method="PUT")

    def packs(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/packs"))

    def guess(self, seat: Seat, text: str) -> None:
        self.act(seat, "guess", {"text": text})

    def start(self, seat: Seat) -> None:
        self.act(seat, "start")

    def clue(self, seat: Seat, text: str) -> None:
        self.act(seat, "clues", {"text": text})

    def ready(self, seat: Seat) -> None:
        self.act(seat, "ready")

    def vote(self, seat: Seat, target_id: str) -> None:
        self.act(seat, "votes", {"target_id": target_id})


def forwarded_chain(forwarded_for: str | None, peer: str | None) -> str | None:
    """X-Forwarded-For for the backend: what reached Streamlit, then Streamlit's own peer (nginx or the browser).

    The peer is appended as a proxy would, so a browser that sends its own header cannot pass for someone else:
    the backend takes the right-most address that is not a trusted proxy."""
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    if peer:
        hops.append(peer)
    return ", ".join(hops) or None

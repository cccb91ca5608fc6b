"""Seats and the values every part of the service passes around: a seat's credentials, room codes, tokens, and
the text checks request models share with the rules. Pure functions and frozen values; no state."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from typing import Any

from backend.core.errors import Invalid
from backend.game.engine import game_limits
from backend.game.text import clean_name, clean_text
from backend.game.vocabulary import CLUE_MAX, GUESS_MAX, NAME_MAX, GameLimits

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
CODE_LENGTH = 5
GAME_LIMITS: GameLimits = game_limits()  # what request models validate against, as the snapshot tells clients


@dataclass(frozen=True)
class Credentials:
    room_code: str
    player_id: str
    token: str


def new_room_code(rng: random.Random | secrets.SystemRandom) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_player_id() -> str:
    return "p_" + secrets.token_hex(8)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_epoch() -> str:
    return secrets.token_hex(6)


# built once: json.dumps with arguments builds an encoder per call, a cost on every move
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def fingerprint(body: dict[str, Any]) -> str:
    """A short digest of a move's parsed body, kept with its first answer to tell a retry from a reused key."""
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:32]


def normalize_code(code: str) -> str:
    return code.strip().upper()


def valid_name(raw: str) -> str:
    """A player name as the rules accept it (trimmed), or ValueError for a request model to report."""
    return _valid(raw, "name", NAME_MAX)


def valid_clue(raw: str) -> str:
    return _valid(raw, "clue", CLUE_MAX)


def valid_guess(raw: str) -> str:
    return _valid(raw, "guess", GUESS_MAX)


def _valid(raw: str, field_name: str, max_len: int) -> str:
    try:
        if field_name == "name":
            return clean_name(raw, max_len=max_len)
        return clean_text(raw, field_name=field_name, max_len=max_len)
    except Invalid as exc:
        raise ValueError(exc.message) from None

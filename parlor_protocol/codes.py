"""The codes both sides read: WebSocket close codes, error codes (REST bodies and `error` frames), and why a
server closed a socket (its logs and `parlor_ws_disconnects_total`)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CloseCode(IntEnum):
    """WebSocket close codes the server sends; 1xxx from RFC 6455, 4xxx Parlor's own (4000 + an HTTP status)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # heartbeat timeout
    POLICY = 1008  # foreign Origin, before accept
    TOO_BIG = 1009
    RESTART = 1012  # drain or restart: reconnect and resume
    TRY_LATER = 1013  # over capacity, store away, or too slow a reader
    ABUSE = 4400
    AUTH = 4401
    NOT_IN_COHORT = 4403  # use polling
    UNKNOWN_ROOM = 4404
    NO_HELLO = 4408
    REPLACED = 4409
    UNSUPPORTED_PROTOCOL = 4426  # the hello's protocol version is outside the server's range: reload the page


class ErrorCode(StrEnum):
    """`code` of an error: `{"error": {"code", "message"}}` on REST, the `error` frame's data on the WebSocket."""

    # the classes' defaults (backend.core.errors)
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    # HTTP itself
    VALIDATION_ERROR = "validation_error"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"
    INTERNAL = "internal"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"  # HTTP 426 (the X-Parlor-Protocol header); 4426 on a socket
    # rooms and seats
    UNKNOWN_ROOM = "unknown_room"
    UNKNOWN_PLAYER = "unknown_player"
    ROOM_EXISTS = "room_exists"
    ROOM_FULL = "room_full"
    TOO_MANY_ROOMS = "too_many_rooms"
    ROOM_QUOTA = "room_quota"
    NAME_TAKEN = "name_taken"
    BANNED = "banned"
    MISSING_TOKEN = "missing_token"  # noqa: S105 (a code, not a secret)
    BAD_TOKEN = "bad_token"  # noqa: S105
    # the game's rules
    INVALID_NAME = "invalid_name"
    INVALID_CLUE = "invalid_clue"
    INVALID_GUESS = "invalid_guess"
    INVALID_VOTE = "invalid_vote"
    INVALID_SETTINGS = "invalid_settings"
    INVALID_PACK = "invalid_pack"
    CLUE_CONTAINS_WORD = "clue_contains_word"
    TOO_MANY_CLUES = "too_many_clues"
    NOT_ENOUGH_PLAYERS = "not_enough_players"
    NOT_GUESSER = "not_guesser"
    NOT_HOST = "not_host"
    NOT_IN_GAME = "not_in_game"
    WRONG_PHASE = "wrong_phase"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # capacity and the store
    TOO_MANY_LONGPOLLS = "too_many_longpolls"
    STORE_UNAVAILABLE = "store_unavailable"
    STORE_CONTENDED = "store_contended"
    DRAINING = "draining"
    # frames the WebSocket could not use
    MALFORMED_JSON = "malformed_json"
    MALFORMED_FRAME = "malformed_frame"
    FRAME_TOO_BIG = "frame_too_big"  # the frame above MAX_FRAME_BYTES (close 1009)
    HELLO_REQUIRED = "hello_required"
    BAD_HELLO = "bad_hello"
    ALREADY_AUTHENTICATED = "already_authenticated"
    UNKNOWN_TYPE = "unknown_type"
    BAD_COMMAND = "bad_command"
    UNKNOWN_COMMAND = "unknown_command"
    # the operators' rollout API
    BAD_PLAN = "bad_plan"
    BAD_ROLLOUT_STATE = "bad_rollout_state"
    NO_ROLLOUT = "no_rollout"
    REFUSED = "refused"


class DisconnectReason(StrEnum):
    """Why a socket ended, as the server logs and counts it (`parlor_ws_disconnects_total{reason}`)."""

    CLIENT_CLOSE = "client_close"
    SERVER_RESTART = "server_restart"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    SLOW_CONSUMER = "slow_consumer"
    AUTH_FAILURE = "auth_failure"
    ABUSE = "abuse"
    REPLACED = "replaced"
    MOVED_TO_POLLING = "moved_to_polling"
    ROOM_GONE = "room_gone"
    ERROR = "error"
    MISSED_EVENT = "missed_event"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"

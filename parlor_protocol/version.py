"""Which protocol a client and a server speak, and which versions a server accepts.

A client sends `protocol` in its `hello` frame (and in the `X-Parlor-Protocol` header of its HTTP requests); the
server answers with its own in `welcome` and refuses a version outside [SUPPORTED_MIN, SUPPORTED_MAX] with close
code 4426 (CloseCode.UNSUPPORTED_PROTOCOL) or HTTP 426 with the error code `unsupported_protocol`. A client that
sends no version (the pages served before versions existed) speaks IMPLICIT_VERSION.

The version moves only when a change is not additive: a new optional field or frame type keeps it.
Readers look these names up on the module at call time (`version.accepts(v)`), so a test-only launcher can make a
server speak another version before it starts.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1  # what this side speaks
SUPPORTED_MIN = 1  # the oldest client version a server accepts
SUPPORTED_MAX = 1  # the newest
IMPLICIT_VERSION = 1  # a hello or a request without a version
HEADER = "X-Parlor-Protocol"
HELLO_FIELD = "protocol"


def accepts(version: int) -> bool:
    """Whether a server of this package accepts a client speaking `version`."""
    return SUPPORTED_MIN <= version <= SUPPORTED_MAX


def parse(raw: object, *, header: bool = False) -> int | None:
    """A client's announced version: the hello's JSON integer, or with `header` the header's decimal digits.
    Absent (None) is IMPLICIT_VERSION; anything else that is not a non-negative integer is None, which the
    caller refuses like a version it does not speak."""
    if raw is None:
        return IMPLICIT_VERSION
    if header:
        return int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 6 else None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 1_000_000:
        return raw
    return None


def refusal(version: int) -> str:
    """The close reason (at most 123 bytes) and error message for a version this server does not accept."""
    newer = version > SUPPORTED_MAX
    hint = "reload the page for the new version" if not newer else "this server is older than your page; retry soon"
    return f"protocol {version} unsupported (server speaks {SUPPORTED_MIN}-{SUPPORTED_MAX}): {hint}"

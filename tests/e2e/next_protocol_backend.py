"""A backend that speaks the next protocol version, and only it: a test-only entry point, never shipped.

`python -m tests.e2e.next_protocol_backend <python -m backend's arguments>` sets `parlor_protocol.version` before
the backend is imported (every server-side reader looks the names up at call time), then runs the backend's own
main, as a release of the next version would be.
"""

from __future__ import annotations

import sys

from parlor_protocol import version

NEXT = version.PROTOCOL_VERSION + 1


def speak_next() -> None:
    version.PROTOCOL_VERSION = version.SUPPORTED_MIN = version.SUPPORTED_MAX = NEXT


if __name__ == "__main__":
    speak_next()
    from backend.__main__ import main

    main(sys.argv[1:])

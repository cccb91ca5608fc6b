"""The game's vocabulary, defined in `parlor_protocol.vocabulary` (it crosses to the frontend) and re-exported here
for the engine and the server: every name of that module, nothing of its own."""

from __future__ import annotations

from parlor_protocol.vocabulary import *  # noqa: F403
from parlor_protocol.vocabulary import __all__ as __all__

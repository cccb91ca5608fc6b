"""The `websocket-transport` rollout flag: a flagd flag file evaluated in-process through OpenFeature.

`file` reads and atomically writes the flag file, `transport` decides per player, `audit` records who
changed what; `python -m backend.flags` is the release tool and /api/admin/flags the HTTP one.
"""

from backend.flags.audit import change_flag
from backend.flags.file import FLAG_KEY, FlagState, read_flag_file, write_flag_file
from backend.flags.transport import TransportFlag

__all__ = [
    "FLAG_KEY",
    "FlagState",
    "TransportFlag",
    "change_flag",
    "read_flag_file",
    "write_flag_file",
]

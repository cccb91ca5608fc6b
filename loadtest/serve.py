"""Run one ASGI app under uvicorn with the open-file soft limit raised to the hard limit.

`python -m loadtest.serve --app backend.main:app --port 8000`: the load tests start every server this way so
that the process being measured is the server itself (psutil reads its pid) and can hold thousands of sockets.
"""

from __future__ import annotations

import argparse
import resource

import uvicorn


def raise_nofile() -> int:
    """Lift this process's open-file soft limit to the hard limit; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", default="backend.main:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    raise_nofile()
    # the same options as `python -m backend`; a deep backlog absorbs thousands of simultaneous handshakes
    # no permessage-deflate, like `python -m backend`: every server in a comparison pays the same per frame
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_max_size=16384,
        ws_per_message_deflate=False,
        backlog=8192,
    )


if __name__ == "__main__":
    main()

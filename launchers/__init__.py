"""Real servers on 127.0.0.1 for the test suite and the benchmarks: start one, wait until it answers, stop it.

`tests/` and `loadtest/` both import this package and never each other; it is not part of the image.
Modules: `process` (free ports, waiting, stopping, the `Server` record), `backend`, `streamlit`, `chromium`,
`redis`, `nginx`, `prometheus`, `alertmanager`, and `container` (the image built and run with podman).
"""

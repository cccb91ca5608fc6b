"""What every Parlor process needs whatever its tier (backend, frontend, rollout autopilot, flag CLI): the one log
format, the build info metric and the version. Not the wire protocol (that is `parlor_protocol`, stdlib only):
this package may use the processes' shared dependencies (python-json-logger, pydantic-settings,
prometheus_client), and imports neither `backend` nor `frontend`.

    logs     configure_logging, the log context (bind, bound, current)
    build    register_build_info, build_labels
    version  VERSION
"""

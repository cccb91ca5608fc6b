#!/usr/bin/env bash
# Relock after changing dependencies in pyproject.toml: requirements.lock (runtime + the build backend, for the
# image and `scripts/run.sh`) and requirements-dev.lock (+ dev and loadtest, for the suite), both universal
# (every platform and Python 3.11.x: the image's Debian Python is 3.11.2, where redis needs async-timeout) and
# hashed for `pip install --require-hashes`. Pins already in a lock are kept unless --upgrade-package NAME
# (or --upgrade) is passed; extra arguments go to both `uv pip compile` runs. Why uv: docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/uv ]] || bash scripts/bootstrap.sh dev
# uv keeps its own certificate store; where downloads go through the host's trust settings, use the host's.
[[ -z "${SSL_CERT_FILE:-}" && -r /etc/ssl/certs/ca-certificates.crt ]] && export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
compile=(.venv/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes
  --group pyproject.toml:build --custom-compile-command "bash scripts/lock.sh")
"${compile[@]}" pyproject.toml -o requirements.lock "$@"
# The dev lock pins every runtime package exactly as the runtime lock does.
"${compile[@]}" pyproject.toml --extra dev -c requirements.lock -o requirements-dev.lock "$@"

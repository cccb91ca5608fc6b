#!/usr/bin/env bash
# The whole test suite: install what it needs, lint, type-check, then pytest (real servers, Redis,
# Prometheus, nginx and headless Chromium). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then echo "pytest collected no tests: that is a failure"; exit 1; fi
exit $status

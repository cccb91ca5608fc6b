#!/usr/bin/env bash
# Run the game: the backend (in-memory store) and the Streamlit frontend, then print the URL to open.
# Ctrl-C stops both. BACKEND_PORT and FRONTEND_PORT choose the ports (8000 and 8501 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
backend_port="${BACKEND_PORT:-8000}"
frontend_port="${FRONTEND_PORT:-8501}"
export BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:${backend_port}}"
export PUBLIC_BACKEND_URL="${PUBLIC_BACKEND_URL:-http://localhost:${backend_port}}"
# the browser page comes from the Streamlit port: let it open sockets and long-polls to the backend
export ALLOWED_ORIGINS="${ALLOWED_ORIGINS:-http://localhost:${frontend_port},http://127.0.0.1:${frontend_port}}"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
PARLOR_PORT="$backend_port" .venv/bin/python -m backend &
pids+=($!)
.venv/bin/streamlit run frontend/app.py --server.port "$frontend_port" --server.address 0.0.0.0 \
  --browser.gatherUsageStats false --browser.serverAddress localhost >/dev/null 2>&1 &
pids+=($!)
if .venv/bin/python -m launchers wait "http://127.0.0.1:${frontend_port}/_stcore/health" "${BACKEND_URL}/healthz"; then
  echo
  echo "Parlor is running. Open http://localhost:${frontend_port} in your browser."
  echo "(backend API: ${BACKEND_URL}/docs, metrics: ${BACKEND_URL}/metrics; Ctrl-C to stop)"
fi
wait -n "${pids[@]}"

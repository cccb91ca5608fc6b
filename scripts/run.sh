#!/usr/bin/env bash
# Run the game: the backend (in-memory store) and the Streamlit frontend, then print the URL to open.
# Ctrl-C stops both. BACKEND_PORT and FRONTEND_PORT choose the ports (8000 and 8501 by default).
# FRONTEND_REPLICAS=2 runs two Streamlit processes (on FRONTEND_PORT+1, +2) behind nginx on FRONTEND_PORT with
# deploy/nginx-frontend.conf (session affinity by cookie; needs nginx, e.g. Debian's nginx-light).
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
PARLOR_PORT="$backend_port" .venv/bin/parlor-backend &
pids+=($!)
replicas="${FRONTEND_REPLICAS:-1}"
streamlit() {  # port, metrics port
  FRONTEND_METRICS_PORT="$2" .venv/bin/parlor-frontend --server.port "$1" --server.address 0.0.0.0 \
    --browser.gatherUsageStats false --browser.serverAddress localhost >/dev/null 2>&1 &
  pids+=($!)
}
if (( replicas <= 1 )); then
  streamlit "$frontend_port" "${FRONTEND_METRICS_PORT:-9108}"
else
  nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  [[ -x "$nginx_bin" ]] || { echo "FRONTEND_REPLICAS needs nginx (apt-get install nginx-light)"; exit 1; }
  ports=()
  for i in $(seq 1 "$replicas"); do
    ports+=($((frontend_port + i)))
    streamlit "$((frontend_port + i))" "$((9108 + i))"
  done
  workdir="$PWD/var/nginx-frontend"
  mkdir -p "$workdir"
  # deploy/nginx-frontend.conf with these ports (its upstream servers and listen line), paths under var/
  .venv/bin/python - "$workdir" "$frontend_port" "${ports[@]}" <<'PY'
import sys
from pathlib import Path
from launchers.nginx import FRONTEND_TEMPLATE, render
workdir, listen, ports = Path(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
conf = render(FRONTEND_TEMPLATE.read_text(), listen, ports, workdir, "parlor_frontend")
(workdir / "nginx.conf").write_text(conf)
PY
  "$nginx_bin" -p "$workdir" -c "$workdir/nginx.conf" -g "daemon off; pid $workdir/nginx.pid; error_log stderr;" \
    >"$workdir/access.log" 2>&1 &
  pids+=($!)
fi
if .venv/bin/python -m launchers wait "http://127.0.0.1:${frontend_port}/_stcore/health" "${BACKEND_URL}/healthz"; then
  echo
  echo "Parlor is running. Open http://localhost:${frontend_port} in your browser."
  echo "(backend API: ${BACKEND_URL}/docs, metrics: ${BACKEND_URL}/metrics; Ctrl-C to stop)"
fi
wait -n "${pids[@]}"

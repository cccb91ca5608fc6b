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
PARLOR_PORT="$backend_port" .venv/bin/python -m backend &
pids+=($!)
replicas="${FRONTEND_REPLICAS:-1}"
streamlit() {  # port, metrics port
  FRONTEND_METRICS_PORT="$2" .venv/bin/streamlit run frontend/app.py --server.port "$1" --server.address 0.0.0.0 \
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
  # deploy/nginx-frontend.conf with these ports: its upstream servers, its listen line, paths under var/
  .venv/bin/python - "$workdir" "$frontend_port" "${ports[@]}" <<'PY'
import re, sys
from pathlib import Path
workdir, listen, ports = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
text = Path("deploy/nginx-frontend.conf").read_text()
servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in ports)
text = re.sub(r"(?m)^\s*server [\w.-]+:\d+ [^;]*;\n", "", text)
text = text.replace("hash $parlor_affinity consistent;\n", "hash $parlor_affinity consistent;\n" + servers, 1)
text = text.replace("listen 8501;", f"listen {listen};", 1)
temp = "".join(f"    {k}_temp_path {workdir / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
text = text.replace("http {\n", "http {\n" + temp, 1)
(workdir / "nginx.conf").write_text(text)
PY
  "$nginx_bin" -p "$workdir" -c "$workdir/nginx.conf" -g "daemon off; pid $workdir/nginx.pid; error_log stderr;" \
    >"$workdir/access.log" 2>&1 &
  pids+=($!)
fi
for _ in $(seq 1 100); do
  if .venv/bin/python -c "import httpx,sys; httpx.get('http://127.0.0.1:${frontend_port}/_stcore/health').raise_for_status()" 2>/dev/null \
     && .venv/bin/python -c "import httpx; httpx.get('${BACKEND_URL}/healthz').raise_for_status()" 2>/dev/null; then
    echo
    echo "Parlor is running. Open http://localhost:${frontend_port} in your browser."
    echo "(backend API: ${BACKEND_URL}/docs, metrics: ${BACKEND_URL}/metrics; Ctrl-C to stop)"
    break
  fi
  sleep 0.3
done
wait -n "${pids[@]}"

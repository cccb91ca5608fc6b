# One image for both processes:
#   backend (default):  python -m backend                      (uvicorn on 0.0.0.0:8000)
#   frontend:           streamlit run frontend/app.py --server.port 8501 --server.address 0.0.0.0
# The HEALTHCHECK probes the backend; deploy/docker-compose.yml overrides it for the frontend.
#
# BASE_IMAGE is any Debian bookworm with python3.11, venv and a `python` command: the official
# python:3.11-slim-bookworm (the default), or one made from Debian packages where no registry is reachable
# (docs/deploy.md: mmdebstrap + podman import). Keep HEALTHCHECK with podman: `podman build --format docker`.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PARLOR_HOST=0.0.0.0 \
    PARLOR_PORT=8000 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ENABLE_STATIC_SERVING=true
# The flag file is rewritten atomically by `python -m backend.flags` (rename within its directory), and the
# audit log goes to var/: the only places the app user may write. With a read-only root filesystem, mount
# a volume on the flag directory and a volume or tmpfs on var/ (docs/deploy.md).
RUN groupadd --system --gid 10001 parlor \
    && useradd --system --uid 10001 --gid parlor --create-home --home-dir /home/parlor \
       --shell /usr/sbin/nologin parlor \
    && mkdir -p /app/var \
    && chown 10001:10001 /app/var
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY backend ./backend
COPY frontend ./frontend
# The game shows the rules from this file.
COPY docs/rules.md ./docs/rules.md
COPY docs/rules.fr.md ./docs/rules.fr.md
COPY --chown=10001:10001 deploy/flags ./deploy/flags
# The rollout autopilot's plan (python -m backend.rollout); its state goes to var/ as well.
COPY deploy/rollout-plan.yaml ./deploy/rollout-plan.yaml
USER 10001:10001
EXPOSE 8000 8501 9108 9109
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "backend"]

# One image for both processes, Parlor installed as a package in /opt/venv:
#   backend (default):  parlor-backend                      (uvicorn on 0.0.0.0:8000, SIGTERM drain)
#   frontend:           parlor-frontend --server.port 8501 --server.address 0.0.0.0
# The HEALTHCHECK probes the backend; deploy/docker-compose.yml and the Kubernetes manifests probe the frontend.
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
# Every package pinned and checked against its hash (a universal lock: it holds the markers of Python 3.11.x).
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock
# Parlor's own wheel, built by the hatchling the lock just installed (no unhashed build dependency is fetched):
# the code, the word packs, the static files, the page's Streamlit config and the rules it shows.
COPY pyproject.toml /src/
COPY backend /src/backend
COPY frontend /src/frontend
COPY parlor_protocol /src/parlor_protocol
COPY parlor_runtime /src/parlor_runtime
COPY docs/rules.md docs/rules.fr.md /src/docs/
RUN pip install --no-cache-dir --no-deps --no-build-isolation /src

FROM ${BASE_IMAGE} AS runtime
# parlor_build_info's commit label: `--build-arg PARLOR_COMMIT=$(git rev-parse --short=12 HEAD)`
ARG PARLOR_COMMIT=unknown
ENV PATH=/opt/venv/bin:$PATH \
    PARLOR_COMMIT=${PARLOR_COMMIT} \
    LOG_FORMAT=json \
    PARLOR_HOST=0.0.0.0 \
    PARLOR_PORT=8000 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ENABLE_STATIC_SERVING=true
# The flag file is rewritten atomically by `parlor-flags` (rename within its directory), and the audit log
# goes to var/: the only places the app user may write. With a read-only root filesystem, mount a volume on
# the flag directory and a volume or tmpfs on var/ (docs/deploy.md).
RUN groupadd --system --gid 10001 parlor \
    && useradd --system --uid 10001 --gid parlor --create-home --home-dir /home/parlor \
       --shell /usr/sbin/nologin parlor \
    && mkdir -p /app/var \
    && chown 10001:10001 /app/var
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --chown=10001:10001 deploy/flags ./deploy/flags
# The rollout autopilot's plan (parlor-rollout); its state goes to var/ as well.
COPY deploy/rollout-plan.yaml ./deploy/rollout-plan.yaml
USER 10001:10001
EXPOSE 8000 8501 9108 9109
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["parlor-backend"]

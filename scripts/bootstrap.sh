#!/usr/bin/env bash
# Install what Parlor needs on a fresh Debian machine with Python 3.11: a virtualenv in .venv with the locked,
# hashed pip packages and Parlor itself (editable, with its console scripts), and (for the test suite) the Debian
# packages the tests run for real. Safe to run again.
#   scripts/bootstrap.sh run    runtime only (backend + frontend): requirements.lock
#   scripts/bootstrap.sh dev    runtime + tests + load tests + monitoring tools: requirements-dev.lock
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-dev}"

apt_packages=()
if [[ "$mode" == "dev" ]]; then
  command -v chromium >/dev/null || apt_packages+=(chromium)
  command -v node >/dev/null || apt_packages+=(nodejs)  # node --test runs the bridge's unit tests
  command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
  command -v promtool >/dev/null || apt_packages+=(prometheus)
  # amtool (config checks) and the alertmanager binary the alert-routing test runs
  command -v amtool >/dev/null || apt_packages+=(prometheus-alertmanager)
  command -v redis-server >/dev/null || apt_packages+=(redis-server)
  command -v redis-cli >/dev/null || apt_packages+=(redis-tools)  # redis-cli --cluster create (cluster tests)
  [[ -x /usr/sbin/nginx ]] || apt_packages+=(nginx-light)
  # so the status light's emoji render in headless screenshots
  [[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || apt_packages+=(fonts-noto-color-emoji)
  # the container tests: podman with runc builds and runs the image on a base mmdebstrap makes from Debian
  command -v podman >/dev/null || apt_packages+=(podman)
  command -v runc >/dev/null || apt_packages+=(runc)
  command -v mmdebstrap >/dev/null || apt_packages+=(mmdebstrap)
  command -v newuidmap >/dev/null || apt_packages+=(uidmap)
  command -v catatonit >/dev/null || apt_packages+=(catatonit)  # the pause process of a pod
  [[ -x /usr/lib/cni/bridge ]] || apt_packages+=(containernetworking-plugins)
  command -v npm >/dev/null || apt_packages+=(nodejs npm)  # axe-core and Lighthouse (package-lock.json)
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then apt_packages+=(python3-venv); fi
if (( ${#apt_packages[@]} )); then
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  echo "bootstrap: installing Debian packages: ${apt_packages[*]}"
  $sudo_cmd apt-get update -qq
  # The Debian prometheus/alertmanager/redis/nginx packages try to start services; we run them as plain processes instead.
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
lock="requirements.lock"
[[ "$mode" == "dev" ]] && lock="requirements-dev.lock"
stamp=".venv/.installed-$(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)-$mode"
if [[ ! -f "$stamp" ]]; then
  echo "bootstrap: installing Python packages from $lock"
  # Every package pinned and checked against the lock's hashes; a package missing from the lock is an error.
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  # Parlor itself, editable: the build backend (hatchling) came from the lock, so nothing unhashed is fetched.
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation --editable .
  touch "$stamp"
fi

# The browser audit tools, pinned in package-lock.json: axe-core (tests/frontend/test_browser_phone.py) and
# Lighthouse (loadtest/web_audit.py), into node_modules/. Only the tests and load tests need them.
if [[ "$mode" == "dev" ]]; then
  npm_stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
  if [[ ! -f "$npm_stamp" ]]; then
    echo "bootstrap: installing npm packages from package-lock.json"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$npm_stamp"
  fi
fi

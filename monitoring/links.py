"""Absolute runbook and dashboard links in the alerts: `python -m monitoring.links [--check]`.

Alertmanager, a pager or a chat message shows an alert's `runbook_url` and `dashboard_url` as they are: a
relative `docs/runbook.md#...` is not clickable there. The links are built from two base URLs, set where the
docs and Grafana are published, and written into the rule files and their unit tests (so `promtool test
rules` checks the very annotations Prometheus sends):

    PARLOR_DOCS_URL     where docs/ is served (default https://parlor.invalid/docs: set yours)
    PARLOR_GRAFANA_URL  Grafana's base URL (default http://127.0.0.1:3000, the compose stack's)

`--check` exits 1 when a committed file differs from what the defaults give. The Grafana dashboards
(monitoring/grafana/generate.py) link to the runbook from the same base.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "monitoring" / "prometheus"
DEFAULT_DOCS_URL = "https://parlor.invalid/docs"
DEFAULT_GRAFANA_URL = "http://127.0.0.1:3000"
DOCS_URL = os.environ.get("PARLOR_DOCS_URL", DEFAULT_DOCS_URL).rstrip("/")
GRAFANA_URL = os.environ.get("PARLOR_GRAFANA_URL", DEFAULT_GRAFANA_URL).rstrip("/")

ROLLOUT_DASHBOARD = "parlor-websocket-rollout"
BACKEND_DASHBOARD = "parlor-backend"
# Alerts about what players live through and the rollout open the rollout dashboard; the rest the backend's.
_ROLLOUT_ALERTS = re.compile(r"parlor(ws|message|disconnection|fallback|rollout)")

_RUNBOOK_LINE = re.compile(r"^(?P<indent>\s*)runbook_url: \S*#(?P<anchor>[a-z0-9-]+)\n", re.M)
_DASHBOARD_LINE = re.compile(r"^\s*dashboard_url: \S*\n", re.M)


def runbook_url(anchor: str, docs_url: str = DOCS_URL) -> str:
    return f"{docs_url}/runbook.md#{anchor}"


def dashboard_url(uid: str, grafana_url: str = GRAFANA_URL) -> str:
    return f"{grafana_url}/d/{uid}"


def dashboard_for(alert: str) -> str:
    return ROLLOUT_DASHBOARD if _ROLLOUT_ALERTS.match(alert.lower()) else BACKEND_DASHBOARD


def render(text: str, docs_url: str = DOCS_URL, grafana_url: str = GRAFANA_URL) -> str:
    """Every `runbook_url: ...#anchor` line made absolute and followed by the alert's `dashboard_url`."""
    text = _DASHBOARD_LINE.sub("", text)

    def links(match: re.Match[str]) -> str:
        indent, anchor = match["indent"], match["anchor"]
        return (
            f"{indent}runbook_url: {runbook_url(anchor, docs_url)}\n"
            f"{indent}dashboard_url: {dashboard_url(dashboard_for(anchor), grafana_url)}\n"
        )

    return _RUNBOOK_LINE.sub(links, text)


def files() -> list[Path]:
    return sorted((PROMETHEUS / "rules").glob("*alerts*.yml")) + sorted((PROMETHEUS / "tests").glob("*.test.yml"))


def stale(docs_url: str = DOCS_URL, grafana_url: str = GRAFANA_URL) -> list[Path]:
    return [p for p in files() if p.read_text() != render(p.read_text(), docs_url, grafana_url)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a rule or test file has other links")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"stale links: {path} (run python -m monitoring.links)", file=sys.stderr)
        return 1 if outdated else 0
    for path in files():
        path.write_text(render(path.read_text()))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The release manager's page in a real browser: a rollout started, a stage seen passing, paused, then aborted
from the page; the flag file and the audit chain show each step.

Real parts: the backend's admin API, the autopilot (`python -m backend.rollout start`), a Prometheus it
queries, Streamlit and Chromium. The plan is a stand-in (one check that always passes, a first stage held 3 s,
the second an hour), so the stage passes at once and the second one waits for the person.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.flags import write_flag_file
from backend.flags.file import read_flag_file
from launchers.backend import backend_env, backend_server
from launchers.process import ROOT, running, stop_process
from launchers.prometheus import prometheus_available, run_prometheus
from launchers.streamlit import run_streamlit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
]
TOKEN = "release-manager-token-0123456789"
PLAN = """
flag: websocket-transport
stages:
  - percent: 5
    hold: 3s
  - percent: 25
    hold: 1h
  - percent: 100
safe_state:
  enabled: false
analysis:
  interval: 1s
  warmup: 0s
  cohort:
    query: vector(100)
    min_connections: 1
  checks:
    - name: always_fine
      query: vector(0.5)
      success: "<= 1"
      description: a stand-in check that always passes
"""


@contextlib.contextmanager
def stack(tmp: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Prometheus, a backend with the admin API and the autopilot's files, and Streamlit; yields the page URL."""
    plan = tmp / "plan.yaml"
    plan.write_text(PLAN)
    files = {
        "ADMIN_TOKEN": TOKEN,
        "FLAGS_FILE": str(tmp / "flags.json"),
        "FLAGS_AUDIT_LOG": str(tmp / "audit.jsonl"),
        "ROLLOUT_PLAN_FILE": str(plan),
        "ROLLOUT_STATE_FILE": str(tmp / "rollout-state.json"),
    }
    write_flag_file(tmp / "flags.json", enabled=False, percent=0)
    (tmp / "prom").mkdir()
    with run_prometheus({"global": {"scrape_interval": "5s"}}, tmp / "prom") as prometheus:
        env = {**files, "ROLLOUT_PROMETHEUS_URL": prometheus.url}
        backend = backend_server(backend_env(env, tmp), tmp=tmp)
        with running(backend), run_streamlit(backend.url, tmp=tmp) as frontend:
            yield f"{frontend.url}/rollout", env


def confirm(page: Page, action: str, reason: str) -> None:
    page.get_by_role("button", name=action.capitalize(), exact=True).click()
    box = page.locator(".st-key-confirm-box")
    expect(box).to_contain_text(f"{action.capitalize()} the rollout?")
    box.get_by_label("Reason", exact=True).fill(reason)
    box.get_by_label("Reason", exact=True).press("Enter")
    box.get_by_role("button", name=f"Confirm {action}").click()


def audit(tmp: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp / "audit.jsonl").read_text().splitlines()]


def test_release_manager_watches_a_stage_pass_then_pauses_and_aborts(browser: Browser, tmp_path: Path) -> None:
    """Token typed (never in the URL), stage 1 -> 2 seen live, pause and abort confirmed with a reason; the
    flag file and the audit chain show each step with the manager's name."""
    with stack(tmp_path) as (url, env):
        autopilot = subprocess.Popen(
            [sys.executable, "-m", "backend.rollout", "start"],
            cwd=ROOT,
            env={**os.environ, **env, "USER": "rita", "ROLLOUT_METRICS_PORT": "0"},
            stdout=(tmp_path / "autopilot.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.get_by_label("Admin token", exact=True).fill(TOKEN)
            page.get_by_role("button", name="Open the rollout").click()
            expect(page.get_by_text("WebSocket rollout", exact=True)).to_be_visible()
            assert TOKEN not in page.url

            stage = page.locator('[data-testid="stMetric"]', has_text="Stage")
            expect(stage).to_contain_text("2 of 3")  # stage 1 held its 3 s of passing checks and advanced
            expect(page.locator('[data-testid="stMetric"]', has_text="Cohort")).to_contain_text("25 %")
            expect(page.locator(".st-key-check-always_fine")).to_contain_text("success")
            assert read_flag_file(tmp_path / "flags.json").to_dict() == {"enabled": True, "percent": 25}
            if os.environ.get("PARLOR_SCREENSHOTS"):  # docs/img/rollout-page.png: let the chart fill a little
                page.wait_for_timeout(20_000)
                page.screenshot(path=os.environ["PARLOR_SCREENSHOTS"] + "/rollout-page.png", full_page=True)

            page.get_by_label("Your name", exact=True).fill("Rita")
            page.get_by_label("Your name", exact=True).press("Enter")
            confirm(page, "pause", "latency looks odd, watching")
            expect(page.get_by_text("pause: phase paused, 25 %")).to_be_visible()
            expect(page.get_by_text("paused", exact=True)).to_be_visible()
            assert read_flag_file(tmp_path / "flags.json").to_dict() == {"enabled": True, "percent": 25}

            confirm(page, "abort", "not today")
            expect(page.get_by_text("abort: phase aborted")).to_be_visible()
            assert autopilot.wait(30) == 0
        finally:
            stop_process(autopilot)  # type: ignore[arg-type]

    assert read_flag_file(tmp_path / "flags.json").to_dict()["enabled"] is False
    chain = audit(tmp_path)
    steps = [(r["actor"], r["action"]) for r in chain]
    assert steps[:2] == [("rollout-autopilot", "autopilot-start"), ("rollout-autopilot", "autopilot-advance")]
    assert ("Rita (admin api)", "autopilot-pause") in steps and steps[-1] == ("Rita (admin api)", "autopilot-abort")
    reasons = {r["action"]: r["reason"] for r in chain if r["actor"] == "Rita (admin api)"}
    assert reasons["autopilot-pause"].endswith(": latency looks odd, watching")
    assert reasons["autopilot-abort"].endswith("(flag set to the safe state): not today")
    for before, after in itertools.pairwise(chain):
        assert after["before"] == before["after"]  # an unbroken chain

"""A smoke run of the browser load harness: a handful of real pages for a few seconds, nothing lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchers.nginx import nginx_available
from loadtest import browser_load

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not nginx_available(), reason="needs nginx"),
]


@pytest.fixture(autouse=True)
def short_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_load, "IDLE_SECONDS", 1.0)


def test_a_few_pages_see_every_clue_exactly_once(tmp_path: Path) -> None:
    """3 pages in one room behind nginx get every clue once; the per-process figures and the report come out."""
    results = browser_load.run(players=[3], intervals=[1.0], seconds=3, two_frontends=False)
    assert len(results) == 1
    result = results[0]
    assert result.clues_posted >= 2
    assert result.missing == 0 and result.doubled == 0 and result.page_reloads == 0
    assert len(result.samples_ms) == 3 * result.clues_posted
    assert all(sample > 0 for sample in result.samples_ms)
    (usage,) = result.replicas
    assert usage.sessions == 3 and usage.deliveries == len(result.samples_ms)
    assert usage.cpu_seconds > 0 and usage.rss_bytes > usage.rss_idle_bytes > 0
    assert result.cpu["chromium"] > 0 and result.wall_seconds > 0

    text = browser_load.markdown(results, "python -m loadtest.browser_load --players 3 --seconds 3")
    assert "| 3 | 1 | 1 s | 1 |" in text
    assert all(path.stat().st_size > 0 for path in browser_load.plot(results, tmp_path))


def test_protocol_players_beside_pages_are_reported_apart(tmp_path: Path) -> None:
    """2 pages and 2 protocol-level players (each a Streamlit session and a backend socket), in rooms of their own:
    both populations get every clue of their room once, and the mixed report and plot show both."""
    results = browser_load.run(players=[2], intervals=[1.0], seconds=3, two_frontends=False, light=2)
    assert len(results) == 1
    for result in results:
        assert (result.pages, result.light, result.rooms) == (2, 2, 2)
        assert result.missing == result.doubled == result.light_missing == result.light_doubled == 0
        assert result.samples_ms and result.light_samples_ms
        assert all(sample > 0 for sample in result.light_samples_ms)
        assert result.chromium_idle_seconds > 0
    text = browser_load.mixed_markdown(results, "python -m loadtest.browser_load --players 2 --light 2")
    assert "| 4 | 2 | 2 | 1 | 1 s | 2 |" in text
    assert browser_load.plot_mixed(results, tmp_path).stat().st_size > 0

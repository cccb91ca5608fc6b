"""The soak benchmark on a short window: both backends play games and churn sockets, every series is sampled,
and the slope is what a least-squares fit says."""

from __future__ import annotations

import pytest

from launchers.redis import redis_available
from loadtest.soak import SERIES, Sample, main, slope_percent_per_10min


def _sample(minute: float, rss: float) -> Sample:
    return Sample(minute, rss, 10, 5.0, 2.0, None, 0, 0)


def test_slope_of_the_last_half_in_percent_per_ten_minutes() -> None:
    """A series rising 1 MB a minute from 100 MB over its last half reads about +9 % per 10 minutes; flat is 0."""
    rising = [_sample(m, 100.0 if m < 10 else 100.0 + (m - 10)) for m in range(21)]
    assert slope_percent_per_10min(rising, "rss_mb") == pytest.approx(100 * 10 / 105, rel=1e-6)
    assert slope_percent_per_10min([_sample(m, 90.0) for m in range(10)], "rss_mb") == 0.0
    assert slope_percent_per_10min(rising, "redis_mb") is None


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.skipif(not redis_available(), reason="needs redis-server")
def test_soak_smoke_run_plays_games_churns_sockets_and_samples_every_series() -> None:
    """20 s on memory and on Redis: games finished, sockets churned, no errors, a sample of every series."""
    runs = main(["--minutes", "0.33", "--sample-seconds", "5", "--no-report", "--games", "1", "--game-pause", "0"])
    for run in runs:
        assert run.games > 0 and run.sockets > 0 and not run.errors, (run.store, run.errors)
        assert len(run.samples) >= 3
        last = run.samples[-1]
        assert last.rss_mb > 10 and last.open_files > 0 and last.asyncio_tasks > 0
        assert (last.redis_mb is not None) == (run.store == "redis")
    assert "rooms_held" in SERIES

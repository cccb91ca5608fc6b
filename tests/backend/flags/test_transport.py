"""TransportFlag over the real flagd file provider: rollout, stickiness, hot reload, kill switch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from backend.flags import FlagState, TransportFlag, write_flag_file
from backend.metrics import Metrics
from tests.backend.flags.conftest import PICKUP_DEADLINE_SECONDS, wait_for_state

PLAYERS = [f"player-{i:05d}" for i in range(10_000)]

StartFlag = Callable[..., TransportFlag]


def websocket_cohort(flag: TransportFlag) -> set[str]:
    return {player for player in PLAYERS if flag.transport_for(player) == "websocket"}


@pytest.mark.parametrize("percent", [0, 10, 50, 100])
def test_rollout_share_is_within_two_points(flags_file: Path, start_flag: StartFlag, percent: int) -> None:
    """Over 10,000 player ids the websocket share is within 2 points of the configured percent."""
    write_flag_file(flags_file, enabled=True, percent=percent)
    flag = start_flag(flags_file)
    share = 100 * len(websocket_cohort(flag)) / len(PLAYERS)
    assert abs(share - percent) <= 2, share


def test_raising_the_rollout_keeps_earlier_players_in(flags_file: Path, start_flag: StartFlag) -> None:
    """Players on websocket at 10 % are all still on websocket after the running flag moves to 50 %."""
    write_flag_file(flags_file, enabled=True, percent=10)
    flag = start_flag(flags_file)
    at_10 = websocket_cohort(flag)
    write_flag_file(flags_file, enabled=True, percent=50)
    wait_for_state(flag, FlagState(enabled=True, percent=50))
    at_50 = websocket_cohort(flag)
    assert at_10 and at_10 < at_50


def test_same_player_gets_the_same_transport_in_every_process(flags_file: Path, start_flag: StartFlag) -> None:
    """Two independent instances agree player by player (the bucket depends only on flag key and id)."""
    write_flag_file(flags_file, enabled=True, percent=30)
    first, second = start_flag(flags_file), start_flag(flags_file)
    assert [first.transport_for(p) for p in PLAYERS[:2000]] == [second.transport_for(p) for p in PLAYERS[:2000]]


def test_disabled_flag_puts_everyone_on_polling(flags_file: Path, start_flag: StartFlag) -> None:
    """A DISABLED flag means polling for every player whatever the percent."""
    write_flag_file(flags_file, enabled=False, percent=100)
    flag = start_flag(flags_file)
    assert flag.state == FlagState(enabled=False, percent=100)
    assert websocket_cohort(flag) == set()


def test_rewritten_file_is_picked_up_within_two_seconds(flags_file: Path, start_flag: StartFlag) -> None:
    """A running flag applies a rewritten file, without restart, in under 2 s."""
    flag = start_flag(flags_file)
    assert flag.transport_for("player-1") == "websocket"
    write_flag_file(flags_file, enabled=False, percent=100)
    began = time.monotonic()
    wait_for_state(flag, FlagState(enabled=False, percent=100))
    # What the player gets comes from the provider's own reload, which the state may precede by one poll.
    while flag.transport_for("player-1") != "polling":
        assert time.monotonic() - began < PICKUP_DEADLINE_SECONDS, "player-1 still on websocket"
        time.sleep(0.01)
    assert time.monotonic() - began < PICKUP_DEADLINE_SECONDS


def test_kill_switch_wins_over_the_flag(flags_file: Path, start_flag: StartFlag) -> None:
    """kill_switch=False puts everyone on polling and reports the flag disabled even at 100 %."""
    registry = CollectorRegistry()
    flag = start_flag(flags_file, kill_switch=False, metrics=Metrics(registry))
    assert flag.state == FlagState(enabled=False, percent=100)
    assert websocket_cohort(flag) == set()
    assert registry.get_sample_value("parlor_flag_enabled") == 0
    assert registry.get_sample_value("parlor_flag_evaluations_total", {"transport": "websocket"}) == 0
    assert registry.get_sample_value("parlor_flag_evaluations_total", {"transport": "polling"}) == len(PLAYERS)


def test_listener_gets_the_new_state_off_the_calling_thread(flags_file: Path, start_flag: StartFlag) -> None:
    """Listeners are called once with the new state, on an OpenFeature handler thread."""
    flag = start_flag(flags_file)
    calls: list[tuple[FlagState, str]] = []
    called = threading.Event()

    def listener(state: FlagState) -> None:
        calls.append((state, threading.current_thread().name))
        called.set()

    flag.add_listener(listener)
    write_flag_file(flags_file, enabled=True, percent=25)
    assert called.wait(PICKUP_DEADLINE_SECONDS)
    time.sleep(0.6)  # a couple more polls: an unchanged file must not call again
    assert [state for state, _ in calls] == [FlagState(enabled=True, percent=25)]
    assert calls[0][1] != threading.main_thread().name


def test_metrics_follow_the_flag(flags_file: Path, start_flag: StartFlag) -> None:
    """Gauges show the applied state and the change counter counts picked-up changes."""
    registry = CollectorRegistry()
    flag = start_flag(flags_file, metrics=Metrics(registry))
    assert registry.get_sample_value("parlor_flag_enabled") == 1
    assert registry.get_sample_value("parlor_flag_rollout_percent") == 100
    write_flag_file(flags_file, enabled=True, percent=40)
    wait_for_state(flag, FlagState(enabled=True, percent=40))
    assert registry.get_sample_value("parlor_flag_rollout_percent") == 40
    assert registry.get_sample_value("parlor_flag_changes_total") == 1
    flag.transport_for("player-1")
    total = sum(
        registry.get_sample_value("parlor_flag_evaluations_total", {"transport": t}) or 0
        for t in ("websocket", "polling")
    )
    assert total == 1


def test_missing_file_defaults_to_websocket_until_it_appears(tmp_path: Path, start_flag: StartFlag) -> None:
    """Without a file everyone gets websocket; a file created later is picked up."""
    path = tmp_path / "absent.json"
    flag = start_flag(path)
    assert flag.state == FlagState(enabled=True, percent=100)
    assert flag.transport_for("player-1") == "websocket"
    write_flag_file(path, enabled=True, percent=0)
    wait_for_state(flag, FlagState(enabled=True, percent=0))
    assert flag.transport_for("player-1") == "polling"


def test_broken_file_keeps_the_last_good_state(flags_file: Path, start_flag: StartFlag) -> None:
    """A half-edited, unparsable file leaves the running rollout as it was."""
    write_flag_file(flags_file, enabled=True, percent=10)
    flag = start_flag(flags_file)
    before = websocket_cohort(flag)
    flags_file.write_text('{"flags": {')
    time.sleep(0.8)
    assert flag.state == FlagState(enabled=True, percent=10)
    assert websocket_cohort(flag) == before


def test_stop_stops_watching(flags_file: Path, start_flag: StartFlag) -> None:
    """After stop() a rewritten file is no longer applied."""
    flag = start_flag(flags_file)
    flag.stop()
    write_flag_file(flags_file, enabled=False, percent=0)
    time.sleep(0.8)
    assert flag.state == FlagState(enabled=True, percent=100)

"""The runner's I/O rules on real files: a person's hand on the flag pauses it; a decision cut off by a kill is
finished on the next start. Prometheus is a closed port: neither rule may depend on it."""

from __future__ import annotations

from pathlib import Path

from backend.flags import change_flag, read_flag_file, write_flag_file
from backend.rollout.analysis import Prometheus
from backend.rollout.engine import Autopilot, Phase
from backend.rollout.plan import load_plan
from backend.rollout.runner import Controller, Runner
from backend.rollout.store import StateStore
from launchers.process import free_port
from tests.backend.rollout.conftest import PLAN, audit


def runner(tmp_path: Path) -> Runner:
    flags = tmp_path / "flags.json"
    write_flag_file(flags, enabled=False, percent=0)
    controller = Controller(load_plan(PLAN), StateStore(tmp_path / "state.json"), flags, tmp_path / "audit.jsonl")
    return Runner(controller, Prometheus(f"http://127.0.0.1:{free_port()}", 2), actor="rollout-autopilot")


def test_a_flag_changed_by_hand_pauses_the_autopilot_without_touching_the_flag(tmp_path: Path) -> None:
    """Someone sets 30 % with the release tool mid-stage: the next round pauses, audited, and leaves 30 %."""
    pilot = runner(tmp_path)
    assert pilot.begin(new=False) is not None
    flags = pilot.controller.flags_file
    change_flag(flags, pilot.controller.audit_log, action="set-rollout", actor="carol", reason="by hand", percent=30)
    state = pilot.tick()
    assert state.phase == Phase.PAUSED
    assert "changed outside the autopilot" in state.reason and "'percent': 30" in state.reason
    assert read_flag_file(flags).to_dict() == {"enabled": True, "percent": 30}
    last = audit(pilot.controller.audit_log)[-1]
    assert last["action"] == "autopilot-pause" and last["before"] == last["after"]


def test_a_decision_saved_but_not_written_is_finished_on_the_next_start(tmp_path: Path) -> None:
    """Killed between saving an advance and writing the flag: the next start writes it (once) and carries on."""
    pilot = runner(tmp_path)
    assert pilot.begin(new=False) is not None
    store = pilot.store
    step = Autopilot(pilot.plan).promote(store.load(), 10.0, "tested")  # type: ignore[arg-type]
    assert step.decision is not None
    with store.locked():  # what commit does before the flag write, and nothing after it
        store.save(step.state.model_copy(update={"pending": step.decision.target("rollout-autopilot")}))
    assert read_flag_file(pilot.controller.flags_file).percent == 1

    again = pilot.begin(new=False)
    assert again is not None and again.pending is None and again.stage == 1
    assert read_flag_file(pilot.controller.flags_file).to_dict() == {"enabled": True, "percent": 10}
    records = audit(pilot.controller.audit_log)
    assert [r["action"] for r in records] == ["autopilot-start", "autopilot-promote"]
    assert records[-1]["reason"].endswith("(re-applied after a restart)")
    assert pilot.begin(new=False) is not None and len(audit(pilot.controller.audit_log)) == 2  # not twice

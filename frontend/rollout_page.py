"""The release manager's page (`/rollout`): the WebSocket rollout as the autopilot sees it, and a person's say.

Shows the plan's stages with the current one, the cohort percentage, each check's last value against its
threshold with a chart of it since the stage began (from Prometheus, through the backend), the hold left,
and the decisions so far (the flag's audit chain: who, when, why). Pause, resume, promote and abort each ask
for a reason and a confirmation, then go through `POST /api/admin/rollout/{action}`, the same lock, writer
and audit as `python -m backend.rollout`.

Everything comes from the backend's admin API, so the page needs ADMIN_TOKEN: typed into a password field,
kept in this browser session's state only, sent as a bearer header from the Streamlit server, never in a
URL. The live part refreshes itself every few seconds (a fragment), the rest only on a click.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import streamlit as st

from frontend.config import get_settings

REFRESH_SECONDS = 3.0
ACTIONS = {
    "pause": "Stop deciding; the flag stays where it is",
    "resume": "Carry on with this stage (the hold starts again)",
    "promote": "Go to the next stage now, skipping the rest of the hold",
    "abort": "End the rollout and set the plan's safe state",
}
PHASE_COLOURS = {
    "running": "blue",
    "paused": "orange",
    "completed": "green",
    "rolled_back": "red",
    "aborted": "gray",
    "idle": "gray",
}


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _admin(method: str, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = get_settings()
    try:
        response = httpx.request(
            method,
            f"{settings.backend_url}/api/admin{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.request_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise AdminError(0, f"the backend did not answer: {exc}") from exc
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            message = f"{error['message']} (request {error.get('request_id', '?')})"
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise AdminError(response.status_code, message)
    payload: dict[str, Any] = response.json()
    return payload


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _sign_in() -> None:
    st.title("Rollout")
    st.caption("For the release manager: the WebSocket rollout, its checks and its decisions.")
    with st.form("sign-in"):
        token = st.text_input("Admin token", type="password", help="ADMIN_TOKEN of the backend; never put in a URL")
        if st.form_submit_button("Open the rollout"):
            try:
                _admin("GET", "/rollout", token)
            except AdminError as exc:
                st.error(f"Refused: {exc.message}" if exc.status in (401, 404) else exc.message)
                return
            st.session_state["admin_token"] = token
            st.rerun()


def _header(view: dict[str, Any]) -> None:
    phase = view["phase"]
    colour = PHASE_COLOURS.get(phase, "gray")
    stages = view["stages"]
    cols = st.columns(5)
    cols[0].markdown(f"**Phase**  \n:{colour}[**{phase.replace('_', ' ')}**]")
    cols[1].metric("Cohort on WebSocket", "-" if view["percent"] is None else f"{view['percent']} %")
    cols[2].metric("Stage", "-" if view["stage"] is None else f"{view['stage']} of {len(stages)}")
    hold = "warming up" if view["warming_up"] else _duration(view["hold_remaining_seconds"])
    cols[3].metric("Hold left", hold)
    cols[4].metric("Autopilot", "running" if view["autopilot_running"] else "not running")
    if view["reason"]:
        st.caption(f"Why: {view['reason']}")
    st.caption(
        f"Stage since {_when(view['stage_started_at'])} · {view['evaluations']} evaluations, "
        f"the last at {_when(view['last_evaluation_at'])}"
    )


def _stages(view: dict[str, Any]) -> None:
    rows = [
        {
            "": "▶" if s["current"] else "",
            "stage": s["stage"],
            "percent": f"{s['percent']} %",
            "hold": _duration(s["hold_seconds"]),
        }
        for s in view["stages"]
    ]
    st.dataframe(rows, hide_index=True, use_container_width=True)


def _checks(view: dict[str, Any]) -> None:
    checks = view["checks"]
    cols = st.columns(max(1, min(len(checks), 4)))
    for n, check in enumerate(checks):
        with cols[n % len(cols)], st.container(border=True, key=f"check-{check['name']}"):
            value = check["value"]
            shown = "no value" if value is None else f"{value:.4g}"
            verdict = check["verdict"] or "not evaluated"
            mark = {"success": "✅", "failure": "❌", "inconclusive": "❔"}.get(verdict, "·")
            st.markdown(f"**{check['name']}** {mark}")
            st.markdown(f"`{shown}` must be `{check['op']} {check['threshold']:g}` · {verdict}")
            if check["series"]:
                start = check["series"][0][0]
                points = {
                    "minutes into the stage": [(t - start) / 60 for t, _ in check["series"]],
                    "value": [v for _, v in check["series"]],
                    "threshold": [check["threshold"]] * len(check["series"]),
                }
                st.line_chart(points, x="minutes into the stage", y=["value", "threshold"], height=220)
            elif check["series_error"]:
                st.caption(f"no chart: {check['series_error']}")
            st.caption(check["description"] or check["query"])


def _history(view: dict[str, Any]) -> None:
    rows = [
        {
            "when": str(r.get("ts", ""))[:19].replace("T", " "),
            "who": r.get("actor"),
            "action": r.get("action"),
            "percent": (r.get("after") or {}).get("percent"),
            "enabled": (r.get("after") or {}).get("enabled"),
            "why": r.get("reason") or "",
        }
        for r in reversed(view["history"])
    ]
    st.dataframe(rows, hide_index=True, use_container_width=True, key="history")


@st.fragment(run_every=REFRESH_SECONDS)
def _live(token: str) -> None:
    try:
        view = _admin("GET", "/rollout", token)
    except AdminError as exc:
        st.error(exc.message)
        return
    st.session_state["rollout_phase"] = view["phase"]
    _header(view)
    st.subheader("Stages")
    _stages(view)
    st.subheader("Checks since the stage began")
    _checks(view)
    st.subheader("Decisions (newest first)")
    _history(view)


def _actions(token: str) -> None:
    st.subheader("Take over")
    actor = st.text_input("Your name", key="actor", help="Recorded in the audit log with your reason")
    cols = st.columns(len(ACTIONS))
    for col, (action, help_text) in zip(cols, ACTIONS.items(), strict=True):
        if col.button(action.capitalize(), key=f"ask-{action}", help=help_text, use_container_width=True):
            st.session_state["rollout_asked"] = action
    asked: str | None = st.session_state.get("rollout_asked")
    if asked is None:
        return
    with st.container(border=True, key="confirm-box"):
        st.markdown(f"**{asked.capitalize()} the rollout?** {ACTIONS[asked]}.")
        reason = st.text_input("Reason", key=f"reason-{asked}")
        yes, no = st.columns(2)
        if no.button("Cancel", key="cancel"):
            st.session_state.pop("rollout_asked", None)
            st.rerun()
        if yes.button(f"Confirm {asked}", key="confirm", type="primary"):
            if not actor.strip() or not reason.strip():
                st.warning("Give your name and a reason: both go into the audit log.")
                return
            try:
                done = _admin("POST", f"/rollout/{asked}", token, {"actor": actor.strip(), "reason": reason.strip()})
            except AdminError as exc:
                st.error(exc.message)
                return
            st.session_state.pop("rollout_asked", None)
            st.session_state["last_done"] = f"{done['decision']}: phase {done['phase']}, {done['percent']} %"
            st.rerun()


def run() -> None:
    st.set_page_config(page_title="Parlor · Rollout", page_icon="🚦", layout="wide")
    token = st.session_state.get("admin_token")
    if not token:
        _sign_in()
        return
    st.title("WebSocket rollout")
    if st.session_state.get("last_done"):
        st.success(st.session_state["last_done"])
    _live(token)
    _actions(token)
    if st.button("Sign out", key="sign-out"):
        st.session_state.pop("admin_token", None)
        st.rerun()

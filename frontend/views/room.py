"""A room in every phase: lobby, game (discussion and voting), game over; spectators watch the game.

Each phase is drawn in two parts. The live part (the clue feed and the player list) is one HTML element that
the event-driven fragment redraws on every batch of events, so a clue costs Streamlit one delta. Everything
else (forms, buttons, the word card) is drawn by full-app runs only: `layout_key` names what it depends on,
and the fragment asks for a full run when a batch changes that key (a phase change, a vote of yours).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from backend.game.vocabulary import Phase, PlayerView, Role, Winner, YouView
from frontend.api import Api, Seat
from frontend.state import State, limit, span
from frontend.views.common import countdown_html, esc, md, run_action, show_flash

IN_GAME = (Phase.DISCUSSION, Phase.VOTING)


def undercover_choices(state: State) -> dict[str, int | None]:
    """The undercover-count menu: automatic, or each count the game's limits allow."""
    low, high = span(state, "undercover_count")
    counts = range(low, high + 1) if low is not None and high is not None else range(0)
    return {"Automatic": None} | {f"{n} undercover{'s' if n > 1 else ''}": n for n in counts}


def render(state: State, api: Api, seat: Seat, share_url: str, live: Callable[[], None] | None = None) -> None:
    """Draw the room; `live` draws the live part in place (default: `render_live` of this same state)."""
    show_flash()
    removed = state.get("removed")
    if removed:
        st.warning("You are no longer in this room." if removed != "kicked" else "The host removed you.")
        (live or (lambda: None))()
        return
    live = live or (lambda: render_live(state))
    phase = state.get("phase")
    if phase == Phase.LOBBY:
        _lobby(state, api, seat, share_url)
        live()
    elif phase in IN_GAME:
        _game(state, api, seat, live)
    else:
        _game_over(state, api, seat, live)


def live_html(state: State) -> str:
    """The live part of the room as one piece of HTML ("" when the phase has none)."""
    if state.get("removed"):
        return ""
    phase = state.get("phase")
    if phase in IN_GAME:
        players = [p for p in state.get("players") or [] if not p.get("spectator")]
        watchers = [p for p in state.get("players") or [] if p.get("spectator")]
        rows = "".join(_player_row(p, in_game=True, phase=str(phase)) for p in players)
        if watchers:
            rows += f'<div class="parlor-caption">Watching: {esc(", ".join(p["name"] for p in watchers))}</div>'
        return (
            f'<div class="parlor-live">{_clue_feed_html(state)}'
            f'<div><div class="parlor-heading">Players</div>{rows}</div></div>'
        )
    if phase == Phase.FINISHED:
        return _clue_feed_html(state)
    return ""


def render_live(state: State) -> None:
    html = live_html(state)
    if html:
        st.html(html)


def layout_key(state: State) -> str:
    """What the parts outside the live HTML are drawn from: when it changes, the whole page must be redrawn."""
    you: YouView = state.get("you") or {}
    phase = state.get("phase")
    key: dict[str, Any] = {"phase": phase, "removed": state.get("removed"), "host": you.get("is_host")}
    players = state.get("players") or []
    if phase == Phase.LOBBY:
        key["code"] = state.get("room_code")
        key["players"] = [[p["id"], p["name"], p.get("online"), p.get("is_host"), p.get("is_bot")] for p in players]
        key["settings"] = state.get("settings")
    elif phase in IN_GAME:
        key.update({k: state.get(k) for k in ("game", "round", "deadline", "settings", "last_result")})
        key["you"] = [you.get(k) for k in ("word", "alive", "spectator", "ready", "voted_for")]
        key["players"] = [[p["id"], p["name"], p.get("alive"), p.get("spectator")] for p in players]
    else:
        key["game_over"] = state.get("game_over")
        key["players"] = [[p["id"], p.get("alive")] for p in players]
    return json.dumps(key, sort_keys=True, default=str)


# ---- lobby -------------------------------------------------------------------------------------------------


def _player_row(p: PlayerView, *, in_game: bool = False, phase: str = "") -> str:
    """One player as `<p data-player=ID class="on|off">name tags</p>`; the dot is CSS (see _clue_feed_html:
    each element and attribute costs DOMPurify time on every live update)."""
    tags = []
    if p.get("is_host"):
        tags.append('<span class="parlor-tag host">host</span>')
    if p.get("is_bot"):
        tags.append('<span class="parlor-tag">bot</span>')
    if p.get("spectator"):
        tags.append('<span class="parlor-tag">watching</span>')
    name = esc(p["name"])
    if in_game and not p.get("alive") and not p.get("spectator"):
        role = p.get("role")
        tags.append(f'<span class="parlor-tag out">out{" · " + esc(role) if role else ""}</span>')
        name = f"<s>{name}</s>"
    elif in_game and phase == Phase.VOTING and p.get("has_voted"):
        tags.append('<span class="parlor-tag voted">✓ voted</span>')
    elif in_game and phase == Phase.DISCUSSION and p.get("ready"):
        tags.append('<span class="parlor-tag ready">ready</span>')
    dot = "on" if p.get("online") else "off"
    return f'<p data-player="{esc(p["id"])}" class="{dot}">{name}{"".join(tags)}</p>'


def _lobby(state: State, api: Api, seat: Seat, share_url: str) -> None:
    you: YouView = state.get("you") or {}
    is_host = bool(you.get("is_host"))
    players = state.get("players") or []
    st.html(
        '<div class="parlor-card" style="text-align:center"><div class="parlor-label">Room code</div>'
        f'<div class="parlor-code" data-testid="room-code">{esc(state["room_code"])}</div></div>'
    )
    st.caption("Share this link so friends can join:")
    st.code(share_url, language=None)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(f"#### Players ({len(players)}/{limit(state, 'max_players')})")
        for p in players:
            row, action = st.columns([5, 1], vertical_alignment="center")
            row.html(_player_row(p))
            if is_host and p["id"] != seat.player_id:
                action.button(
                    "✕",
                    key=f"remove-{p['id']}",
                    help=f"Remove {md(p['name'])}",
                    on_click=run_action,
                    args=(api.remove_player, seat, p["id"]),
                )
        min_players = limit(state, "min_players")
        if len(players) < min_players:
            st.caption(f"{min_players - len(players)} more player(s) needed to start. Bots count.")
    with right:
        settings = state.get("settings") or {"discussion_seconds": 0, "voting_seconds": 0, "undercover_count": None}
        if is_host:
            st.markdown("#### Host controls")
            st.button("Add a bot", icon="🤖", use_container_width=True, on_click=run_action, args=(api.add_bot, seat))
            with st.form("settings", border=True):
                low, high = span(state, "discussion_seconds")
                disc = st.number_input("Discussion (seconds)", low, high, settings["discussion_seconds"], step=10)
                low, high = span(state, "voting_seconds")
                vote = st.number_input("Voting (seconds)", low, high, settings["voting_seconds"], step=5)
                choices = undercover_choices(state)
                current = {v: k for k, v in choices.items()}.get(settings.get("undercover_count"))
                names = list(choices)
                choice = st.selectbox("Undercovers", names, index=names.index(current or "Automatic"))
                if st.form_submit_button("Save settings", use_container_width=True):
                    changes = {
                        "discussion_seconds": int(disc),
                        "voting_seconds": int(vote),
                        "undercover_count": choices[choice],
                    }
                    run_action(api.settings, seat, changes)
                    show_flash()
            st.button(
                "Start game",
                type="primary",
                use_container_width=True,
                disabled=len(players) < min_players,
                on_click=run_action,
                args=(api.start, seat),
            )
        else:
            st.markdown("#### Settings")
            uc = settings.get("undercover_count")
            st.markdown(
                f"- Discussion: **{settings.get('discussion_seconds')} s**\n"
                f"- Voting: **{settings.get('voting_seconds')} s**\n"
                f"- Undercovers: **{uc or 'automatic'}**"
            )
            st.info("Waiting for the host to start the game…")


# ---- game --------------------------------------------------------------------------------------------------


def _phase_header_html(state: State) -> str:
    phase = state["phase"]
    settings = state.get("settings")
    total = (settings["discussion_seconds" if phase == Phase.DISCUSSION else "voting_seconds"]) if settings else 0
    title = "Discussion" if phase == Phase.DISCUSSION else "Voting"
    sub = (
        "Give a clue about your word without saying it."
        if phase == Phase.DISCUSSION
        else "Who is the undercover? Vote someone out."
    )
    return (
        '<div class="parlor-phase"><div>'
        f'<div class="parlor-label">Game {state.get("game", 1)} · Round {state.get("round", 1)}</div>'
        f'<div class="parlor-phase-title" data-testid="phase">{title}</div>'
        f'<div class="parlor-phase-sub">{sub}</div></div>'
        f"{countdown_html(state.get('deadline'), total)}</div>"
    )


def _word_card_html(you: YouView) -> str:
    if you.get("spectator") or not you.get("word"):
        return (
            '<div class="parlor-word-card spectator"><div class="parlor-label">Spectating</div>'
            '<div class="parlor-word">You joined mid-game. You will play in the next one.</div></div>'
        )
    return (
        '<div class="parlor-word-card"><div class="parlor-label">Your secret word</div>'
        f'<div class="parlor-word" data-testid="word">{esc(you.get("word"))}</div></div>'
    )


def _notices_html(state: State) -> str:
    """Last round's result (right after it) and, once you are out, a reminder that you are watching."""
    parts = []
    result = state.get("last_result")
    if result and result.get("round") == state.get("round", 0) - 1:
        if result["kind"] == "eliminated":
            text = (
                f"🗳️ <b>{esc(result['name'])}</b> was voted out in round {esc(result['round'])}: "
                f"a <b>{esc(result['role'])}</b>."
            )
        else:
            text = f"🤝 Round {esc(result['round'])} ended in a tie: nobody was voted out."
        parts.append(f'<div class="parlor-notice info" data-testid="last-result">{text}</div>')
    you = state.get("you") or {}
    if you.get("word") and not you.get("alive") and not you.get("spectator"):
        parts.append('<div class="parlor-notice warn">👀 You were voted out. Watch the rest of the game.</div>')
    return "".join(parts)


def _game_header(state: State) -> None:
    """Phase, countdown, your word and the round's notices: one element, redrawn only by full runs."""
    st.html(_phase_header_html(state) + _word_card_html(state.get("you") or {}) + _notices_html(state))


def _clue_feed_html(state: State) -> str:
    """The feed as plain, attribute-free rows (`<p><b>name</b>text</p>`), styled from `.parlor-feed`.

    Streamlit sanitises st.html with DOMPurify on every live update, at a cost that grows with each element
    and attribute: in Chromium here, 50 clues as three classed elements each took 6-9 ms, as two bare
    elements 2-4 ms, while parsing either is 0.1 ms.
    """
    clues = state.get("clues") or []
    parts = ['<div class="parlor-card parlor-feed" data-testid="clue-feed"><div class="parlor-heading">Clues</div>']
    if not clues:
        parts.append('<div class="parlor-caption">No clues yet.</div>')
    last_round: int | None = None
    for clue in clues:
        if clue["round"] != last_round:
            last_round = clue["round"]
            parts.append(f"<h6>Round {esc(last_round)}</h6>")
        parts.append(f"<p><b>{esc(clue['name'])}</b>{esc(clue['text'])}</p>")
    return "".join(parts) + "</div>"


def _game(state: State, api: Api, seat: Seat, live: Callable[[], None]) -> None:
    you: YouView = state.get("you") or {}
    phase = state["phase"]
    _game_header(state)
    playing = bool(you.get("alive")) and not you.get("spectator")
    live()
    players = [p for p in state.get("players") or [] if not p.get("spectator")]
    # Flex rows rather than columns: every block is redrawn on every live update, and a column costs three.
    if playing and phase == Phase.DISCUSSION:
        with st.form("clue", clear_on_submit=True, border=False):
            row = st.container(horizontal=True, vertical_alignment="bottom", wrap=False)
            text = row.text_input("Your clue", max_chars=limit(state, "clue_max"), placeholder="One short clue…")
            sent = row.form_submit_button("Send", type="primary")
            if sent and text.strip():
                run_action(api.clue, seat, text)
                show_flash()
    if not playing and not you.get("is_host"):
        return
    if playing and phase == Phase.VOTING:
        st.markdown("##### Your vote")
    buttons = st.container(horizontal=True)
    if playing and phase == Phase.DISCUSSION:
        buttons.button(
            "I'm ready to vote" if not you.get("ready") else "Ready ✓",
            disabled=bool(you.get("ready")),
            on_click=run_action,
            args=(api.ready, seat),
        )
    if playing and phase == Phase.VOTING:
        voted_for = you.get("voted_for")
        for p in players:
            if not p.get("alive") or p["id"] == seat.player_id:
                continue
            chosen = voted_for == p["id"]
            buttons.button(
                f"{'✓ ' if chosen else ''}Vote {md(p['name'])}",
                key=f"vote-{p['id']}",
                type="primary" if chosen else "secondary",
                on_click=_vote,
                args=(api, seat, p["id"]),
            )
    if you.get("is_host"):
        label = "End discussion now" if phase == Phase.DISCUSSION else "Count the votes now"
        buttons.button(label, key="advance", type="tertiary", on_click=run_action, args=(api.act, seat, "advance"))


def _vote(api: Api, seat: Seat, target_id: str) -> None:
    run_action(api.vote, seat, target_id)
    if "flash" not in st.session_state:
        st.session_state["my_vote"] = target_id
        game_state: State | None = st.session_state.get("game_state")
        if game_state:
            game_state.setdefault("you", {})["voted_for"] = target_id


# ---- game over ---------------------------------------------------------------------------------------------


def _game_over(state: State, api: Api, seat: Seat, live: Callable[[], None]) -> None:
    over: dict[str, Any] = state.get("game_over") or {}
    winner = over.get("winner") or Winner.CIVILIANS
    words = over.get("words") or {}
    title = "The civilians win!" if winner == Winner.CIVILIANS else "The undercover wins!"
    st.html(
        f'<div class="parlor-winner {esc(winner)}"><div class="parlor-label" style="color:rgba(255,255,255,.85)">'
        f'Game over</div><div class="parlor-word" data-testid="winner">{title}</div></div>'
    )
    st.html(
        '<div class="parlor-words">'
        f'<div class="parlor-card"><div class="parlor-label">Civilian word</div>'
        f'<div style="font-size:1.6rem;font-weight:700">{esc(words.get("civilian", "?"))}</div></div>'
        f'<div class="parlor-card"><div class="parlor-label">Undercover word</div>'
        f'<div style="font-size:1.6rem;font-weight:700">{esc(words.get("undercover", "?"))}</div></div></div>'
    )
    alive = {p["id"]: p.get("alive") for p in state.get("players") or []}
    rows = [
        {
            "Player": info.get("name"),
            "Role": "🕵️ Undercover" if info.get("role") == Role.UNDERCOVER else "Civilian",
            "Word": info.get("word"),
            "Survived": "yes" if alive.get(info.get("id")) else "no",
        }
        for info in over.get("players") or []
    ]
    st.dataframe(rows, hide_index=True, use_container_width=True)
    live()
    if (state.get("you") or {}).get("is_host"):
        st.button("Play again", type="primary", use_container_width=True, on_click=run_action, args=(api.start, seat))
    else:
        st.info("Waiting for the host to start a new game…")

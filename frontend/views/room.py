"""A room in every phase: lobby, game (discussion, voting, Mr. White's guess), game over; spectators watch.

Each phase is drawn in two parts. The live part (the clue feed, the player list and, with the bridge, the clue
box) is drawn in the browser by static/live_view.js into the placeholders of `live_placeholders`, so a clue
costs Streamlit nothing; without the bridge (legacy polling) it is `live_html`, redrawn by each poll. Everything
else (buttons, the word card) is drawn by full-app runs only: `layout_key` names what it depends on, and the
bridge asks Python for a run only when an event changes that key (a phase change, a vote of yours).
Every text comes from `frontend.i18n` in the room's language (the live view gets its words with the
placeholders).

Every move button's key starts with `move-` and names the move (`move-vote-<player id>`, `move-advance-<phase>-
<round>`, ...): with the bridge, the live view takes the click before Streamlit sees it and sends the move from
the page's outbox (queued while the link is down, sent once with its Idempotency-Key). Without the bridge
(legacy polling) the click reaches Streamlit and the button's callback calls the backend as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

from frontend.api import FRIENDLY, Api, ApiError, Seat, friendly
from frontend.i18n import DEFAULT, ERRORS_FR, LANGUAGE_NAMES, error_text, language_of, t
from frontend.state import State, limit, span
from frontend.views.common import countdown_html, esc, md, run_action, show_flash
from parlor_protocol.vocabulary import CUSTOM_PACK_MAX_CHARS, Phase, PlayerView, TieRule, VoteReveal, YouView

# docs/ holds the rules; the wheel carries them as frontend/rules/ (pyproject's force-include), a checkout has docs/.
_PACKAGED_RULES = Path(__file__).resolve().parents[1] / "rules"
_RULES_DIR = _PACKAGED_RULES if _PACKAGED_RULES.is_dir() else Path(__file__).resolve().parents[2] / "docs"
RULES_PATH = _RULES_DIR / "rules.md"
UNDERCOVER_CHOICES = {"uc_auto": None, "uc_1": 1, "uc_2": 2}
IN_GAME = (Phase.DISCUSSION, Phase.VOTING, Phase.GUESS)
PACK_FILE_MAX_KB = CUSTOM_PACK_MAX_CHARS // 1000


def render(
    state: State,
    api: Api,
    seat: Seat,
    share_url: str,
    live: Callable[[], None] | None = None,
    *,
    clue_box: bool = True,
) -> None:
    """Draw the room; `live` draws the live part in place (default: `render_live` of this same state).

    `clue_box=False` leaves the clue box to `live` (the live view draws it in the browser)."""
    show_flash()
    lang = language_of(state)
    removed = state.get("removed")
    if removed:
        st.warning(t(lang, "removed") if removed != "kicked" else t(lang, "kicked"))
        (live or (lambda: None))()
        return
    live = live or (lambda: render_live(state))
    phase = state.get("phase")
    if phase == "lobby":
        _lobby(state, api, seat, share_url)
        live()
    elif phase in IN_GAME:
        _game(state, api, seat, live, clue_box=clue_box)
    else:
        _game_over(state, api, seat, live)
    _rules(lang)


def live_html(state: State) -> str:
    """The live part of the room as one piece of HTML ("" when the phase has none)."""
    if state.get("removed"):
        return ""
    lang = language_of(state)
    phase = state.get("phase")
    if phase in IN_GAME:
        players = [p for p in state.get("players") or [] if not p.get("spectator")]
        watchers = [p for p in state.get("players") or [] if p.get("spectator")]
        rows = "".join(_player_row(p, lang, in_game=True, phase=str(phase)) for p in players)
        if watchers:
            names = ", ".join(p["name"] for p in watchers)
            rows += f'<div class="parlor-caption">{esc(t(lang, "watching", names=names))}</div>'
        return (
            f'<div class="parlor-live">{_clue_feed_html(state)}'
            f'<div><div class="parlor-heading">{esc(t(lang, "players"))}</div>{rows}</div></div>'
        )
    return ""  # at game over the story tells the clues


# The words static/live_view.js draws with, as templates ("Round {n}"), sent with the placeholders.
LIVE_WORDS = (
    "clues", "no_clues", "round_n", "players", "watching", "tag_host", "tag_bot", "tag_watching", "tag_out",
    "tag_voted", "tag_ready", "tag_reconnecting", "tag_stand_in", "role_civilian", "role_undercover",
    "role_mr_white", "your_clue", "clue_ph", "send", "move_sending", "move_done", "move_refused",
)  # fmt: skip


def live_words(lang: str) -> dict[str, Any]:
    """The live view's words in `lang`, and its refusals as the Python views word them ({message}: the server's)."""
    codes = {*FRIENDLY, *ERRORS_FR}
    errors = {code: error_text(lang, code, "{message}", friendly(code)) for code in sorted(codes)}
    return {"words": {key: t(lang, key) for key in LIVE_WORDS}, "errors": errors}


def live_placeholders(state: State) -> str:
    """The live part as empty, stable placeholders that static/live_view.js fills ("" when the phase has none).

    They depend only on `layout_key`'s inputs (and the room's language), so full runs send the same HTML and
    React leaves it alone; the view's words ride along in `data-parlor-words`.
    """
    if state.get("removed") or state.get("phase") not in IN_GAME:
        return ""  # at game over the story tells the clues
    you: YouView = state.get("you") or {}
    clue = state.get("phase") == "discussion" and you.get("alive") and not you.get("spectator")
    words = esc(json.dumps(live_words(language_of(state)), ensure_ascii=False, sort_keys=True))
    return (
        f'<div data-parlor-words="{words}"><div class="parlor-live"><div data-parlor-live="feed"></div>'
        '<div data-parlor-live="players"></div></div>'
        + ('<div data-parlor-live="clue"></div>' if clue else "")
        + "</div>"
    )


def render_live(state: State) -> None:
    html = live_html(state)
    if html:
        st.html(html)


def layout_key(state: State) -> str:
    """What the parts outside the live HTML are drawn from: when it changes, the whole page must be redrawn."""
    you = state.get("you") or {}
    phase = state.get("phase")
    key: dict[str, Any] = {"phase": phase, "removed": state.get("removed"), "host": you.get("is_host")}
    players = state.get("players") or []
    key["settings"] = state.get("settings")
    if phase == "lobby":
        key["code"] = state.get("room_code")
        key["players"] = [[p["id"], p["name"], p.get("online"), p.get("is_host"), p.get("is_bot")] for p in players]
    elif phase in IN_GAME:
        key.update({k: state.get(k) for k in ("game", "round", "deadline", "last_result", "revote_candidates")})
        key.update({k: state.get(k) for k in ("guesser_id", "last_guess")})
        key["you"] = [you.get(k) for k in ("word", "mr_white", "alive", "spectator", "ready", "voted_for")]
        key["players"] = [[p["id"], p["name"], p.get("alive"), p.get("spectator")] for p in players]
    else:
        key["game_over"] = state.get("game_over")
        key["players"] = [[p["id"], p.get("alive")] for p in players]
    return json.dumps(key, sort_keys=True, default=str)


def _names(state: State, ids: list[str]) -> str:
    by_id = {p["id"]: p["name"] for p in state.get("players") or []}
    return ", ".join(by_id.get(pid, "?") for pid in ids)


# ---- lobby -------------------------------------------------------------------------------------------------


def _player_row(p: PlayerView, lang: str = "en", *, in_game: bool = False, phase: str = "") -> str:
    """One player as `<p data-player=ID class="on|off">name tags</p>`; the dot is CSS (see _clue_feed_html:
    each element and attribute costs DOMPurify time on every live update)."""
    tags = []
    if p.get("is_host"):
        tags.append(f'<span class="parlor-tag host">{esc(t(lang, "tag_host"))}</span>')
    if p.get("is_bot"):
        tags.append(f'<span class="parlor-tag">{esc(t(lang, "tag_bot"))}</span>')
    if p.get("spectator"):
        tags.append(f'<span class="parlor-tag">{esc(t(lang, "tag_watching"))}</span>')
    name = esc(p["name"])
    if in_game and p.get("stand_in"):
        tags.append(f'<span class="parlor-tag standin">{esc(t(lang, "tag_stand_in"))}</span>')
    elif in_game and p.get("alive") and not p.get("online") and not p.get("is_bot"):
        tags.append(f'<span class="parlor-tag away">{esc(t(lang, "tag_reconnecting"))}</span>')
    if in_game and not p.get("alive") and not p.get("spectator"):
        role = p.get("role")
        shown = " · " + esc(t(lang, f"role_{role}")) if role else ""
        tags.append(f'<span class="parlor-tag out">{esc(t(lang, "tag_out"))}{shown}</span>')
        name = f"<s>{name}</s>"
    elif in_game and phase == "voting" and p.get("has_voted"):
        tags.append(f'<span class="parlor-tag voted">{esc(t(lang, "tag_voted"))}</span>')
    elif in_game and phase == "discussion" and p.get("ready"):
        tags.append(f'<span class="parlor-tag ready">{esc(t(lang, "tag_ready"))}</span>')
    dot = "on" if p.get("online") or p.get("is_bot") else "off"
    return f'<p data-player="{esc(p["id"])}" class="{dot}">{name}{"".join(tags)}</p>'


@st.cache_data(ttl=300, show_spinner=False)
def _packs(base_url: str, _api: Api) -> list[dict[str, Any]]:
    """The bundled packs (they only change with a deploy)."""
    return _api.packs()


def _lobby(state: State, api: Api, seat: Seat, share_url: str) -> None:
    lang = language_of(state)
    you = state.get("you") or {}
    is_host = bool(you.get("is_host"))
    players = state.get("players") or []
    max_players = limit(state, "max_players")
    min_players = limit(state, "min_players")
    st.html(
        f'<div class="parlor-card" style="text-align:center"><div class="parlor-label">{esc(t(lang, "room_code"))}'
        f'</div><div class="parlor-code" data-testid="room-code">{esc(state["room_code"])}</div></div>'
    )
    st.caption(t(lang, "share"))
    # The code block loads lazily: its placeholder is shorter, and a room's page would jump when it arrives.
    st.container(key="parlor-share").code(share_url, language=None, wrap_lines=True)
    # On a phone the columns stack with the players at the bottom (style.css): a player who joins then moves
    # nothing on screen, where above the host's controls every join pushed them down.
    # They are filled in that screen order, the host's side first: Streamlit sends each element as the script
    # draws it, and on a loaded machine the page shows the players' column before the other one arrives above it
    # and pushes it down (seen: the column moved from y=364, CLS 0.22).
    left, right = st.container(key="parlor-lobby-columns").columns([3, 2], gap="large")
    with right:
        settings: dict[str, Any] = dict(state.get("settings") or {})
        if is_host:
            st.markdown(f"#### {t(lang, 'host_controls')}")
            st.button(
                t(lang, "add_bot"),
                key="move-add_bot",
                icon="🤖",
                use_container_width=True,
                on_click=run_action,
                args=(api.add_bot, seat),
            )
            _settings_form(state, settings, api, seat)
            _own_pack_form(lang, api, seat)
            st.button(
                t(lang, "start"),
                key="move-start",
                type="primary",
                use_container_width=True,
                disabled=len(players) < min_players,
                on_click=run_action,
                args=(api.start, seat),
            )
        else:
            st.markdown(f"#### {t(lang, 'settings')}")
            st.markdown("\n".join(_settings_lines(lang, settings)))
            st.info(t(lang, "waiting_host"))
    with left:
        st.markdown(f"#### {t(lang, 'players_n', n=len(players), max=max_players)}")
        for p in players:
            row = st.container(horizontal=True, vertical_alignment="center")
            row.html(_player_row(p, lang))
            if is_host and p["id"] != seat.player_id:
                row.button(
                    "✕",
                    key=f"move-kick-{p['id']}",
                    help=t(lang, "remove", name=md(p["name"])),
                    on_click=run_action,
                    args=(api.remove_player, seat, p["id"]),
                )
        if len(players) < min_players:
            st.caption(t(lang, "need_more", n=min_players - len(players)))


def _settings_lines(lang: str, settings: dict[str, Any]) -> list[str]:
    uc = settings.get("undercover_count")
    values = [
        (t(lang, "discussion_s"), settings.get("discussion_seconds")),
        (t(lang, "voting_s"), settings.get("voting_seconds")),
        (t(lang, "undercovers"), t(lang, {None: "uc_auto", 1: "uc_1", 2: "uc_2"}.get(uc, "uc_auto"))),
        (t(lang, "mr_white"), t(lang, "on" if settings.get("mr_white") else "off")),
        (t(lang, "tie_rule"), t(lang, f"tie_{settings.get('tie_rule', 'nobody_out')}")),
        (t(lang, "reveal"), t(lang, f"reveal_{settings.get('vote_reveal', 'names')}")),
        (t(lang, "language"), LANGUAGE_NAMES.get(str(settings.get("language")), "English")),
    ]
    return [t(lang, "setting_line", label=label, value=value) for label, value in values]


def _settings_form(state: State, settings: dict[str, Any], api: Api, seat: Seat) -> None:
    """Every lobby setting in one form, each with a short explanation; saved in one PATCH."""
    lang = language_of(state)
    with st.form("settings", border=True):
        languages = list(LANGUAGE_NAMES)
        current_lang = str(settings.get("language") or "en")
        language = st.selectbox(
            t(lang, "language"),
            languages,
            index=languages.index(current_lang) if current_lang in languages else 0,
            format_func=lambda code: LANGUAGE_NAMES[code],
        )
        packs = [p for p in _pack_list(api) if p["language"] == current_lang]
        labels = {p["id"]: f"{p['name']} ({p['pairs']})" for p in packs}
        if settings.get("custom_pack_size"):
            labels["custom"] = t(lang, "pack_custom", n=settings["custom_pack_size"])
        ids = list(labels)
        pack = str(settings.get("pack") or "")
        chosen_pack = st.selectbox(
            t(lang, "pack"), ids, index=ids.index(pack) if pack in ids else 0, format_func=lambda i: labels[i]
        ) if ids else None  # fmt: skip
        low, high = span(state, "discussion_seconds")
        disc = st.number_input(t(lang, "discussion_s"), low, high, int(settings.get("discussion_seconds", 90)), step=10)
        low, high = span(state, "voting_seconds")
        vote = st.number_input(t(lang, "voting_s"), low, high, int(settings.get("voting_seconds", 30)), step=5)
        uc_now = {v: k for k, v in UNDERCOVER_CHOICES.items()}.get(settings.get("undercover_count"), "uc_auto")
        uc_keys = list(UNDERCOVER_CHOICES)
        uc = st.selectbox(
            t(lang, "undercovers"), uc_keys, index=uc_keys.index(uc_now), format_func=lambda k: t(lang, k)
        )
        mr_white = st.toggle(t(lang, "mr_white"), value=bool(settings.get("mr_white")))
        st.caption(t(lang, "mr_white_help"))
        low, high = span(state, "guess_seconds")
        guess = st.number_input(t(lang, "guess_s"), low, high, int(settings.get("guess_seconds", 30)), step=5)
        tie_keys = [rule.value for rule in TieRule]
        tie = st.radio(
            t(lang, "tie_rule"),
            tie_keys,
            index=tie_keys.index(settings.get("tie_rule", TieRule.NOBODY_OUT)),
            format_func=lambda k: t(lang, f"tie_{k}"),
        )
        st.caption(t(lang, "tie_help"))
        reveal_keys = [rule.value for rule in VoteReveal]
        reveal = st.radio(
            t(lang, "reveal"),
            reveal_keys,
            index=reveal_keys.index(settings.get("vote_reveal", VoteReveal.NAMES)),
            format_func=lambda k: t(lang, f"reveal_{k}"),
        )
        st.caption(t(lang, "reveal_help"))
        low, high = span(state, "grace_seconds")
        grace = st.number_input(t(lang, "grace"), low, high, int(settings.get("grace_seconds", 60)), step=10)
        st.caption(t(lang, "grace_help"))
        if st.form_submit_button(t(lang, "save"), use_container_width=True):
            changes: dict[str, Any] = {
                "discussion_seconds": int(disc),
                "voting_seconds": int(vote),
                "undercover_count": UNDERCOVER_CHOICES[uc],
                "mr_white": bool(mr_white),
                "guess_seconds": int(guess),
                "tie_rule": tie,
                "vote_reveal": reveal,
                "grace_seconds": int(grace),
                "language": language,
            }
            if language == current_lang and chosen_pack:
                changes["pack"] = chosen_pack  # a new language brings its own pack
            run_action(api.settings, seat, changes)
            show_flash()


def _pack_list(api: Api) -> list[dict[str, Any]]:
    try:
        return _packs(api.base_url, api)
    except ApiError:
        return []


def _own_pack_form(lang: str, api: Api, seat: Seat) -> None:
    """Paste the pairs, or upload them as a text file: both go through the same check on the server."""
    with st.expander(t(lang, "own_pack")):
        with st.form("own-pack", border=False):
            st.caption(t(lang, "own_pack_help"))
            text = st.text_area(t(lang, "own_pack_field"), height=140, placeholder="cat, dog\nsun, moon")
            if st.form_submit_button(t(lang, "use_pack"), use_container_width=True):
                run_action(api.set_pack, seat, text)
                show_flash()
        with st.form("own-pack-file", border=False):
            upload = st.file_uploader(
                t(lang, "pack_file"), type=["txt", "csv"], help=t(lang, "pack_file_help", kb=PACK_FILE_MAX_KB)
            )
            if st.form_submit_button(t(lang, "use_file"), use_container_width=True):
                if upload is None:
                    st.error(t(lang, "pack_file_missing"), icon="⚠️")
                else:
                    _use_pack_file(lang, api, seat, upload.name, upload.getvalue())


def _use_pack_file(lang: str, api: Api, seat: Seat, name: str, data: bytes) -> None:
    """Too big or not UTF-8 text is refused here, by name; the pairs themselves are checked like pasted ones."""
    if len(data) > CUSTOM_PACK_MAX_CHARS:
        kb = max(PACK_FILE_MAX_KB + 1, -(-len(data) // 1000))
        st.error(t(lang, "pack_file_too_big", file=name, kb=kb, max=PACK_FILE_MAX_KB), icon="⚠️")
        return
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark from Windows editors is not part of the first word
    except UnicodeDecodeError:
        st.error(t(lang, "pack_file_not_text", file=name), icon="⚠️")
        return
    run_action(api.set_pack, seat, text)
    show_flash()


@cache
def _rules_text(lang: str) -> str:
    """docs/rules.md, or its translation (docs/rules.fr.md) for a room in that language."""
    path = RULES_PATH if lang == DEFAULT else RULES_PATH.with_suffix(f".{lang}.md")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return RULES_PATH.read_text(encoding="utf-8") if path != RULES_PATH and RULES_PATH.exists() else ""


def _rules(lang: str) -> None:
    """The rules in the room's language, one tap away in every phase."""
    text = _rules_text(lang)
    if text:
        with st.expander(t(lang, "rules")):
            st.caption(t(lang, "rules_link"))
            st.markdown(text)


# ---- game --------------------------------------------------------------------------------------------------


def _phase_header_html(state: State) -> str:
    lang = language_of(state)
    phase = state["phase"]
    settings: dict[str, Any] = dict(state.get("settings") or {})
    seconds_key = {"discussion": "discussion_seconds", "voting": "voting_seconds", "guess": "guess_seconds"}
    total = float(settings.get(seconds_key.get(str(phase), "voting_seconds")) or 0)
    title = t(lang, f"phase_{phase}")
    round_n = state.get("round", 1)
    if phase == "guess":
        sub = t(lang, "sub_guess", name=_names(state, [state.get("guesser_id") or ""]))
    elif phase == "voting" and state.get("revote_candidates"):
        sub = t(lang, "sub_revote", names=_names(state, state["revote_candidates"]))
    else:
        sub = t(lang, f"sub_{phase}")
    return (
        '<div class="parlor-phase"><div>'
        f'<div class="parlor-label">{esc(t(lang, "game_round", game=state.get("game", 1), round=round_n))}</div>'
        f'<div class="parlor-phase-title" data-testid="phase" data-phase="{esc(phase)}">{esc(title)}</div>'
        f'<div class="parlor-phase-sub">{esc(sub)}</div></div>'
        f"{countdown_html(state.get('deadline'), total)}</div>"
    )


def _word_card_html(you: YouView, lang: str = "en") -> str:
    if you.get("mr_white") and not you.get("spectator"):
        return (
            f'<div class="parlor-word-card mrwhite" data-testid="mr-white"><div class="parlor-label">'
            f'{esc(t(lang, "mr_white_card"))}</div><div class="parlor-word">{esc(t(lang, "no_word"))}</div>'
            f'<div class="parlor-word-sub">{esc(t(lang, "no_word_sub"))}</div></div>'
        )
    if you.get("spectator") or not you.get("word"):
        return (
            f'<div class="parlor-word-card spectator"><div class="parlor-label">{esc(t(lang, "spectating"))}</div>'
            f'<div class="parlor-word">{esc(t(lang, "spectating_text"))}</div></div>'
        )
    return (
        f'<div class="parlor-word-card"><div class="parlor-label">{esc(t(lang, "your_word"))}</div>'
        f'<div class="parlor-word" data-testid="word">{esc(you["word"])}</div></div>'
    )


def _notices_html(state: State) -> str:
    """Last round's result (right after it), Mr. White's guess, and a reminder once you are out."""
    lang = language_of(state)
    parts = []
    result = state.get("last_result")
    round_now = state.get("round", 0)
    if result and (result.get("round") == round_now - 1 or (result.get("revote") and result.get("round") == round_now)):
        if result["kind"] == "eliminated":
            role = t(lang, f"role_{result.get('role')}") if result.get("role") else "?"
            text = t(
                lang, "eliminated", name=esc(result["name"]), round=esc(result["round"]), role=f"<b>{esc(role)}</b>"
            )
        elif result.get("revote"):
            text = esc(t(lang, "revote", round=result["round"], names=_names(state, result.get("candidates") or [])))
        else:
            text = esc(t(lang, "tied", round=result["round"]))
        parts.append(f'<div class="parlor-notice info" data-testid="last-result">{text}</div>')
    guess = state.get("last_guess")
    if state.get("phase") == "guess":
        name = _names(state, [state.get("guesser_id") or ""])
        parts.append(
            f'<div class="parlor-notice info" data-testid="guessing">{esc(t(lang, "guessing", name=name))}</div>'
        )
    elif guess and guess.get("round") == round_now - 1:
        parts.append(
            f'<div class="parlor-notice info" data-testid="guess-result">{esc(_guess_text(lang, guess))}</div>'
        )
    you = state.get("you") or {}
    out = (you.get("word") or you.get("mr_white")) and not you.get("alive") and not you.get("spectator")
    if out and state.get("guesser_id") != you.get("player_id"):
        parts.append(f'<div class="parlor-notice warn">{esc(t(lang, "out_notice"))}</div>')
    return "".join(parts)


def _guess_text(lang: str, guess: dict[str, Any]) -> str:
    if guess.get("guess") is None:
        return t(lang, "guess_none", name=guess.get("name"))
    key = "guess_right" if guess.get("correct") else "guess_wrong"
    return t(lang, key, name=guess.get("name"), guess=guess.get("guess"))


def _game_header(state: State) -> None:
    """Phase, countdown, your word and the round's notices: one element, redrawn only by full runs."""
    lang = language_of(state)
    st.html(_phase_header_html(state) + _word_card_html(state.get("you") or {}, lang) + _notices_html(state))


def _clue_feed_html(state: State) -> str:
    """The feed as plain, attribute-free rows (`<p><b>name</b>text</p>`), styled from `.parlor-feed`.

    Streamlit sanitises st.html with DOMPurify on every live update, at a cost that grows with each element
    and attribute: in Chromium here, 50 clues as three classed elements each took 6-9 ms, as two bare
    elements 2-4 ms, while parsing either is 0.1 ms.
    """
    lang = language_of(state)
    clues = state.get("clues") or []
    parts = [
        '<div class="parlor-card parlor-feed" data-testid="clue-feed">'
        f'<div class="parlor-heading">{esc(t(lang, "clues"))}</div>'
    ]
    if not clues:
        parts.append(f'<div class="parlor-caption">{esc(t(lang, "no_clues"))}</div>')
    last_round = None
    for clue in clues:
        if clue.get("round") != last_round:
            last_round = clue.get("round")
            parts.append(f"<h6>{esc(t(lang, 'round_n', n=last_round))}</h6>")
        parts.append(f"<p><b>{esc(clue['name'])}</b>{esc(clue['text'])}</p>")
    return "".join(parts) + "</div>"


def _game(state: State, api: Api, seat: Seat, live: Callable[[], None], *, clue_box: bool = True) -> None:
    lang = language_of(state)
    you = state.get("you") or {}
    phase = state["phase"]
    _game_header(state)
    playing = bool(you.get("alive")) and not you.get("spectator")
    if phase == "guess" and state.get("guesser_id") == seat.player_id:
        with st.form("guess", clear_on_submit=True, border=True):
            st.markdown(f"**{t(lang, 'guess_prompt')}**")
            row = st.container(horizontal=True, vertical_alignment="bottom", wrap=False)
            text = row.text_input(
                t(lang, "your_guess"), max_chars=limit(state, "guess_max"), placeholder=t(lang, "guess_ph")
            )
            if row.form_submit_button(t(lang, "guess_send"), key="move-guess", type="primary") and text.strip():
                run_action(api.guess, seat, text)
                show_flash()
    live()
    players = [p for p in state.get("players") or [] if not p.get("spectator")]
    # Flex rows rather than columns: every block is redrawn on every live update, and a column costs three.
    if playing and phase == "discussion" and clue_box:
        with st.form("clue", clear_on_submit=True, border=False):
            row = st.container(horizontal=True, vertical_alignment="bottom", wrap=False)
            text = row.text_input(
                t(lang, "your_clue"), max_chars=limit(state, "clue_max"), placeholder=t(lang, "clue_ph")
            )
            sent = row.form_submit_button(t(lang, "send"), type="primary")
            if sent and text.strip():
                run_action(api.clue, seat, text)
                show_flash()
    if not playing and not you.get("is_host"):
        return
    if playing and phase == "voting":
        st.markdown(f"##### {t(lang, 'your_vote')}")
    buttons = st.container(horizontal=True)
    if playing and phase == "discussion":
        buttons.button(
            t(lang, "ready") if not you.get("ready") else t(lang, "ready_done"),
            key="move-ready",
            disabled=bool(you.get("ready")),
            on_click=run_action,
            args=(api.ready, seat),
        )
    if playing and phase == "voting":
        voted_for = you.get("voted_for")
        allowed = state.get("revote_candidates") or None
        for p in players:
            if not p.get("alive") or p["id"] == seat.player_id or (allowed and p["id"] not in allowed):
                continue
            chosen = voted_for == p["id"]
            buttons.button(
                f"{'✓ ' if chosen else ''}{t(lang, 'vote_for', name=md(p['name']))}",
                key=f"move-vote-{p['id']}",
                type="primary" if chosen else "secondary",
                on_click=_vote,
                args=(api, seat, p["id"]),
            )
    if you.get("is_host") and phase in ("discussion", "voting"):
        label = t(lang, "end_discussion") if phase == "discussion" else t(lang, "count_votes")
        # the phase and round this button ends: a tap that lands after the table moved on is refused, not applied
        # to the next phase (seen: "I'm ready" then "End discussion" skipped the vote), and the key is per phase
        seen = {"phase": phase, "round": state.get("round")}
        buttons.button(
            label,
            key=f"move-advance-{phase}-{seen['round']}",
            type="tertiary",
            on_click=run_action,
            args=(api.act, seat, "advance", seen),
        )


def _vote(api: Api, seat: Seat, target_id: str) -> None:
    run_action(api.vote, seat, target_id)
    if "flash" not in st.session_state:
        st.session_state["my_vote"] = target_id
        game_state = st.session_state.get("game_state")
        if game_state:
            game_state.setdefault("you", {})["voted_for"] = target_id


# ---- game over ---------------------------------------------------------------------------------------------


def _story_html(state: State) -> str:
    """Each round's clues and votes (who voted for whom when the reveal rule allows it), Mr. White's guesses,
    and the eliminations in order with roles and words."""
    lang = language_of(state)
    over: dict[str, Any] = dict(state.get("game_over") or {})
    story = over.get("story") or {}
    names = {info.get("id"): info.get("name") for info in over.get("players") or []}

    def name(pid: Any) -> str:
        return str(names.get(pid, "?"))

    heading = f'<div class="parlor-heading">{esc(t(lang, "story"))}</div>'
    parts = [f'<div class="parlor-card parlor-story" data-testid="story">{heading}']
    for rnd in story.get("rounds") or []:
        parts.append(f"<h6>{esc(t(lang, 'round_n', n=rnd.get('round')))}</h6>")
        for clue in rnd.get("clues") or []:
            parts.append(f"<p><b>{esc(clue.get('name'))}</b>{esc(clue.get('text'))}</p>")
        for tally in rnd.get("votes") or []:
            prefix = f"({esc(t(lang, 'revote_label'))}) " if tally.get("revote") else ""
            if tally.get("ballots"):
                items = ", ".join(
                    t(lang, "voted_for", voter=name(v), target=name(x)) for v, x in tally["ballots"].items()
                )
                line = t(lang, "votes_by_name", items=items)
            elif tally.get("votes"):
                items = ", ".join(f"{name(pid)} {n}" for pid, n in tally["votes"].items())
                line = t(lang, "votes_counts", items=items)
            else:
                line = t(lang, "votes_none")
            parts.append(f'<div class="parlor-caption">🗳️ {prefix}{esc(line)}</div>')
        for guess in rnd.get("guesses") or []:
            verdict = t(lang, "right" if guess.get("correct") else "wrong")
            shown = guess.get("guess") if guess.get("guess") is not None else t(lang, "nothing")
            line = t(lang, "guess_line", name=guess.get("name"), guess=shown, verdict=verdict)
            parts.append(f'<div class="parlor-caption">🎯 {esc(line)}</div>')
    eliminations = story.get("eliminations") or []
    if eliminations:
        parts.append(f"<h6>{esc(t(lang, 'eliminations'))}</h6><ol>")
        for out in eliminations:
            line = t(
                lang,
                "elim_line",
                round=esc(out.get("round")),
                name=esc(out.get("name")),
                role=esc(t(lang, f"role_{out.get('role')}")),
                word=esc(out.get("word") or t(lang, "no_word_short")),
                how=esc(t(lang, f"how_{out.get('how')}")),
            )
            parts.append(f"<li>{line}</li>")
        parts.append("</ol>")
    return "".join(parts) + "</div>"


def _roster_html(state: State) -> str:
    lang = language_of(state)
    over: dict[str, Any] = dict(state.get("game_over") or {})
    winners = set(over.get("winners") or [])
    rows = []
    for info in over.get("players") or []:
        role = info.get("role")
        trophy = " 🏆" if info.get("id") in winners else ""
        rows.append(
            f'<p data-player="{esc(info.get("id"))}" class="on"><b>{esc(info.get("name"))}</b>{trophy}'
            f'<span class="parlor-tag {esc(role)}">{esc(t(lang, f"role_{role}"))}</span>'
            f'<span class="parlor-caption">{esc(info.get("word") or t(lang, "no_word_short"))}</span></p>'
        )
    return f'<div class="parlor-card">{"".join(rows)}</div>'


def _game_over(state: State, api: Api, seat: Seat, live: Callable[[], None]) -> None:
    lang = language_of(state)
    over: dict[str, Any] = dict(state.get("game_over") or {})
    winner = over.get("winner") or "civilians"
    words = over.get("words") or {}
    st.html(
        f'<div class="parlor-winner {esc(winner)}"><div class="parlor-label" style="color:rgba(255,255,255,.85)">'
        f'{esc(t(lang, "game_over"))}</div><div class="parlor-word" data-testid="winner" data-winner="{esc(winner)}">'
        f"{esc(t(lang, f'win_{winner}'))}</div></div>"
        '<div class="parlor-words">'
        f'<div class="parlor-card"><div class="parlor-label">{esc(t(lang, "civ_word"))}</div>'
        f'<div class="parlor-big">{esc(words.get("civilian", "?"))}</div></div>'
        f'<div class="parlor-card"><div class="parlor-label">{esc(t(lang, "uc_word"))}</div>'
        f'<div class="parlor-big">{esc(words.get("undercover", "?"))}</div></div></div>'
        + _roster_html(state)
        + _story_html(state)
    )
    live()  # the fragment that takes in events: it draws nothing here, but the next game arrives through it
    if (state.get("you") or {}).get("is_host"):
        st.button(
            t(lang, "play_again"),
            key="move-start",
            type="primary",
            use_container_width=True,
            on_click=run_action,
            args=(api.start, seat),
        )
    else:
        st.info(t(lang, "waiting_new"))

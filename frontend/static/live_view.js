// Parlor live view: draws the room's live parts (the clue feed, the players with their presence, ready and vote
// marks, and the clue box) straight from the events the bridge holds, so a clue costs the Streamlit server
// nothing. Python draws only stable, empty placeholders (`<div data-parlor-live="feed|players|clue">`) in its
// full runs; a MutationObserver paints any placeholder it finds unpainted, so a React re-mount never leaves one
// empty. The view keeps its own copy of the room: a snapshot (fetched when a seat begins and after a game or
// phase begins, as frontend/state.py's `needs_snapshot`) plus the bridge's events, applied with the same rules
// as state.py (tests/frontend/test_live_view.py runs one event sequence through both and compares).
// Every move leaves from the page through the bridge's outbox (bridge/outbox.js): the clue box's submits, and
// the clicks on Python's move buttons (keys `move-<name>-...`, see frontend/views/room.py), taken before
// Streamlit sees them. A move made while the link is down is shown as "sending…" in a strip at the bottom of
// the page and sent once the link is back; a refusal shows the game's reason. The bridge asks Python for a rerun
// only for events that change what Python draws (`quiet` says which do not).
// User text only ever goes into the page as textContent.
(function (w) {
  "use strict";
  const VERSION = "1"; // a new version would attach a second view to the bridge of a page that loaded the old one
  if (w.parlorLive && w.parlorLive.version === VERSION) return;

  const RESYNC = new Set(["game_started", "phase_changed"]);
  const IN_GAME = new Set(["discussion", "voting", "guess"]);
  const RETRY_STATUSES = new Set([502, 503, 504]);
  const RETRIES = 2;
  const COMMAND_TIMEOUT_MS = 3000; // a move sent over the socket and not answered by then goes over REST (same key)
  const RETRY_MS = 400;
  const SNAPSHOT_RETRY_MS = 1000;
  const FETCH_TIMEOUT_MS = 8000;
  const CLUE_MAX = 120; // the vocabulary's, until a snapshot says otherwise

  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

  // ---- the reducer: frontend/state.py's apply_event, rule for rule ------------------------------------------

  const findPlayer = (s, id) => (s.players || []).find((p) => p.id === id) || null;
  const you = (s) => (s.you = s.you || {});
  const isYou = (s, id) => you(s).player_id === id;

  const HANDLERS = {
    player_joined(s, d) {
      const p = d.player || {};
      if (p.id && !findPlayer(s, p.id)) (s.players = s.players || []).push({ ...p });
    },
    player_left(s, d) {
      const id = d.player_id;
      s.players = (s.players || []).filter((p) => p.id !== id);
      s.votes_cast = (s.votes_cast || []).filter((v) => v !== id);
      if (isYou(s, String(id))) s.removed = d.reason || "left";
    },
    presence_changed(s, d) {
      const p = findPlayer(s, d.player_id || "");
      if (p) p.online = Boolean(d.online);
    },
    host_changed(s, d) {
      s.host_id = d.player_id === undefined ? null : d.player_id;
      for (const p of s.players || []) p.is_host = p.id === s.host_id;
      you(s).is_host = you(s).player_id === s.host_id;
    },
    settings_changed(s, d) {
      if (d.settings) s.settings = d.settings;
    },
    game_started(s, d) {
      s.game = d.game !== undefined ? d.game : (s.game || 0) + 1;
      s.last_result = null;
      s.last_guess = null;
    },
    your_word(s, d) {
      you(s).word = d.word === undefined ? null : d.word;
      you(s).mr_white = Boolean(d.mr_white);
    },
    phase_changed(s, d) {
      if (d.phase) s.phase = d.phase;
      s.round = d.round !== undefined ? d.round : s.round || 0;
      s.deadline = d.deadline === undefined ? null : d.deadline;
    },
    clue_posted(s, d) {
      (s.clues = s.clues || []).push({ ...d });
      const p = findPlayer(s, d.player_id || "");
      if (p) p.clues_this_round = Number(p.clues_this_round || 0) + 1;
    },
    player_ready(s, d) {
      const p = findPlayer(s, d.player_id || "");
      if (p) p.ready = true;
      if (isYou(s, d.player_id || "")) you(s).ready = true;
    },
    vote_cast(s, d) {
      const id = d.player_id || "";
      const cast = s.votes_cast || [];
      if (!cast.includes(id)) s.votes_cast = [...cast, id].sort();
      const p = findPlayer(s, id);
      if (p) p.has_voted = true;
    },
    player_eliminated(s, d) {
      const p = findPlayer(s, d.player_id || "");
      if (p) {
        p.alive = false;
        p.role = d.role === undefined ? null : d.role;
      }
      if (isYou(s, d.player_id || "")) you(s).alive = false;
      s.last_result = { kind: "eliminated", ...d };
    },
    vote_tied(s, d) {
      s.last_result = { kind: "tied", ...d };
      s.revote_candidates = d.revote ? [...(d.candidates || [])] : [];
    },
    guess_started(s, d) {
      s.guesser_id = d.player_id === undefined ? null : d.player_id;
    },
    guess_made(s, d) {
      s.last_guess = { ...d };
      s.guesser_id = null;
    },
    stand_in_started(s, d) {
      const p = findPlayer(s, d.player_id || "");
      if (p) p.stand_in = true;
    },
    stand_in_ended(s, d) {
      const p = findPlayer(s, d.player_id || "");
      if (p) p.stand_in = false;
    },
    game_over(s, d) {
      s.game_over = { ...d };
      s.phase = "finished";
      s.deadline = null;
      const roles = d.roles || {};
      for (const p of s.players || []) if (p.id in roles) p.role = roles[p.id];
    },
  };

  function applyEvent(state, frame) {
    const kind = frame.type;
    const data = frame.data || {};
    if (kind === "snapshot") {
      const fresh = clone(data);
      fresh.last_result = state.last_result === undefined ? null : state.last_result;
      fresh.last_guess = state.last_guess === undefined ? null : state.last_guess;
      return fresh;
    }
    const s = clone(state);
    const handler = HANDLERS[kind];
    if (handler) handler(s, data);
    if (Number.isInteger(frame.id)) s.last_event_id = Math.max(Number(s.last_event_id || 0), frame.id);
    return s;
  }

  // Applied in place for the live path (a clue per event); `applyEvent` above is the pure form the test uses.
  function applyInPlace(state, frame) {
    const handler = HANDLERS[frame.type];
    if (handler) handler(state, frame.data || {});
    if (Number.isInteger(frame.id)) state.last_event_id = Math.max(Number(state.last_event_id || 0), frame.id);
  }

  // Whether Python may skip a rerun for this event: it changes nothing that frontend/views/room.py draws outside
  // the placeholders (`layout_key`). Anything unknown, or any event before the view has a state, is loud.
  function quietIn(state, frame) {
    if (!state) return false;
    const d = frame.data || {};
    const me = (state.you || {}).player_id;
    switch (frame.type) {
      case "clue_posted":
        return true;
      case "presence_changed":
        return state.phase !== "lobby"; // the lobby's list, with the host's buttons, is Python's
      case "player_ready":
      case "vote_cast":
        return d.player_id !== me;
      default:
        return false;
    }
  }

  // ---- drawing (the same markup as room.py's _clue_feed_html and _player_row) ----------------------------------

  function el(tag, attrs, text) {
    const node = w.document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // The words of the room's language, sent by Python with the placeholders (room.live_words); English otherwise.
  const ENGLISH = {
    clues: "Clues", no_clues: "No clues yet.", round_n: "Round {n}", players: "Players", watching: "Watching: {names}",
    tag_host: "host", tag_bot: "bot", tag_watching: "watching", tag_out: "out", tag_voted: "✓ voted",
    tag_ready: "ready", tag_reconnecting: "reconnecting…", tag_stand_in: "(bot standing in)",
    role_civilian: "civilian", role_undercover: "undercover", role_mr_white: "Mr. White",
    your_clue: "Your clue", clue_ph: "One short clue…", send: "Send",
    move_sending: "Sending… {move}", move_done: "Sent: {move}", move_refused: "Not sent: {move}. {reason}",
  }; // prettier-ignore
  const DONE_SHOWN_MS = 3000; // a confirmed move that had to wait stays in the strip this long
  // Parsed once per language: the same object for every paint, so a part drawn in these words can tell it is.
  const parsedWords = new Map();
  function wordsFor(slot) {
    const holder = slot.closest("[data-parlor-words]");
    const raw = holder ? holder.dataset.parlorWords : "";
    if (!parsedWords.has(raw)) {
      let got = { words: {}, errors: {} };
      try {
        got = raw ? JSON.parse(raw) : got;
      } catch (e) {}
      const errors = got.errors || {};
      const t = (key, values) => {
        let text = (got.words || {})[key] || ENGLISH[key] || key;
        for (const [k, v] of Object.entries(values || {})) text = text.split("{" + k + "}").join(String(v));
        return text;
      };
      parsedWords.set(raw, { errors, t });
    }
    return parsedWords.get(raw);
  }

  function clueRow(clue) {
    const row = el("p");
    row.append(el("b", {}, clue.name), w.document.createTextNode(String(clue.text)));
    return row;
  }

  // Everything playerRow and paintPlayers draw from, as one string.
  function playersKey(s) {
    let key = String(s.phase);
    for (const p of s.players || []) {
      const drawn = [p.id, p.name, p.online, p.is_bot, p.is_host, p.spectator, p.stand_in, p.alive, p.role];
      key += "\n" + [...drawn, p.has_voted, p.ready].join("\t");
    }
    return key;
  }

  function playerRow(p, phase, t) {
    const row = el("p", { "data-player": p.id, class: p.online || p.is_bot ? "on" : "off" });
    const tags = [];
    if (p.is_host) tags.push(el("span", { class: "parlor-tag host" }, t("tag_host")));
    if (p.is_bot) tags.push(el("span", { class: "parlor-tag" }, t("tag_bot")));
    if (p.spectator) tags.push(el("span", { class: "parlor-tag" }, t("tag_watching")));
    if (p.stand_in) tags.push(el("span", { class: "parlor-tag standin" }, t("tag_stand_in")));
    else if (p.alive && !p.online && !p.is_bot) tags.push(el("span", { class: "parlor-tag away" }, t("tag_reconnecting")));
    let name = w.document.createTextNode(String(p.name));
    if (!p.alive && !p.spectator) {
      tags.push(el("span", { class: "parlor-tag out" }, t("tag_out") + (p.role ? " · " + t("role_" + p.role) : "")));
      const struck = el("s");
      struck.append(name);
      name = struck;
    } else if (phase === "voting" && p.has_voted) {
      tags.push(el("span", { class: "parlor-tag voted" }, t("tag_voted")));
    } else if (phase === "discussion" && p.ready) {
      tags.push(el("span", { class: "parlor-tag ready" }, t("tag_ready")));
    }
    row.append(name, ...tags);
    return row;
  }

  function friendly(errors, code, message) {
    if (errors[code]) return errors[code].split("{message}").join(message);
    if (code === "rate_limited") return message ? "Slow down a little (" + message + ")." : "Slow down a little.";
    return message ? message[0].toUpperCase() + message.slice(1) : "Something went wrong. Please try again.";
  }

  // A refused clue in the player's words: the game's reason when the clue's text was refused (as
  // frontend.api.field_error words it for the Python views), else the refusal's sentence for its code.
  function refusal(errors, err, fallback) {
    const field = Array.isArray(err.fields) && err.fields[0] ? err.fields[0] : null;
    if (err.code === "validation_error" && field && Array.isArray(field.loc) && field.loc.slice(-1)[0] === "text") {
      const reason = field.type === "value_error" ? String(field.msg || "").replace(/^Value error, /, "") : "";
      return reason ? reason[0].toUpperCase() + reason.slice(1).replace(/\.$/, "") + "." : friendly(errors, "invalid_clue", "");
    }
    return friendly(errors, String(err.code || "http_error"), String(err.message || fallback));
  }

  function newKey() {
    const bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes); // randomUUID needs a secure context; a LAN address over http is not one
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A Streamlit move button's key (its container's `st-key-move-...` class) as a move, or null.
  function moveOf(holder) {
    const cls = Array.from(holder.classList).find((c) => c.startsWith("st-key-move-"));
    if (!cls) return null;
    const rest = cls.slice("st-key-move-".length);
    const [name, ...args] = rest.split("-");
    const tail = args.join("-");
    switch (name) {
      case "ready":
      case "start":
      case "add_bot":
        return { name, data: {} };
      case "vote":
        return tail ? { name, data: { target_id: tail } } : null;
      case "kick":
        return tail ? { name, data: { player_id: tail } } : null;
      case "advance": {
        const round = Number(args[args.length - 1]);
        const phase = args.slice(0, -1).join("-");
        return { name, data: Number.isInteger(round) ? { phase, round } : { phase } };
      }
      case "guess": {
        const form = holder.closest("[data-testid='stForm']") || holder.closest("form");
        const input = form && form.querySelector("input[type='text']");
        const text = input ? input.value.trim() : "";
        return text ? { name, data: { text } } : null;
      }
      default:
        return null;
    }
  }

  class LiveView {
    constructor() {
      this.version = VERSION;
      this.bridge = null;
      this.seat = null; // "room/player" the state belongs to
      this.state = null;
      this.gen = 0; // bumped whenever the state is replaced, so the feed is redrawn rather than appended to
      this.fetching = null;
      this.refetch = false;
      this.snapshotTimer = null;
      this.form = null;
      // Streamlit replaced part of the page: fill any placeholder that came back empty.
      this.observer = new MutationObserver(() => this.paint(false));
      this.observer.observe(w.document.body || w.document.documentElement, { childList: true, subtree: true });
      this.strip = null; // the outbox strip, made on the first move
      this.doneTimer = null;
      // Capture phase on the window: before React's listeners on its root, so Streamlit never sees the click.
      w.addEventListener("click", (ev) => this.intercept(ev, ev.target), true);
      w.addEventListener(
        "keydown",
        (ev) => {
          if (ev.key !== "Enter" || !ev.target || ev.target.tagName !== "INPUT") return;
          const form = ev.target.closest("[data-testid='stForm']");
          const send = form && form.querySelector("[class*='st-key-move-'] button");
          if (send) this.intercept(ev, send);
        },
        true
      );
    }

    // A click on a move button while the bridge is live: the move goes through the outbox instead of a rerun.
    intercept(ev, target) {
      const b = this.bridge;
      if (!b || !b.config || typeof b.move !== "function" || !target || !target.closest) return;
      const button = target.closest("button");
      const holder = button && button.closest("[class*='st-key-move-']");
      if (!holder) return;
      const move = moveOf(holder);
      if (!move) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      if (button.disabled) return;
      b.move(move.name, move.data, button.innerText.trim());
    }

    // ---- the outbox strip ----------------------------------------------------------------------------

    outboxChanged() {
      const box = this.bridge && this.bridge.outbox;
      if (!box) {
        if (this.strip) this.strip.replaceChildren();
        return;
      }
      const holder = w.document.querySelector("[data-parlor-words]");
      const { t, errors } = holder ? wordsFor(holder) : wordsFor(w.document.body);
      const now = Date.now();
      const rows = [];
      for (const entry of box.entries) {
        rows.push(el("div", { class: "parlor-move", "data-state": "sending", "data-move": entry.name }, t("move_sending", { move: label(entry) })));
      }
      let soonest = null;
      for (const entry of box.recent) {
        if (entry.state === "refused" && !entry.dismissed) {
          const reason = refusal(errors, entry.error || {}, "");
          const row = el("div", { class: "parlor-move", "data-state": "refused", "data-move": entry.name, role: "alert" });
          row.textContent = t("move_refused", { move: label(entry), reason });
          const close = el("button", { type: "button", class: "parlor-move-close", "aria-label": "Dismiss" }, "✕");
          close.addEventListener("click", () => {
            entry.dismissed = true;
            this.outboxChanged();
          });
          row.append(close);
          rows.push(row);
        } else if (entry.state === "done" && entry.waited && now - entry.settledAt < DONE_SHOWN_MS) {
          rows.push(el("div", { class: "parlor-move", "data-state": "done", "data-move": entry.name }, t("move_done", { move: label(entry) })));
          const left = DONE_SHOWN_MS - (now - entry.settledAt);
          soonest = soonest === null ? left : Math.min(soonest, left);
        }
      }
      clearTimeout(this.doneTimer);
      if (soonest !== null) this.doneTimer = setTimeout(() => this.outboxChanged(), soonest + 10);
      if (!this.strip) {
        if (!rows.length) return;
        this.strip = el("div", { id: "parlor-outbox", class: "parlor-outbox", "data-testid": "outbox", "aria-live": "polite" });
        w.document.body.append(this.strip);
      }
      const fresh = el("div");
      fresh.append(...rows);
      if (this.strip.isEqualNode(fresh) || (!rows.length && !this.strip.firstChild)) return;
      this.strip.replaceChildren(...rows);
    }

    attach(bridge) {
      if (this.bridge === bridge) return;
      this.bridge = bridge;
      bridge.quiet = (frame) => quietIn(this.state, frame);
      bridge.subscribe(() => {
        this.sync();
        this.bridgeChanged();
      });
      this.sync();
    }

    // The bridge's outbox changed (a move queued, sent, settled) or the bridge did: redraw the strip.
    bridgeChanged() {
      const box = this.bridge && this.bridge.outbox;
      const sig = box ? box.entries.map((e) => e.key + e.state).join() + "|" + box.recent.map((e) => e.key + e.state).join() : "";
      if (sig === this.outboxSig) return;
      this.outboxSig = sig;
      this.outboxChanged();
    }

    // ---- the room's state ------------------------------------------------------------------------------

    sync() {
      const b = this.bridge;
      const cfg = b && b.config;
      const seat = cfg ? cfg.room + "/" + cfg.player : null;
      if (seat !== this.seat) {
        this.seat = seat;
        this.state = null;
        this.gen++;
        this.form = null;
        clearTimeout(this.snapshotTimer);
        if (seat) this.resync();
        this.paint();
        return;
      }
      if (!this.state) return;
      let changed = false;
      // A newer snapshot, or a reset one: the room's history was lost and its ids go down (a new epoch).
      const snap = b.snapshot;
      if (snap && snap !== this.lastSnapshot && (snap.reset || snap.last_event_id > (this.state.last_event_id || 0))) {
        this.lastSnapshot = snap;
        this.replace(snap.data);
        changed = true;
      }
      let resync = false;
      const events = b.events;
      let i = events.length; // the new events are at the end: no walk through the whole buffer per clue
      while (i > 0 && events[i - 1].id > (this.state.last_event_id || 0)) i--;
      for (const frame of events.slice(i)) {
        applyInPlace(this.state, frame);
        resync = resync || RESYNC.has(frame.type);
        changed = true;
      }
      if (resync) this.resync();
      if (changed) this.paint();
    }

    replace(snapshot) {
      this.state = applyEvent(this.state || {}, { id: null, type: "snapshot", data: snapshot });
      this.gen++;
    }

    // A game or a phase begins: the engine reset more than its event says, so the view asks for the whole room
    // (as Python does), then replays whatever the bridge holds beyond it.
    resync() {
      if (this.fetching) {
        this.refetch = true;
        return;
      }
      const cfg = this.bridge.config;
      const seat = this.seat;
      const url = cfg.baseUrl + "/api/rooms/" + encodeURIComponent(cfg.room) + "/state";
      const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS); // a request the network swallowed is retried
      this.fetching = fetch(url, { headers: { Authorization: "Bearer " + cfg.token }, cache: "no-store", signal })
        .then((resp) => (resp.ok ? resp.json() : Promise.reject(new Error("HTTP " + resp.status))))
        .then((snap) => {
          if (this.seat !== seat) return;
          this.replace(snap);
          this.sync();
          this.paint();
        })
        .catch(() => {
          if (this.seat === seat) this.snapshotTimer = setTimeout(() => this.resync(), SNAPSHOT_RETRY_MS);
        })
        .finally(() => {
          this.fetching = null;
          if (this.refetch && this.seat === seat) {
            this.refetch = false;
            this.resync();
          }
        });
    }

    // ---- painting ------------------------------------------------------------------------------------

    // Every placeholder after a change of state; only the empty ones after a change of the page. A part is
    // touched only when what it shows changed: a clue appends its row to the feed and leaves the rest alone (each
    // node written costs the phone a style, layout and paint of what it moved).
    paint(all = true) {
      const s = this.state;
      if (!s) return;
      let painted = 0;
      for (const slot of w.document.querySelectorAll("[data-parlor-live]")) {
        if (!all && slot.firstChild) continue;
        const part = slot.dataset.parlorLive;
        if (part === "feed") this.paintFeed(slot, s);
        else if (part === "players") this.paintPlayers(slot, s);
        else if (part === "clue") this.paintClueBox(slot, s);
        painted++;
      }
      if (painted && this.bridge && this.bridge.markRendered) this.bridge.markRendered(s.last_event_id || 0);
    }

    // The feed grows by appending the new clues' rows (and a round's heading) to the card already drawn; it is
    // drawn anew only for another state (a snapshot, another seat) or fewer clues than it shows.
    paintFeed(slot, s) {
      const clues = s.clues || [];
      let card = slot.firstElementChild;
      const fresh = !card || card.parlorGen !== this.gen || card.parlorCount > clues.length;
      if (!fresh && card.parlorCount === clues.length && (clues.length || card.parlorEmpty)) return;
      const { t } = wordsFor(slot);
      if (fresh) {
        card = el("div", { class: "parlor-card parlor-feed", "data-testid": "clue-feed" });
        card.append(el("div", { class: "parlor-heading" }, t("clues")));
        card.parlorGen = this.gen;
        card.parlorCount = 0;
        card.parlorRound = "";
        card.parlorEmpty = null;
        slot.replaceChildren(card);
      }
      if (!clues.length) {
        card.parlorEmpty = el("div", { class: "parlor-caption" }, t("no_clues"));
        card.append(card.parlorEmpty);
        return;
      }
      if (card.parlorEmpty) {
        card.parlorEmpty.remove();
        card.parlorEmpty = null;
      }
      const rows = w.document.createDocumentFragment();
      let count = card.parlorCount;
      let round = card.parlorRound;
      for (; count < clues.length; count++) {
        const clue = clues[count];
        if (String(clue.round) !== round) {
          round = String(clue.round);
          rows.append(el("h6", {}, t("round_n", { n: round })));
        }
        rows.append(clueRow(clue));
      }
      card.append(rows);
      card.parlorCount = count;
      card.parlorRound = round;
    }

    // Redrawn whole (at most 12 rows) when what it shows changed: a clue changes nothing here.
    paintPlayers(slot, s) {
      const words = wordsFor(slot);
      const key = playersKey(s);
      if (slot.firstChild && slot.parlorKey === key && slot.parlorWords === words) return;
      slot.parlorKey = key;
      slot.parlorWords = words;
      const { t } = words;
      const inGame = IN_GAME.has(s.phase);
      const all = s.players || [];
      const players = all.filter((p) => !p.spectator);
      const watchers = all.filter((p) => p.spectator);
      const box = el("div");
      box.append(el("div", { class: "parlor-heading" }, t("players")));
      for (const p of inGame ? players : all) box.append(playerRow(p, inGame ? s.phase : "", t));
      if (inGame && watchers.length) {
        const names = watchers.map((p) => p.name).join(", ");
        box.append(el("div", { class: "parlor-caption" }, t("watching", { names })));
      }
      const old = slot.firstElementChild;
      if (old && old.isEqualNode(box)) return;
      slot.replaceChildren(box);
    }

    // ---- the clue box --------------------------------------------------------------------------------

    canPost(s) {
      const me = s.you || {};
      return s.phase === "discussion" && Boolean(me.alive) && !me.spectator && !s.removed;
    }

    paintClueBox(slot, s) {
      if (!this.canPost(s)) {
        if (slot.firstChild) slot.replaceChildren();
        return;
      }
      const form = this.clueForm(s, wordsFor(slot));
      if (form.parentNode !== slot) {
        slot.replaceChildren(form);
        // A re-mount took the box out of the page while it was being typed in: give it its focus back.
        if (this.typing) form.elements.clue.focus();
      }
    }

    clueForm(s, words) {
      this.errors = words.errors;
      const max = String((s.limits && s.limits.clue_max) || CLUE_MAX);
      if (this.form) {
        if (this.formMax !== max) this.form.elements.clue.setAttribute("maxlength", max);
        this.formMax = max;
        return this.form;
      }
      this.formMax = max;
      const form = el("form", { class: "parlor-clue", "data-testid": "clue-form", autocomplete: "off" });
      const { t } = words;
      const label = el("label", { for: "parlor-clue-input", class: "parlor-clue-label" }, t("your_clue"));
      const input = el("input", {
        id: "parlor-clue-input",
        name: "clue",
        type: "text",
        maxlength: max,
        placeholder: t("clue_ph"),
        autocomplete: "off",
      });
      const send = el("button", { type: "submit", class: "parlor-clue-send" }, t("send"));
      const row = el("div", { class: "parlor-clue-row" });
      row.append(input, send);
      const error = el("div", { class: "parlor-clue-error", role: "alert", "data-testid": "clue-error" });
      form.append(label, row, error);
      input.addEventListener("focus", () => (this.typing = true));
      input.addEventListener("blur", () => {
        if (input.isConnected) this.typing = false; // a blur from being taken out of the page is not the player's
      });
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        this.submit(form);
      });
      this.form = form;
      return form;
    }

    async submit(form) {
      const input = form.elements.clue;
      const send = form.querySelector("button");
      const error = form.querySelector(".parlor-clue-error");
      const text = input.value.trim();
      if (!text || form.dataset.busy) return;
      form.dataset.busy = "1";
      send.disabled = true;
      error.textContent = "";
      const cfg = this.bridge.config;
      const errors = this.errors || {};
      if (typeof this.bridge.move === "function") {
        // The outbox takes it from here: shown as sending until the server answered, whatever the link does.
        const made = this.bridge.move("clue", { text }, "“" + text + "”");
        delete form.dataset.busy;
        send.disabled = false;
        if (!made) return;
        input.value = "";
        const entry = await made.settled;
        if (entry.state === "refused") {
          entry.dismissed = true; // said here, under the box, rather than in the strip
          this.outboxChanged();
          error.textContent = refusal(errors, entry.error || {}, "");
          if (!input.value.trim()) input.value = text; // the text comes back, to be edited
        }
        return;
      }
      const key = newKey();
      let problem = null;
      try {
        // a bridge loaded before this script knew commands (a page older than a deploy) goes over REST
        const viaSocket = typeof this.bridge.command === "function";
        const outcome = viaSocket ? await this.bridge.command("clue", { text }, key, COMMAND_TIMEOUT_MS) : null;
        if (outcome && !outcome.ok) problem = refusal(errors, outcome.error, "");
        for (let attempt = 0; !outcome; attempt++) {
          let resp = null;
          try {
            resp = await fetch(cfg.baseUrl + "/api/rooms/" + encodeURIComponent(cfg.room) + "/clues", {
              method: "POST",
              signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
              headers: {
                Authorization: "Bearer " + cfg.token,
                "Content-Type": "application/json",
                "Idempotency-Key": key,
              },
              body: JSON.stringify({ text }),
            });
          } catch (e) {
            resp = null; // the network: retried with the same key, so the backend applies it at most once
          }
          if (resp && resp.ok) break;
          if (attempt < RETRIES && (!resp || RETRY_STATUSES.has(resp.status))) {
            await new Promise((r) => setTimeout(r, RETRY_MS * (attempt + 1)));
            continue;
          }
          if (!resp) {
            problem = friendly(errors, "network", "");
          } else {
            let body = null;
            try {
              body = await resp.json();
            } catch (e) {}
            problem = refusal(errors, (body && body.error) || {}, "HTTP " + resp.status);
          }
          break;
        }
      } finally {
        delete form.dataset.busy;
        send.disabled = false;
      }
      if (problem) {
        error.textContent = problem; // the text stays in the box, to be sent again
      } else if (input.value.trim() === text) {
        input.value = "";
      }
    }
  }

  const label = (entry) => entry.label || entry.name.replace("_", " ");

  const view = new LiveView();
  view.applyEvent = applyEvent;
  view.quietIn = quietIn;
  w.parlorLive = view;
  if (w.parlorBridge) view.attach(w.parlorBridge);
})(window);

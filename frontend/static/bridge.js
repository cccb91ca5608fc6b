// Parlor bridge: one real-time connection per browser tab, installed into the Streamlit page (window.parent)
// so it outlives Streamlit reruns and component iframes. It is assembled from parts with one job each, loaded
// before it (frontend/live.py's BRIDGE_FILES, each registering in `parlorParts`):
//   bridge/protocol.js    the wire protocol's words (parlor_protocol's), and the reload on a refused version
//   bridge/machine.js     the connection states and transitions, one table; backoff and connection budget
//   bridge/transports.js  one WebSocket's life (deadlines, ping/pong liveness) and HTTP with deadlines
//   bridge/buffer.js      the room's events, de-duplicated, mirrored, checked for holes (`prev`)
//   bridge/outbox.js      every move, queued in the tab until the server answered it
//   bridge/seat.js        the tab's seat (sessionStorage, "Continue as" offers, Web Locks)
//   bridge/watchdog.js    Streamlit's own connection, and reloading the page when it comes back
// This file wires them: it connects, falls back to long-polling while the socket is down, sends moves, and
// hands batches to Python through `next()`, a Promise that resolves as soon as there is something new (events
// or a status change) or at a heartbeat that finds something owed to Python. Subscribers (static/live_view.js) see every event at
// once; `next()` only resolves for events that change what Python draws, and `quiet(frame)` (set by the live
// view) names the ones that do not. The light in the sidebar is derived from the machine's state and painted
// only when it changes (or when Streamlit draws a new one): an idle page runs no timer but the ping.
(function (root) {
  "use strict";
  const VERSION = "3";
  if (root.parlorBridge && root.parlorBridge.version === VERSION) return;
  const { Machine, Backoff, ConnectBudget, SocketLink, fetchJson, TIMING, EventBuffer, ACCEPT } = root.parlorParts;
  const { Outbox, SeatStore, FrontendWatch } = root.parlorParts;
  const { CLOSE, TRANSPORT, FRAME, ERROR, HTTP_UNSUPPORTED_PROTOCOL, ProtocolReload } = root.parlorParts;

  const PERSIST_DELAY_MS = 5000;
  const CLOCK_SAMPLES = 16;
  const BATCH_CAP = 100;
  const LONGPOLL_WAIT_S = 25;
  const COMMAND_TIMEOUT_MS = 3000; // a move sent over the socket and not answered by then goes over REST (same key)
  // A heartbeat with nothing to hand over would rerun Python's fragment for nothing (a Streamlit rerun is most of
  // what an idle page costs): it waits on, and Python hears from an idle page only this often, well within the
  // time after which frontend/bridge_reports.py drops a silent session from its gauge (SESSION_TTL_SECONDS).
  const IDLE_KEEPALIVE_MS = 240000;
  // Reconnects: full jitter from 500 ms up to 8 s, reset only after 5 s up; at most 10 welcomed sockets in any
  // 30 s (a handshake the network refused cost no server anything, and must not delay the return of a network).
  const RECONNECT = { baseMs: 500, maxMs: 8000, minUptimeMs: 5000 };
  const BUDGET = { limit: 10, windowMs: 30000 };
  const TRY_LATER_MS = 5000; // 1013: the server asked for patience, at least this much more
  // The long-poll after a failed request, and moves waiting for a link: short probes, so the page notices the
  // network's return within a second or so (each a single cheap request, never a socket).
  const PROBE = { baseMs: 250, maxMs: 1000 };
  const KICK_JITTER_MS = 300; // the socket retried this soon once a poll succeeds again (or the browser is online)
  const STOP_REASONS = {
    [CLOSE.AUTH]: "Your session is no longer valid. Please join the room again.",
    [CLOSE.UNKNOWN_ROOM]: "This room no longer exists.",
    [CLOSE.REPLACED]: "This room is open in another tab; this tab has stopped updating.",
  };
  // Refused again within a minute of the reload it caused: this page and the server are different releases.
  const VERSION_MISMATCH =
    "This page and the game server run different versions; retrying. Reload the page if this lasts.";
  const RESTART_CODES = new Set([CLOSE.GOING_AWAY, CLOSE.RESTART, CLOSE.TRY_LATER]);
  // A seat the backend no longer knows: forgotten, so a reload lands on the join page instead of retrying it.
  const SEAT_GONE_CODES = new Set([CLOSE.AUTH, CLOSE.UNKNOWN_ROOM]);
  // Each move: its REST route (method, path after /api/rooms/{code}/, body) for when the socket cannot take it.
  const ROUTES = {
    clue: (d) => ["POST", "clues", { text: d.text }],
    vote: (d) => ["POST", "votes", { target_id: d.target_id }],
    guess: (d) => ["POST", "guess", { text: d.text }],
    ready: () => ["POST", "ready", null],
    advance: (d) => ["POST", "advance", d],
    start: () => ["POST", "start", null],
    kick: (d) => ["DELETE", "players/" + encodeURIComponent(d.player_id), null],
    add_bot: () => ["POST", "bots", null],
    settings: (d) => ["PATCH", "settings", d],
  };
  // HTTP answers to a move that say "not now" rather than "no": the move stays queued.
  const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

  // A page without storage (an opaque origin, storage disabled) still runs, remembering nothing.
  function storage(w, name) {
    try {
      const s = w[name];
      s.length; // eslint-disable-line no-unused-expressions
      return s;
    } catch (e) {
      const items = new Map();
      return {
        get length() {
          return items.size;
        },
        key: (i) => Array.from(items.keys())[i] ?? null,
        getItem: (k) => (items.has(k) ? items.get(k) : null),
        setItem: (k, v) => items.set(k, String(v)),
        removeItem: (k) => items.delete(k),
      };
    }
  }

  function browserEnv(w) {
    return {
      now: () => w.performance.timeOrigin + w.performance.now(),
      setTimeout: (fn, ms) => w.setTimeout(fn, ms),
      clearTimeout: (t) => w.clearTimeout(t),
      WebSocket: w.WebSocket,
      fetch: (url, init) => w.fetch(url, init),
      reload: () => w.location.reload(),
      random: Math.random,
      session: storage(w, "sessionStorage"),
      local: storage(w, "localStorage"),
      locks: w.navigator.locks,
      newKey: () => {
        const bytes = new Uint8Array(16);
        w.crypto.getRandomValues(bytes); // randomUUID needs a secure context; a LAN address over http is not one
        return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      },
    };
  }

  function emptyReport() {
    return {
      connect_attempts: { success: 0, failure: 0 },
      reconnects: 0,
      fallback_activations: 0,
      disconnects: 0,
      gaps: 0,
      delivery: [],
      render: [],
      events: {},
    };
  }

  class Bridge {
    // env: the browser's clock, timers, WebSocket, fetch and storages (browserEnv), or a test's fakes;
    // win: the page's window for the light and the frontend watchdog (none in Node tests)
    constructor(env, win) {
      this.version = VERSION;
      this.env = env;
      this.win = win || null;
      this.config = null;
      this.machine = new Machine((state, from, event, arg) => this.entered(state, from, arg || {}));
      this.transport = TRANSPORT.WEBSOCKET;
      this.detail = "";
      this.buffer = new EventBuffer(env.session, "");
      this.outbox = null;
      this.seat = new SeatStore(env.session, env.local, env.locks);
      this.link = null; // the SocketLink being tried or in use
      this.backoff = new Backoff({ ...RECONNECT, random: env.random });
      this.budget = new ConnectBudget(BUDGET); // counts welcomed sockets: those a server paid for
      this.starts = []; // when the last sockets were started (for tests and benchmarks)
      this.pollBackoff = new Backoff({ ...PROBE, random: env.random });
      this.everConnected = false;
      this.reconnectTimer = null;
      this.persistTimer = null;
      this.pollAbort = null;
      this.filling = null; // the backfill under way after a hole, if any
      this.gapAt = null; // lastId when the hole being filled was found (a hole is counted once)
      this.held = []; // frames past a hole, offered again once it is filled
      this.waiters = [];
      this.subscribers = [];
      this.quiet = null; // frame => true when Python need not rerun for it (set by static/live_view.js)
      this.loudId = 0; // the newest event that Python must see
      this.pendingRender = []; // [id, receivedAtMs, transport] waiting to be drawn
      this.clockSamples = []; // server ts minus our arrival time (ms), for the last CLOCK_SAMPLES stamped frames
      this.clockOffsetMs = 0; // the server's clock minus ours (see observeServerTime)
      this.report = emptyReport();
      this.labels = {};
      this.commands = new Map(); // command id -> settle(outcome) for moves sent over the socket
      this.reloader = new ProtocolReload(env.session, env.now, env.reload || null);
      this.painted = null; // what the light shows: "status|detail|label"
      this.watch = win ? new FrontendWatch(win, () => this.flush()) : null;
      if (win) this.watchLight();
    }

    // ---- state --------------------------------------------------------------------------------------------

    get status() {
      return this.machine.status;
    }

    // The old single object's fields, for the live view and the tests that read them.
    get events() {
      return this.buffer.events;
    }

    set events(v) {
      this.buffer.events = v;
    }

    get lastId() {
      return this.buffer.lastId;
    }

    get epoch() {
      return this.buffer.epoch;
    }

    get snapshot() {
      return this.buffer.snapshot;
    }

    set snapshot(v) {
      this.buffer.snapshot = v;
    }

    get ws() {
      return this.link && this.link.ws;
    }

    state() {
      const pending = this.outbox ? this.outbox.entries.length : 0;
      return { status: this.status, transport: this.transport, detail: this.detail, last_id: this.lastId, pending };
    }

    // What each state does on entry; the table in bridge/machine.js says which state comes next.
    entered(state, from, arg) {
      const now = this.env.now();
      if (state === "connecting") {
        this.show(TRANSPORT.WEBSOCKET, "");
        this.connect();
      } else if (state === "connected") {
        this.backoff.up(now);
        this.stopLongPoll();
        this.show(TRANSPORT.WEBSOCKET, "");
        if (from === "fallback") this.backfill();
        if (this.outbox) this.outbox.kick();
      } else if (state === "fallback") {
        if (from !== "polling") this.report.fallback_activations++;
        this.show(TRANSPORT.LONGPOLL, RESTART_CODES.has(arg.code) ? "server restarting" : "");
        this.startLongPoll();
        this.scheduleReconnect(arg.code);
      } else if (state === "polling") {
        this.env.clearTimeout(this.reconnectTimer);
        this.closeLink(CLOSE.NORMAL, "polling");
        this.show(TRANSPORT.LONGPOLL, arg.reason || "WebSocket is not enabled for you.");
        this.startLongPoll();
      } else if (state === "stopped") {
        this.env.clearTimeout(this.reconnectTimer);
        this.stopLongPoll();
        this.closeLink(CLOSE.NORMAL, "stopped");
        if (SEAT_GONE_CODES.has(arg.code) && this.config) this.forgetSeat(this.config.room, this.config.player);
        this.show(this.transport, STOP_REASONS[arg.code] || "");
      } else if (state === "idle") {
        this.show(TRANSPORT.WEBSOCKET, "");
      }
    }

    show(transport, detail) {
      this.transport = transport;
      this.detail = detail;
      this.paintStatus();
      this.wake();
    }

    // ---- the sidebar light --------------------------------------------------------------------------------

    // The light is painted here rather than by a Streamlit rerun: a second waiting component would race the
    // game fragment's (Streamlit flushes simultaneous component values as one rerun of one fragment). Python
    // draws it with the last status it was handed; a new element is repainted the moment Streamlit adds it.
    paintStatus(force) {
      if (!this.win) return;
      // Until a seat's config brings the labels, the text Python drew stays: never the raw state name.
      const label = this.labels[this.status] || this.labels.connecting || null;
      const key = this.status + "|" + this.detail + "|" + label;
      if (!force && key === this.painted) return;
      this.painted = key;
      for (const el of this.win.document.querySelectorAll(".parlor-status")) {
        if (el.dataset.mode && el.dataset.mode !== "bridge") continue;
        const text = el.querySelector(".parlor-status-text");
        const detail = el.querySelector(".parlor-status-detail");
        if (text && label !== null && text.textContent !== label) text.textContent = label;
        if (detail && detail.textContent !== this.detail) detail.textContent = this.detail;
        if (el.dataset.status !== this.status) el.dataset.status = this.status;
      }
    }

    watchLight() {
      const holds = (n) => n.nodeType === 1 && (n.matches(".parlor-status") || n.querySelector(".parlor-status"));
      const doc = this.win.document;
      this.lightObserver = new this.win.MutationObserver((records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            if (holds(n)) return this.paintStatus(true);
          }
        }
      });
      this.lightObserver.observe(doc.body || doc.documentElement, { childList: true, subtree: true });
    }

    // ---- configuration ------------------------------------------------------------------------------------

    configure(cfg) {
      const same =
        this.config &&
        this.config.room === cfg.room &&
        this.config.player === cfg.player &&
        this.config.token === cfg.token &&
        this.config.baseUrl === cfg.baseUrl;
      // The labels follow the room's language, which the host may change while the seat stays the same.
      this.labels = cfg.labels || this.labels;
      if (same) {
        this.paintStatus();
        return this.state();
      }
      this.shutdown();
      this.config = cfg;
      this.seat.remember(cfg);
      this.buffer = new EventBuffer(this.env.session, "parlor:" + cfg.room + ":" + cfg.player);
      this.buffer.restore(cfg.lastId || 0);
      this.loudId = this.lastId; // restored events are old news to a Python that resumes from lastId
      this.outbox = new Outbox({
        storage: this.env.session,
        key: "parlor:outbox:" + cfg.room + ":" + cfg.player,
        env: this.env,
        backoff: new Backoff({ ...PROBE, random: this.env.random }),
        send: (entry) => this.sendMove(entry),
        newKey: this.env.newKey,
      });
      this.outbox.subscribe(() => this.notify());
      this.notify();
      this.machine.fire(cfg.transport === TRANSPORT.POLLING ? "poll_only" : "configure");
      if (this.outbox.entries.length) this.outbox.flush(); // moves queued before a reload
      return this.state();
    }

    shutdown() {
      this.settleCommands();
      this.env.clearTimeout(this.reconnectTimer);
      this.env.clearTimeout(this.persistTimer);
      this.persistTimer = null;
      this.stopLongPoll();
      this.closeLink(CLOSE.NORMAL, "leaving");
      if (this.outbox) this.outbox.stop();
      this.outbox = null;
      this.buffer = new EventBuffer(this.env.session, "");
      this.held = [];
      this.gapAt = null;
      this.backoff.reset();
      this.pollBackoff.reset();
      this.everConnected = false;
      this.pendingRender = [];
      this.machine.fire("leave");
    }

    leave() {
      this.shutdown();
      this.config = null;
      this.seat.unlock();
      this.notify();
      this.wake();
    }

    // ---- the seat -----------------------------------------------------------------------------------------

    storedSeat(room) {
      return this.seat.stored(room);
    }

    forgetSeat(room, player) {
      this.seat.forget(room, player);
    }

    flush() {
      if (this.persistTimer) {
        this.env.clearTimeout(this.persistTimer);
        this.persistTimer = null;
        if (this.config) this.buffer.persist();
      }
    }

    // ---- WebSocket ----------------------------------------------------------------------------------------

    wsUrl() {
      return this.config.baseUrl.replace(/^http/, "ws") + "/ws/" + encodeURIComponent(this.config.room);
    }

    connect() {
      this.env.clearTimeout(this.reconnectTimer);
      if (!this.config || this.link) return;
      this.starts.push(this.env.now());
      if (this.starts.length > 50) this.starts.shift();
      const hello = () => {
        this.askedAfter = this.lastId;
        const cfg = this.config;
        return { player_id: cfg.player, token: cfg.token, last_event_id: this.lastId, epoch: this.epoch };
      };
      const link = new SocketLink(this.env, this.wsUrl(), hello, {
        welcome: (frame) => this.onWelcome(frame),
        frame: (frame) => this.onFrame(frame),
        down: (code, welcomed) => {
          if (this.link !== link) return;
          this.link = null;
          this.socketDown(code, welcomed);
        },
      });
      this.link = link;
      link.open();
    }

    closeLink(code, reason) {
      const link = this.link;
      this.link = null;
      if (link) link.close(code, reason);
      this.settleCommands();
    }

    onWelcome(frame) {
      this.budget.take(this.env.now());
      this.report.connect_attempts.success++;
      if (this.everConnected) this.report.reconnects++;
      this.everConnected = true;
      this.observeServerTime(frame.ts, this.env.now());
      const d = frame.data || {};
      if (d.recovered && d.epoch) this.buffer.epoch = d.epoch;
      this.machine.fire("welcome");
    }

    onFrame(frame) {
      this.observeServerTime(frame.ts, this.env.now());
      const d = frame.data || {};
      if ((frame.type === FRAME.ACK || frame.type === FRAME.ERROR) && this.commands.has(d.command)) {
        this.commands.get(d.command)(frame.type === FRAME.ACK ? { ok: true, data: d } : { ok: false, error: d });
      } else if (frame.type === FRAME.SNAPSHOT) {
        this.acceptSnapshot(frame.data, this.askedAfter);
      } else if (frame.type === FRAME.CONFIG_CHANGED) {
        if (d.transport === TRANSPORT.POLLING) this.machine.fire("poll_only", {}); // the 4403 that follows would say the same
      } else if (frame.id !== null && frame.id !== undefined) {
        this.acceptBatch([frame], TRANSPORT.WEBSOCKET);
      }
    }

    socketDown(code, welcomed) {
      this.settleCommands();
      if (welcomed) this.report.disconnects++;
      else this.report.connect_attempts.failure++;
      this.backoff.down(this.env.now());
      if (code === CLOSE.UNSUPPORTED_PROTOCOL && this.protocolRefused()) return;
      if (STOP_REASONS[code]) {
        this.machine.fire("stop", { code });
      } else if (code === CLOSE.NOT_IN_COHORT) {
        this.machine.fire("poll_only", {});
      } else if (this.status === "fallback") {
        this.scheduleReconnect(code);
      } else {
        this.machine.fire("lost", { code }); // polling or stopped: nothing to do
      }
      if (code === CLOSE.UNSUPPORTED_PROTOCOL) this.show(this.transport, VERSION_MISMATCH);
    }

    // The server refused this page's protocol version (4426 or HTTP 426): reload the page for the frontend that
    // matches it, unless this tab did so less than a minute ago (bridge/protocol.js). True when it reloads.
    protocolRefused() {
      if (!this.reloader.attempt(() => this.flush())) return false;
      this.env.clearTimeout(this.reconnectTimer);
      this.stopLongPoll();
      this.show(this.transport, "Updating the page…");
      return true;
    }

    scheduleReconnect(code) {
      this.env.clearTimeout(this.reconnectTimer);
      const now = this.env.now();
      let wait = this.backoff.next();
      // the server asked for patience, or runs another release: asking again at once cannot help
      if (code === CLOSE.TRY_LATER || code === CLOSE.UNSUPPORTED_PROTOCOL) wait += TRY_LATER_MS;
      this.reconnectAt(Math.max(wait, this.budget.wait(now)));
    }

    reconnectAt(wait) {
      this.env.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = this.env.setTimeout(() => {
        if (this.status !== "fallback" || this.link) return;
        const more = this.budget.wait(this.env.now());
        if (more > 0) this.reconnectAt(more);
        else this.connect();
      }, wait);
    }

    // The socket's backoff is for a server that is down or overloaded; once a poll succeeded after failing, or
    // the browser says it is back online, waiting it out only keeps the player "Disconnected" for nothing. The
    // attempt count stays: only a link that stays up resets it.
    kickReconnect() {
      if (this.status !== "fallback" || this.link || !this.config) return; // an attempt is already under way
      this.reconnectAt(Math.max(this.env.random() * KICK_JITTER_MS, this.budget.wait(this.env.now())));
    }

    // ---- moves --------------------------------------------------------------------------------------------

    // A move from the page: queued in the outbox (sessionStorage) and sent now or once the link is back;
    // `label` names it on the page's strip. Returns {entry, settled}: `settled` resolves with the entry once the game took it or refused it.
    move(name, data, label) {
      if (!this.outbox || !ROUTES[name]) return null;
      return this.outbox.add(name, data, label);
    }

    // The outbox's sender: over the open socket as a `command` frame, or over REST with the same key.
    async sendMove(entry) {
      const outcome = await this.command(entry.name, entry.data, entry.key, COMMAND_TIMEOUT_MS);
      return outcome || this.restMove(entry);
    }

    async restMove(entry) {
      const cfg = this.config;
      if (!cfg) return null;
      const [method, path, body] = ROUTES[entry.name](entry.data || {});
      const headers = { Authorization: "Bearer " + cfg.token, "Idempotency-Key": entry.key };
      if (body !== null) headers["Content-Type"] = "application/json";
      const url = cfg.baseUrl + "/api/rooms/" + encodeURIComponent(cfg.room) + "/" + path;
      let resp;
      try {
        resp = await fetchJson(this.env, url, { method, headers, body: body === null ? undefined : JSON.stringify(body) });
      } catch (e) {
        return null; // the network: retried with the same key, so the backend applies it at most once
      }
      if (resp.ok) return { ok: true, data: resp.body };
      if (RETRY_STATUSES.has(resp.status)) return null;
      if (resp.status === HTTP_UNSUPPORTED_PROTOCOL) {
        if (!this.protocolRefused()) this.show(this.transport, VERSION_MISMATCH);
        return null; // kept in the outbox for the page that replaces this one, or for a server that accepts it
      }
      const error = (resp.body && resp.body.error) || { code: ERROR.HTTP_ERROR, message: "HTTP " + resp.status };
      return { ok: false, error };
    }

    // A move sent as a `command` frame on the open socket: no new request, no HTTP round trip on a phone.
    // Resolves {ok: true, data} on the server's ack, {ok: false, error} on its refusal, or null when the socket
    // cannot say (not connected, closed or silent for `timeoutMs`).
    command(name, data, key, timeoutMs) {
      const link = this.link;
      if (this.status !== "connected" || !link || !link.isOpen()) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = this.env.setTimeout(() => settle(null), timeoutMs);
        const settle = (outcome) => {
          this.env.clearTimeout(timer);
          this.commands.delete(key);
          resolve(outcome);
        };
        this.commands.set(key, settle);
        if (!link.send({ type: FRAME.COMMAND, id: key, name, data })) settle(null);
      });
    }

    settleCommands() {
      for (const settle of Array.from(this.commands.values())) settle(null);
    }

    // ---- events -------------------------------------------------------------------------------------------

    acceptSnapshot(snap, askedAfter) {
      const reset = this.buffer.acceptSnapshot(snap, askedAfter);
      this.loudId = reset ? snap.last_event_id : Math.max(this.loudId, snap.last_event_id);
      this.held = this.held.filter((f) => f.id > this.lastId);
      this.buffer.persist();
      this.notify();
      this.wake();
    }

    acceptBatch(frames, via) {
      let added = false;
      let gap = false;
      for (const f of frames) {
        const verdict = this.buffer.accept(f);
        if (verdict === ACCEPT.ADDED) {
          added = true;
          this.accepted(f, via);
        } else if (verdict === ACCEPT.GAP) {
          gap = true;
          if (!this.held.some((h) => h.id === f.id)) this.held.push(f);
        }
      }
      if (added) {
        this.notify();
        this.wake();
        this.schedulePersist();
      }
      if (gap) this.fillGap();
    }

    accepted(f, via) {
      const received = this.env.now();
      if (!this.quiet || !this.quiet(f)) this.loudId = Math.max(this.loudId, f.id);
      this.report.events[via] = (this.report.events[via] || 0) + 1;
      if (typeof f.ts === "number") this.report.delivery.push([via, Math.max(0, received / 1000 - f.ts)]);
      this.pendingRender.push([f.id, received, via]);
    }

    // A hole: what came before a frame never arrived. Counted once, filled from lastId over REST (the answer
    // carries every event after it, the missing ones included), then the frames held past it are offered again.
    fillGap() {
      if (this.filling) return;
      if (this.gapAt !== this.lastId) {
        this.gapAt = this.lastId;
        this.report.gaps++;
      }
      this.filling = this.backfill().finally(() => {
        this.filling = null;
        const held = this.held.sort((a, b) => a.id - b.id);
        this.held = [];
        if (held.length) this.acceptBatch(held, TRANSPORT.WEBSOCKET);
      });
    }

    // Serialising the whole buffer into sessionStorage grows with it (up to BUFFER_CAP events), and a timer of 0
    // ran before the waiting Promise's hand-over to Python reached Streamlit. The mirror only serves a reload
    // (which resumes from the server anyway), so it waits PERSIST_DELAY_MS, coalescing every clue of a lively
    // table into one write instead of one per clue, and is flushed when the page is hidden or goes away.
    schedulePersist() {
      if (this.persistTimer) return;
      this.persistTimer = this.env.setTimeout(() => {
        this.persistTimer = null;
        this.buffer.persist();
      }, PERSIST_DELAY_MS);
    }

    // ---- HTTP: backfill and long-poll ---------------------------------------------------------------------

    async fetchEvents(wait, signal) {
      const after = this.lastId;
      const epoch = this.epoch ? "&epoch=" + encodeURIComponent(this.epoch) : "";
      const url =
        this.config.baseUrl + "/api/rooms/" + encodeURIComponent(this.config.room) + "/events?after=" + after + "&wait=" + wait + epoch;
      const init = { headers: { Authorization: "Bearer " + this.config.token } };
      const resp = await fetchJson(this.env, url, init, wait * 1000 + TIMING.LONGPOLL_MARGIN_MS, signal);
      if (resp.status === HTTP_UNSUPPORTED_PROTOCOL) {
        const err = new Error(ERROR.UNSUPPORTED_PROTOCOL);
        err.protocol = true;
        throw err;
      }
      if (resp.status === 401 || resp.status === 404) {
        const err = new Error("gone");
        err.stopCode = resp.status === 401 ? CLOSE.AUTH : CLOSE.UNKNOWN_ROOM;
        throw err;
      }
      if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
      resp.body.askedAfter = after;
      return resp.body;
    }

    // ---- the server's clock -------------------------------------------------------------------------------

    // Deadlines are the server's epoch seconds, and a browser's clock can be off by seconds or minutes. A frame
    // stamped `ts` by the server and arriving now bounds the offset from below (offset minus its transit), so
    // the largest recent bound, the fastest frame's, estimates it to within a few milliseconds; a window of
    // recent frames lets the estimate follow a clock that is corrected. Replayed events are old and never win.
    observeServerTime(tsSeconds, receivedMs) {
      if (typeof tsSeconds !== "number" || !Number.isFinite(tsSeconds)) return;
      this.clockSamples.push(tsSeconds * 1000 - receivedMs);
      if (this.clockSamples.length > CLOCK_SAMPLES) this.clockSamples.shift();
      this.clockOffsetMs = Math.max(...this.clockSamples);
    }

    serverNowMs() {
      return this.env.now() + this.clockOffsetMs;
    }

    absorb(body, via) {
      const arrived = this.env.now();
      for (const e of body.events || []) this.observeServerTime(e.ts, arrived);
      if (body.snapshot) this.acceptSnapshot(body.snapshot, body.askedAfter);
      else if (body.epoch && this.epoch === null) this.buffer.epoch = body.epoch;
      this.acceptBatch(body.events || [], via);
    }

    async backfill() {
      if (!this.config) return;
      try {
        this.absorb(await this.fetchEvents(0), TRANSPORT.WEBSOCKET);
      } catch (e) {}
    }

    // The long-poll while the socket is down (fallback) or not allowed (polling). Its first request asks with
    // wait=0, and so does every one after a failure: it answers at once when the network is back, and that
    // success ends the socket's wait. Failures are paced by full jitter; each request has a deadline.
    startLongPoll() {
      if (this.pollAbort || !this.config) return;
      const abort = new AbortController();
      this.pollAbort = abort;
      const cfg = this.config;
      const live = () => !abort.signal.aborted && this.config === cfg;
      const loop = async () => {
        let failed = false;
        let wait = 0;
        while (live()) {
          try {
            const body = await this.fetchEvents(wait, abort.signal);
            if (!live()) return;
            this.absorb(body, TRANSPORT.LONGPOLL);
            this.pollBackoff.reset();
            if (failed) this.kickReconnect();
            if (this.outbox) this.outbox.kick();
            failed = false;
            wait = LONGPOLL_WAIT_S;
            if (body.transport === TRANSPORT.WEBSOCKET && this.status === "polling") {
              this.backoff.reset();
              this.machine.fire("socket_allowed", {}); // this loop goes on as the fallback's long-poll
            } else if (body.transport === TRANSPORT.POLLING && this.status === "fallback") {
              this.machine.fire("poll_only", {});
            }
          } catch (e) {
            if (!live()) return;
            if (e.stopCode) {
              this.machine.fire("stop", { code: e.stopCode });
              return;
            }
            if (e.protocol && this.protocolRefused()) return;
            failed = true;
            wait = 0;
            let pause = this.pollBackoff.next();
            if (e.protocol) {
              this.show(this.transport, VERSION_MISMATCH);
              pause += TRY_LATER_MS; // a release apart: asking again at once cannot help
            }
            await new Promise((r) => this.env.setTimeout(r, pause));
          }
        }
      };
      loop().finally(() => {
        if (this.pollAbort === abort) this.pollAbort = null;
      });
    }

    stopLongPoll() {
      if (this.pollAbort) this.pollAbort.abort();
      this.pollAbort = null;
    }

    // ---- hand-over to Python ------------------------------------------------------------------------------

    subscribe(fn) {
      this.subscribers.push(fn);
    }

    notify() {
      for (const fn of this.subscribers) {
        try {
          fn(this);
        } catch (e) {}
      }
    }

    // The live view drew every event up to `id`: their receive-to-screen times go into the next report.
    markRendered(id) {
      if (!this.pendingRender.length || this.pendingRender[0][0] > id) return;
      this.takeRendered(id, this.env.now());
    }

    takeRendered(afterId, now) {
      const keep = [];
      for (const [id, received, via] of this.pendingRender) {
        if (id <= afterId) this.report.render.push([via, Math.max(0, (now - received) / 1000)]);
        else keep.push([id, received, via]);
      }
      this.pendingRender = keep;
    }

    wake() {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }

    takeReport(afterId) {
      if (!this.quiet) this.takeRendered(afterId, this.env.now()); // without a live view, Python draws them
      const report = this.report;
      this.report = emptyReport();
      return report;
    }

    // What the heartbeat is for: quiet events Python has not seen yet, or report items to record.
    owes(afterId) {
      if (this.buffer.after(afterId).length) return true;
      const r = this.report;
      const counts = [r.connect_attempts.success, r.connect_attempts.failure, r.reconnects, r.fallback_activations];
      counts.push(r.disconnects, r.gaps, r.delivery.length, r.render.length, ...Object.values(r.events));
      return counts.some((n) => n > 0);
    }

    batch(afterId, knownStatus, due = false) {
      const snap = this.buffer.snapshotFor(afterId, true);
      // after a reset the caller's id is from the old history: everything buffered is new to it
      const fresh = snap ? this.events.slice() : this.buffer.after(afterId);
      // Quiet events wait, untouched, for the next batch Python needs anyway (or the heartbeat).
      const loud = fresh.length && this.loudId > afterId;
      if (!loud && !snap && knownStatus === this.status && !due) return null;
      const events = fresh.slice(0, BATCH_CAP);
      return {
        events,
        snapshot: snap,
        more: fresh.length > events.length,
        ...this.state(),
        report: this.takeReport(afterId),
      };
    }

    // A Promise for Python: events newer than `afterId` (and a status differing from `knownStatus`) resolve it
    // at once; otherwise it resolves when they arrive, or at a heartbeat (every `timeoutMs`) that finds quiet
    // events or report items owed to Python, or, with nothing owed, after IDLE_KEEPALIVE_MS.
    next(afterId, timeoutMs, knownStatus) {
      afterId = Number(afterId) || 0;
      if (this.watch) this.watch.pythonBack();
      const handOver = (value) => {
        if (this.watch && this.config) this.watch.handedOver();
        return value;
      };
      const ready = this.batch(afterId, knownStatus);
      if (ready) return Promise.resolve(handOver(ready));
      return new Promise((resolve) => {
        let timer = null;
        const check = () => {
          const b = this.batch(afterId, knownStatus);
          if (b) {
            this.env.clearTimeout(timer);
            resolve(handOver(b));
          } else {
            this.waiters.push(check);
          }
        };
        const started = this.env.now();
        const heartbeat = () => {
          if (!this.owes(afterId) && this.env.now() - started + timeoutMs <= Math.max(timeoutMs, IDLE_KEEPALIVE_MS)) {
            timer = this.env.setTimeout(heartbeat, timeoutMs);
            return;
          }
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(handOver(this.batch(afterId, knownStatus, true)));
        };
        timer = this.env.setTimeout(heartbeat, timeoutMs);
        this.waiters.push(check);
      });
    }
  }

  root.parlorParts.Bridge = Bridge;
  root.parlorParts.CLOSE = CLOSE;
  if (!root.document) return; // Node's tests build their own Bridge with fakes
  root.parlorBridge = new Bridge(browserEnv(root), root);
  root.addEventListener("pagehide", () => root.parlorBridge && root.parlorBridge.flush());
  // A phone's browser may discard a hidden tab without a pagehide: hidden is the last moment it surely runs.
  root.document.addEventListener("visibilitychange", () => {
    if (root.document.visibilityState === "hidden" && root.parlorBridge) root.parlorBridge.flush();
  });
  root.addEventListener("online", () => {
    const b = root.parlorBridge;
    if (!b) return;
    b.kickReconnect();
    if (b.outbox) b.outbox.kick();
  });
})(typeof window !== "undefined" ? window : globalThis);

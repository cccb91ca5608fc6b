// Parlor bridge: one real-time connection per browser tab, installed into the Streamlit page (window.parent)
// so it outlives Streamlit reruns and component iframes. It keeps the room's events in an id-ordered,
// de-duplicated buffer (mirrored to sessionStorage), reconnects with full-jitter backoff, falls back to
// long-polling while the socket is down, and hands batches to Python through `next()`, a Promise that
// resolves as soon as there is something new (events or a status change) or after a heartbeat timeout.
// Subscribers (static/live_view.js) see every event at once; `next()` only resolves for events that change
// what Python draws, and `quiet(frame)` (set by the live view) names the ones that do not.
// It also keeps the tab's seat (see "the seat") and watches Streamlit's own connection (see "the frontend").
(function (root) {
  "use strict";
  const VERSION = "1";
  if (root.parlorBridge && root.parlorBridge.version === VERSION) return;

  const BUFFER_CAP = 500;
  const PERSIST_DELAY_MS = 250;
  const CLOCK_SAMPLES = 16;
  const BATCH_CAP = 100;
  const PING_MS = 20000;
  const BACKOFF_BASE_MS = 250;
  const BACKOFF_MAX_MS = 30000;
  const LONGPOLL_WAIT_S = 25;
  const LONGPOLL_RETRY_MS = 1000;
  // The server's close codes, named as in backend/realtime/protocol.py's CloseCode (a test compares them).
  const CLOSE = Object.freeze({
    NORMAL: 1000,
    GOING_AWAY: 1001,
    POLICY: 1008,
    TOO_BIG: 1009,
    RESTART: 1012,
    TRY_LATER: 1013,
    ABUSE: 4400,
    AUTH: 4401,
    NOT_IN_COHORT: 4403,
    UNKNOWN_ROOM: 4404,
    NO_HELLO: 4408,
    REPLACED: 4409,
  });
  // Transport names, as in protocol.py's Transport.
  const TRANSPORT = Object.freeze({ WEBSOCKET: "websocket", LONGPOLL: "longpoll", POLLING: "polling" });
  const STOP_REASONS = {
    [CLOSE.AUTH]: "Your session is no longer valid. Please join the room again.",
    [CLOSE.UNKNOWN_ROOM]: "This room no longer exists.",
    [CLOSE.REPLACED]: "This room is open in another tab; this tab has stopped updating.",
  };
  const RECONNECT_CODES = new Set([CLOSE.GOING_AWAY, CLOSE.RESTART, CLOSE.TRY_LATER]);
  // A seat the backend no longer knows: forgotten, so a reload lands on the join page instead of retrying it.
  const SEAT_GONE_CODES = new Set([CLOSE.AUTH, CLOSE.UNKNOWN_ROOM]);
  const SEAT_KEY = "parlor:seat";
  const OFFER_PREFIX = "parlor:offer:";
  const OFFER_TTL_MS = 24 * 3600 * 1000;
  // Ending the backoff early: the socket is retried within this much jitter, so a room does not arrive at once.
  const KICK_JITTER_MS = 300;
  // The Streamlit server: probed this often while it is unreachable, the page reloaded within this jitter once
  // it answers (a restarted frontend must not take every page's reload in the same instant).
  const FRONTEND_PROBE_MS = 1000;
  const FRONTEND_RELOAD_JITTER_MS = 1000;
  // Python comes back for `next()` within a rerun of handing it a batch; this late (longer than a heartbeat, so a
  // saturated but working process is not mistaken for a lost one), its session is gone.
  const PYTHON_OVERDUE_MS = 30000;

  const nowEpochMs = () => performance.timeOrigin + performance.now();
  const fullJitter = (attempt) => Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);

  function emptyReport() {
    return {
      connect_attempts: { success: 0, failure: 0 },
      reconnects: 0,
      fallback_activations: 0,
      disconnects: 0,
      delivery: [],
      render: [],
      events: {},
    };
  }

  class Bridge {
    constructor() {
      this.version = VERSION;
      this.config = null;
      this.ws = null;
      this.status = "idle"; // connecting | connected | fallback | polling | stopped
      this.transport = TRANSPORT.WEBSOCKET;
      this.detail = "";
      this.events = []; // frames with ids, ascending, unique
      this.snapshot = null; // {last_event_id, data}: the log did not reach back far enough
      this.lastId = 0;
      this.epoch = null; // the room history our ids belong to; the server resyncs us when it changes
      this.attempt = 0;
      this.everConnected = false;
      this.reconnectTimer = null;
      this.pingTimer = null;
      this.persistTimer = null;
      this.pollAbort = null;
      this.polling = false;
      this.waiters = [];
      this.subscribers = [];
      this.quiet = null; // frame => true when Python need not rerun for it (set by static/live_view.js)
      this.loudId = 0; // the newest event that Python must see
      this.pendingRender = []; // [id, receivedAtMs, transport] waiting to be drawn
      this.clockSamples = []; // server ts minus our arrival time (ms), for the last CLOCK_SAMPLES stamped frames
      this.clockOffsetMs = 0; // the server's clock minus ours (see observeServerTime)
      this.report = emptyReport();
      this.labels = {};
      this.seatLock = null; // releases the Web Lock that tells other tabs this seat is open here
      this.commands = new Map(); // command id -> settle(outcome) for moves sent over the socket
      this.frontendLost = false;
      this.frontendTimer = null;
      this.handedOverAt = 0; // when next() last resolved while Python had not asked again yet
      this.painter = setInterval(() => this.tick(), 400);
      this.watchFrontend();
    }

    tick() {
      this.paintStatus();
      // A hidden tab's iframes may wait for it to be shown before they run; only a visible page is overdue.
      const visible = root.document.visibilityState === "visible";
      if (this.handedOverAt && this.config && visible && Date.now() - this.handedOverAt > PYTHON_OVERDUE_MS) {
        this.handedOverAt = 0;
        this.frontendDown("overdue");
      }
    }

    // ---- the sidebar light -----------------------------------------------------------------------------

    // The light is painted here rather than by a Streamlit rerun: a second waiting component would race the
    // game fragment's (Streamlit flushes simultaneous component values as one rerun of one fragment).
    paintStatus() {
      const doc = root.document;
      for (const el of doc.querySelectorAll(".parlor-status")) {
        if (el.dataset.mode && el.dataset.mode !== "bridge") continue;
        const label = this.labels[this.status] || this.labels.connecting || this.status;
        const text = el.querySelector(".parlor-status-text");
        const detail = el.querySelector(".parlor-status-detail");
        if (text && text.textContent !== label) text.textContent = label;
        if (detail && detail.textContent !== this.detail) detail.textContent = this.detail;
        if (el.dataset.status !== this.status) el.dataset.status = this.status;
      }
    }

    // ---- configuration ------------------------------------------------------------------------------

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
      this.storageKey = "parlor:" + cfg.room + ":" + cfg.player;
      this.rememberSeat(cfg);
      this.restore(cfg.lastId || 0);
      this.loudId = this.lastId; // restored events are old news to a Python that resumes from lastId
      this.notify();
      if (cfg.transport === TRANSPORT.POLLING) {
        this.toPolling("WebSocket is not enabled for you.");
      } else {
        this.connect();
      }
      return this.state();
    }

    shutdown() {
      this.settleCommands();
      clearTimeout(this.reconnectTimer);
      clearTimeout(this.persistTimer);
      this.persistTimer = null;
      clearInterval(this.pingTimer);
      this.stopLongPoll();
      if (this.ws) {
        this.ws.onclose = this.ws.onmessage = this.ws.onerror = this.ws.onopen = null;
        try {
          this.ws.close(CLOSE.NORMAL, "leaving");
        } catch (e) {}
        this.ws = null;
      }
      this.events = [];
      this.snapshot = null;
      this.lastId = 0;
      this.epoch = null;
      this.attempt = 0;
      this.everConnected = false;
      this.pendingRender = [];
      this.status = "idle";
    }

    leave() {
      this.shutdown();
      this.config = null;
      this.releaseSeatLock();
      this.notify();
      this.wake();
    }

    // ---- the seat ------------------------------------------------------------------------------------

    // sessionStorage is per tab: a reload, or a tab the browser restores, finds its seat again, while a second
    // tab starts empty and is a second player. localStorage keeps one record per room only so that opening the
    // room link after closing the tab can offer "Continue as NAME"; nothing resumes from it without that click.
    // A Web Lock held per open seat lets the offer be skipped while the seat is still open in another tab.
    rememberSeat(cfg) {
      const seat = { room: cfg.room, player: cfg.player, token: cfg.token, name: cfg.name || "", savedAt: Date.now() };
      try {
        sessionStorage.setItem(SEAT_KEY, JSON.stringify(seat));
        this.pruneOffers();
        localStorage.setItem(OFFER_PREFIX + cfg.room + ":" + cfg.player, JSON.stringify(seat));
      } catch (e) {}
      this.releaseSeatLock();
      const locks = root.navigator.locks;
      if (locks) {
        locks.request(this.lockName(cfg.room, cfg.player), () => new Promise((release) => (this.seatLock = release)));
      }
    }

    lockName(room, player) {
      return "parlor-seat:" + room + ":" + player;
    }

    releaseSeatLock() {
      if (this.seatLock) this.seatLock();
      this.seatLock = null;
    }

    pruneOffers() {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (!key || !key.startsWith(OFFER_PREFIX)) continue;
        const offer = readJson(localStorage, key);
        if (!offer || !(Date.now() - offer.savedAt < OFFER_TTL_MS)) localStorage.removeItem(key);
      }
    }

    // What the page holds for Python's first run in a fresh session: this tab's seat, and for `room` (the
    // room link's code) an offer to continue the newest seat there that is not open in any other tab.
    async storedSeat(room) {
      const seat = readJson(sessionStorage, SEAT_KEY);
      const prefix = OFFER_PREFIX + String(room || "").toUpperCase() + ":";
      if (seat || !room) return { seat, offer: null };
      const offers = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        const offer = key && key.startsWith(prefix) ? readJson(localStorage, key) : null;
        if (offer) offers.push(offer);
      }
      offers.sort((a, b) => (b.savedAt || 0) - (a.savedAt || 0));
      const open = new Set();
      if (offers.length && root.navigator.locks) {
        for (const lock of (await root.navigator.locks.query()).held || []) open.add(lock.name);
      }
      const offer = offers.find((o) => !open.has(this.lockName(o.room, o.player))) || null;
      return { seat, offer };
    }

    forgetSeat(room, player) {
      const matches = (s) => s && s.room === room && s.player === player;
      try {
        if (matches(readJson(sessionStorage, SEAT_KEY))) sessionStorage.removeItem(SEAT_KEY);
        localStorage.removeItem(OFFER_PREFIX + room + ":" + player);
        sessionStorage.removeItem("parlor:" + room + ":" + player);
      } catch (e) {}
      if (this.config && this.config.room === room && this.config.player === player) this.releaseSeatLock();
    }

    // ---- the frontend (Streamlit's own connection) ------------------------------------------------------

    // Streamlit's client reconnects after its server restarts, but to a new session with empty session_state,
    // and it asks for no script run when the last run was not a fragment's: the page would stay frozen on its
    // old view, its hand-overs to Python lost. The bridge watches the client's connection state (its
    // `data-test-connection-state`, a plain DOM attribute), and, as a backstop, Python failing to come back for
    // `next()`; then it shows that it is reconnecting, probes the server's health, and reloads the page once
    // the server answers. The reload starts a fresh session and seat restore puts the player back.
    watchFrontend() {
      const doc = root.document;
      const seen = (el) => {
        const state = el.getAttribute("data-test-connection-state");
        if (state && state !== "CONNECTED") this.frontendDown("disconnected");
        else if (state === "CONNECTED" && this.frontendLost) this.frontendBack();
      };
      this.frontendObserver = new MutationObserver((records) => {
        for (const r of records) if (r.target.nodeType === 1) seen(r.target);
      });
      this.frontendObserver.observe(doc.body || doc.documentElement, {
        subtree: true,
        attributes: true,
        attributeFilter: ["data-test-connection-state"],
      });
      for (const el of doc.querySelectorAll("[data-test-connection-state]")) seen(el);
    }

    frontendDown(why) {
      if (this.frontendLost) return;
      this.frontendLost = true;
      this.frontendWhy = why;
      this.showBanner(true);
      this.probeFrontend();
    }

    async probeFrontend() {
      clearTimeout(this.frontendTimer);
      let ok = false;
      try {
        const url = new URL("_stcore/health", root.location.href.split("?")[0].replace(/[^/]*$/, ""));
        ok = (await fetch(url, { cache: "no-store", credentials: "same-origin" })).ok;
      } catch (e) {}
      if (ok) this.frontendBack();
      else this.frontendTimer = setTimeout(() => this.probeFrontend(), FRONTEND_PROBE_MS);
    }

    frontendBack() {
      if (!this.frontendLost || this.reloading) return;
      this.reloading = true;
      clearTimeout(this.frontendTimer);
      this.flush();
      setTimeout(() => root.location.reload(), Math.random() * FRONTEND_RELOAD_JITTER_MS);
    }

    showBanner(on) {
      const doc = root.document;
      let el = doc.getElementById("parlor-reconnecting");
      if (!on) {
        if (el) el.remove();
        return;
      }
      if (el) return;
      el = doc.createElement("div");
      el.id = "parlor-reconnecting";
      el.setAttribute("role", "status");
      el.textContent = "Reconnecting to Parlor… your seat is kept.";
      // Inline, not style.css: Streamlit may be mid-way through replacing the page's elements.
      el.style.cssText =
        "position:fixed;top:0;left:0;right:0;z-index:1000000;padding:.6rem 1rem;text-align:center;" +
        "font:600 1rem system-ui,sans-serif;background:#b45309;color:#fff;box-shadow:0 2px 8px rgba(0,0,0,.25)";
      (doc.body || doc.documentElement).appendChild(el);
    }

    flush() {
      if (this.persistTimer) {
        clearTimeout(this.persistTimer);
        this.persistTimer = null;
        if (this.config) this.persist();
      }
    }

    // ---- buffer --------------------------------------------------------------------------------------

    restore(minId) {
      try {
        const saved = JSON.parse(sessionStorage.getItem(this.storageKey) || "null");
        if (saved && Array.isArray(saved.events)) {
          this.events = saved.events;
          this.lastId = saved.lastId || 0;
          this.epoch = saved.epoch || null;
        }
      } catch (e) {}
      this.lastId = Math.max(this.lastId, minId);
    }

    persist() {
      try {
        sessionStorage.setItem(
          this.storageKey,
          JSON.stringify({ events: this.events, lastId: this.lastId, epoch: this.epoch })
        );
      } catch (e) {}
    }

    accept(frame, via) {
      if (frame.id === null || frame.id === undefined) return false;
      // Every source asks for events after lastId, so an id at or below it is a duplicate (a replay racing
      // the backfill, or an event a snapshot already covers).
      if (frame.id <= this.lastId) return false;
      let i = this.events.length;
      while (i > 0 && this.events[i - 1].id > frame.id) i--;
      const received = nowEpochMs();
      this.events.splice(i, 0, frame);
      if (this.events.length > BUFFER_CAP) this.events.splice(0, this.events.length - BUFFER_CAP);
      this.lastId = Math.max(this.lastId, frame.id);
      if (!this.quiet || !this.quiet(frame)) this.loudId = Math.max(this.loudId, frame.id);
      this.report.events[via] = (this.report.events[via] || 0) + 1;
      if (typeof frame.ts === "number") {
        this.report.delivery.push([via, Math.max(0, received / 1000 - frame.ts)]);
      }
      this.pendingRender.push([frame.id, received, via]);
      return true;
    }

    acceptBatch(frames, via) {
      let added = false;
      for (const f of frames) added = this.accept(f, via) || added;
      if (added) {
        this.notify();
        this.wake();
        this.schedulePersist();
      }
    }

    // Serialising the whole buffer into sessionStorage grows with it, and a timer of 0 ran before the waiting
    // Promise's hand-over to Python reached Streamlit. The mirror only serves a reload (which resumes from the
    // server anyway), so it waits PERSIST_DELAY_MS, coalescing bursts, and is flushed when the page goes away.
    schedulePersist() {
      if (this.persistTimer) return;
      this.persistTimer = setTimeout(() => {
        this.persistTimer = null;
        this.persist();
      }, PERSIST_DELAY_MS);
    }

    // A snapshot from another history (new epoch), or one behind the id we asked to resume from (the server
    // says we are ahead of its log), means the ids we hold were lost or will be handed out again: drop what we
    // buffered and go back down to the snapshot's id. The snapshot is then handed to Python whatever id it
    // asks after ("reset"), since that id belongs to the old history. A snapshot that merely raced newer live
    // events (same epoch, at or after what we asked from) never moves the id down.
    acceptSnapshot(snap, askedAfter) {
      const reset =
        (this.epoch !== null && snap.epoch !== undefined && snap.epoch !== this.epoch) ||
        (typeof askedAfter === "number" && snap.last_event_id < askedAfter);
      if (snap.epoch !== undefined) this.epoch = snap.epoch;
      this.snapshot = { last_event_id: snap.last_event_id, data: snap, reset };
      if (reset) {
        this.events = [];
        this.lastId = snap.last_event_id;
        this.loudId = snap.last_event_id;
      } else {
        this.events = this.events.filter((e) => e.id > snap.last_event_id);
        this.lastId = Math.max(this.lastId, snap.last_event_id);
        this.loudId = Math.max(this.loudId, snap.last_event_id);
      }
      this.persist();
      this.notify();
      this.wake();
    }

    snapshotFor(afterId, take) {
      if (!this.snapshot) return null;
      if (!this.snapshot.reset && this.snapshot.last_event_id <= afterId) return null;
      if (take) this.snapshot.reset = false;
      return this.snapshot.data;
    }

    // ---- status --------------------------------------------------------------------------------------

    setStatus(status, transport, detail) {
      const changed = status !== this.status || transport !== this.transport || (detail || "") !== this.detail;
      this.status = status;
      this.transport = transport;
      this.detail = detail || "";
      if (changed) {
        this.paintStatus();
        this.wake();
      }
    }

    state() {
      return { status: this.status, transport: this.transport, detail: this.detail, last_id: this.lastId };
    }

    // ---- WebSocket -----------------------------------------------------------------------------------

    wsUrl() {
      return this.config.baseUrl.replace(/^http/, "ws") + "/ws/" + encodeURIComponent(this.config.room);
    }

    connect() {
      clearTimeout(this.reconnectTimer);
      if (!this.config || this.status === "stopped") return;
      if (this.status !== "fallback" && this.status !== "polling") this.setStatus("connecting", TRANSPORT.WEBSOCKET, "");
      let ws;
      try {
        ws = new WebSocket(this.wsUrl());
      } catch (e) {
        this.onSocketDown(undefined); // no socket, so no close code
        return;
      }
      this.ws = ws;
      let welcomed = false;
      let askedAfter = this.lastId;
      ws.onopen = () => {
        askedAfter = this.lastId;
        ws.send(
          JSON.stringify({
            type: "hello",
            player_id: this.config.player,
            token: this.config.token,
            last_event_id: this.lastId,
            epoch: this.epoch,
          })
        );
      };
      ws.onmessage = (msg) => {
        let frame;
        try {
          frame = JSON.parse(msg.data);
        } catch (e) {
          return;
        }
        this.observeServerTime(frame.ts, nowEpochMs());
        if ((frame.type === "ack" || frame.type === "error") && frame.data && this.commands.has(frame.data.command)) {
          this.commands.get(frame.data.command)(frame.type === "ack" ? { ok: true, data: frame.data } : { ok: false, error: frame.data });
        } else if (frame.type === "welcome") {
          welcomed = true;
          if (frame.data && frame.data.recovered && frame.data.epoch) this.epoch = frame.data.epoch;
          this.onWelcome();
        } else if (frame.type === "snapshot") {
          this.acceptSnapshot(frame.data, askedAfter);
        } else if (frame.type === "config_changed") {
          if (frame.data && frame.data.transport === TRANSPORT.POLLING) this.toPolling("The server moved you to polling.");
        } else if (frame.id !== null && frame.id !== undefined) {
          this.acceptBatch([frame], TRANSPORT.WEBSOCKET);
        }
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.settleCommands();
        clearInterval(this.pingTimer);
        if (!welcomed) this.report.connect_attempts.failure++;
        else this.report.disconnects++;
        this.onSocketDown(ev.code);
      };
    }

    // ---- moves over the socket ------------------------------------------------------------------------

    // A move sent as a `command` frame on the open socket: no new request, no HTTP round trip on a phone. Resolves
    // {ok: true, data} on the server's ack, {ok: false, error} on its refusal, or null when the socket cannot say
    // (not connected, closed or silent for `timeoutMs`): the caller then sends the move over REST with the same
    // key, which the server answers once whichever copy arrived first.
    command(name, data, key, timeoutMs) {
      const ws = this.ws;
      if (this.status !== "connected" || !ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle(null), timeoutMs);
        const settle = (outcome) => {
          clearTimeout(timer);
          this.commands.delete(key);
          resolve(outcome);
        };
        this.commands.set(key, settle);
        try {
          ws.send(JSON.stringify({ type: "command", id: key, name, data }));
        } catch (e) {
          settle(null);
        }
      });
    }

    settleCommands() {
      for (const settle of Array.from(this.commands.values())) settle(null);
    }

    onWelcome() {
      this.report.connect_attempts.success++;
      if (this.everConnected) this.report.reconnects++;
      const wasDown = this.status === "fallback" || this.status === "polling";
      this.everConnected = true;
      this.attempt = 0;
      this.stopLongPoll();
      this.setStatus("connected", TRANSPORT.WEBSOCKET, "");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) {
          this.ws.send(JSON.stringify({ type: "ping", t: Date.now() }));
        }
      }, PING_MS);
      if (wasDown) this.backfill();
    }

    onSocketDown(code) {
      if (STOP_REASONS[code]) {
        this.stopLongPoll();
        if (SEAT_GONE_CODES.has(code)) this.forgetSeat(this.config.room, this.config.player);
        this.setStatus("stopped", this.transport, STOP_REASONS[code]);
        return;
      }
      if (code === CLOSE.NOT_IN_COHORT) {
        this.toPolling("WebSocket is not enabled for you.");
        return;
      }
      if (this.status === "polling") return; // the flag moved us; the long-poll tells us when to come back
      if (this.status !== "fallback") {
        this.report.fallback_activations++;
        this.setStatus("fallback", TRANSPORT.LONGPOLL, RECONNECT_CODES.has(code) ? "server restarting" : "");
      }
      this.startLongPoll();
      const delay = fullJitter(this.attempt++);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    }

    // The socket's backoff is for a server that is down or overloaded; once a poll succeeded again, or the
    // browser says it is back online, waiting it out only keeps the player "Disconnected" for nothing.
    kickReconnect() {
      if (this.status !== "fallback" || this.ws || !this.config) return; // an attempt is already under way
      clearTimeout(this.reconnectTimer);
      this.attempt = 0;
      this.reconnectTimer = setTimeout(() => this.connect(), Math.random() * KICK_JITTER_MS);
    }

    toPolling(reason) {
      clearTimeout(this.reconnectTimer);
      this.setStatus("polling", TRANSPORT.LONGPOLL, reason);
      this.startLongPoll();
    }

    // ---- HTTP: backfill and long-poll ---------------------------------------------------------------

    async fetchEvents(wait, signal) {
      const after = this.lastId;
      const url =
        this.config.baseUrl +
        "/api/rooms/" +
        encodeURIComponent(this.config.room) +
        "/events?after=" +
        after +
        "&wait=" +
        wait +
        (this.epoch ? "&epoch=" + encodeURIComponent(this.epoch) : "");
      const resp = await fetch(url, { headers: { Authorization: "Bearer " + this.config.token }, signal });
      if (resp.status === 401 || resp.status === 404) {
        const err = new Error("gone");
        err.stopCode = resp.status === 401 ? CLOSE.AUTH : CLOSE.UNKNOWN_ROOM;
        throw err;
      }
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const body = await resp.json();
      body.askedAfter = after;
      return body;
    }

    // ---- the server's clock ---------------------------------------------------------------------------

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
      return nowEpochMs() + this.clockOffsetMs;
    }

    absorb(body, via) {
      const arrived = nowEpochMs();
      for (const e of body.events || []) this.observeServerTime(e.ts, arrived);
      if (body.snapshot) this.acceptSnapshot(body.snapshot, body.askedAfter);
      else if (body.epoch && this.epoch === null) this.epoch = body.epoch;
      this.acceptBatch(body.events || [], via);
    }

    async backfill() {
      try {
        this.absorb(await this.fetchEvents(0), TRANSPORT.WEBSOCKET);
      } catch (e) {}
    }

    startLongPoll() {
      if (this.polling || !this.config) return;
      this.polling = true;
      const abort = new AbortController();
      this.pollAbort = abort;
      const cfg = this.config;
      // After a failed poll the next one asks with wait=0: it answers at once when the network is back, and
      // its success ends the socket's backoff (a held long-poll would only answer at the next event).
      let failed = false;
      const loop = async () => {
        while (!abort.signal.aborted && this.config === cfg) {
          try {
            const body = await this.fetchEvents(failed ? 0 : LONGPOLL_WAIT_S, abort.signal);
            if (abort.signal.aborted) return;
            this.absorb(body, TRANSPORT.LONGPOLL);
            if (failed) this.kickReconnect();
            failed = false;
            if (body.transport === TRANSPORT.WEBSOCKET && this.status === "polling") {
              this.setStatus("fallback", TRANSPORT.LONGPOLL, "");
              this.attempt = 0;
              this.connect();
            } else if (body.transport === TRANSPORT.POLLING && this.status === "fallback") {
              this.toPolling("WebSocket is not enabled for you.");
            }
          } catch (e) {
            if (abort.signal.aborted) return;
            if (e.stopCode) {
              this.onSocketDown(e.stopCode);
              return;
            }
            failed = true;
            await new Promise((r) => setTimeout(r, LONGPOLL_RETRY_MS));
          }
        }
      };
      loop().finally(() => {
        if (this.pollAbort === abort) {
          this.polling = false;
          this.pollAbort = null;
        }
      });
    }

    stopLongPoll() {
      if (this.pollAbort) this.pollAbort.abort();
      this.pollAbort = null;
      this.polling = false;
    }

    // ---- hand-over to Python ------------------------------------------------------------------------

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
      this.takeRendered(id, nowEpochMs());
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
      if (!this.quiet) this.takeRendered(afterId, nowEpochMs()); // without a live view, Python draws them
      const report = this.report;
      this.report = emptyReport();
      return report;
    }

    batch(afterId, knownStatus, due = false) {
      const snap = this.snapshotFor(afterId, true);
      // after a reset the caller's id is from the old history: everything buffered is new to it
      const fresh = snap ? this.events.slice() : this.events.filter((e) => e.id > afterId);
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
    // at once; otherwise it resolves when they arrive, or after `timeoutMs` with just the connection state.
    next(afterId, timeoutMs, knownStatus) {
      afterId = Number(afterId) || 0;
      this.handedOverAt = 0; // Python is back
      const handOver = (value) => {
        this.handedOverAt = Date.now();
        return value;
      };
      const ready = this.batch(afterId, knownStatus);
      if (ready) return Promise.resolve(handOver(ready));
      return new Promise((resolve) => {
        let timer = null;
        const check = () => {
          const b = this.batch(afterId, knownStatus);
          if (b) {
            clearTimeout(timer);
            resolve(handOver(b));
          } else {
            this.waiters.push(check);
          }
        };
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(handOver(this.batch(afterId, knownStatus, true)));
        }, timeoutMs);
        this.waiters.push(check);
      });
    }
  }

  function readJson(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  root.parlorBridge = new Bridge();
  root.addEventListener("pagehide", () => root.parlorBridge && root.parlorBridge.flush());
  root.addEventListener("online", () => root.parlorBridge && root.parlorBridge.kickReconnect());
})(window);

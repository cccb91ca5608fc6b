// Fakes for the bridge's Node tests: a clock whose timers run only when a test advances it, a WebSocket a test
// drives from the server's side, a fetch a test answers, and an in-memory Storage. Loading the bridge's files
// registers them in globalThis.parlorParts, as the page's <script> tags do in window.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(here, "../../../frontend/static");
const require = createRequire(import.meta.url);

// frontend/live.py's BRIDGE_FILES, read from there (the one list, in load order), so a new part is loaded here too
const LIVE_PY = readFileSync(path.resolve(here, "../../../frontend/live.py"), "utf8");
const LISTED = LIVE_PY.match(/^BRIDGE_FILES = \(([^)]*)\)/m);
if (!LISTED) throw new Error("BRIDGE_FILES not found in frontend/live.py");
export const BRIDGE_FILES = [...LISTED[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
for (const name of BRIDGE_FILES) require(path.join(STATIC, name));
export const parts = globalThis.parlorParts;

// Lets every pending promise callback run (fetch answers, awaits in loops).
export const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

export class FakeClock {
  constructor() {
    this.t = 1_000_000;
    this.timers = new Map();
    this.seq = 0;
  }
  now = () => this.t;
  setTimeout = (fn, ms) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms || 0), fn });
    return id;
  };
  clearTimeout = (id) => {
    this.timers.delete(id);
  };
  // Runs every timer due within `ms`, in time order, letting promises settle between them.
  async advance(ms) {
    const end = this.t + ms;
    await settle();
    for (;;) {
      let next = null;
      for (const [id, timer] of this.timers) if (timer.at <= end && (!next || timer.at < next[1].at)) next = [id, timer];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  get length() {
    return this.items.size;
  }
  key(i) {
    return Array.from(this.items.keys())[i] ?? null;
  }
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

// Each `new WebSocket(url)` lands in `sockets`; a test opens it, sends it frames and closes it.
export function fakeWebSocketClass(sockets) {
  return class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedBy = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error("not open");
      this.sent.push(JSON.parse(data));
    }
    close(code) {
      this.readyState = 3;
      this.closedBy = { code };
    }
    // the server's side
    accept() {
      this.readyState = 1;
      this.onopen && this.onopen();
    }
    deliver(frame) {
      this.onmessage && this.onmessage({ data: JSON.stringify({ id: null, ts: null, data: {}, ...frame }) });
    }
    welcome(data = {}) {
      this.deliver({ type: "welcome", data: { last_event_id: 0, epoch: "e1", ...data } });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose && this.onclose({ code });
    }
    of(type) {
      return this.sent.filter((f) => f.type === type);
    }
  };
}

// fetch answered by `handler(url, init)`: a {status, body} (or a Promise of one), or undefined to hang until
// the request is aborted, as a swallowed request would.
export function fakeFetch(requests, handler) {
  return (url, init = {}) => {
    const request = { url, init, aborted: false };
    requests.push(request);
    return new Promise((resolve, reject) => {
      const signal = init.signal;
      if (signal) {
        signal.addEventListener("abort", () => {
          request.aborted = true;
          reject(new Error("aborted"));
        });
      }
      // answered on a later turn, as a network would: a loop of instant answers cannot starve the timers
      new Promise((r) => setImmediate(r)).then(() => handler(url, init)).then((answer) => {
        if (!answer) return;
        if (answer === "network") return reject(new TypeError("Failed to fetch"));
        resolve({ status: answer.status, ok: answer.status < 400, json: async () => answer.body });
      });
    });
  };
}

// A Bridge wired to fakes. `random` is fixed so backoff waits are known.
export function makeBridge({ random = () => 0.5, session = new MemoryStorage(), handler, clock = new FakeClock() } = {}) {
  const sockets = [];
  const requests = [];
  const reloads = []; // when the page was reloaded (location.reload)
  let keys = 0;
  const net = { handler: handler || (() => undefined) };
  const env = {
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    WebSocket: fakeWebSocketClass(sockets),
    fetch: fakeFetch(requests, (url, init) => net.handler(url, init)),
    random,
    session,
    local: new MemoryStorage(),
    locks: null,
    newKey: () => "key-" + ++keys,
    reload: () => reloads.push(clock.now()),
  };
  const bridge = new parts.Bridge(env, null);
  return { bridge, clock, sockets, requests, net, env, session, reloads };
}

export const CONFIG = { room: "ABCDE", player: "p1", token: "tok", baseUrl: "http://backend", lastId: 0 };

export function event(id, prev, type = "clue_posted") {
  return { id, prev, type, ts: 1, data: { text: "clue " + id } };
}

// The bridge's two transports, each one connection's life with a deadline on every wait:
//   SocketLink  one WebSocket: connect (CONNECT_TIMEOUT_MS), hello -> welcome (HELLO_TIMEOUT_MS), then a ping
//               every ping interval; no frame at all within the pong timeout after a ping means the link is dead
//               (a frozen NAT, a phone between networks): it is closed and reported down at once, without
//               waiting for a close the network will never deliver. Intervals come from the welcome.
//   fetchJson   one HTTP request with an AbortController deadline; the long-poll asks with its wait plus a
//               margin, so a request the network swallowed is abandoned and retried.
globalThis.parlorPart(function (parts) {
  "use strict";
  const { FRAME, CLOSE, PROTOCOL_VERSION, PROTOCOL_HEADER } = parts; // bridge/protocol.js, loaded before

  const CONNECT_TIMEOUT_MS = 5000;
  const HELLO_TIMEOUT_MS = 5000;
  const PING_INTERVAL_MS = 4000; // until the welcome says (ping_interval_seconds)
  const PONG_TIMEOUT_MS = 4000; // pong_timeout_seconds
  const FETCH_TIMEOUT_MS = 8000;
  const LONGPOLL_MARGIN_MS = 5000;
  const OPEN = 1; // WebSocket.OPEN

  // env: {WebSocket, setTimeout, clearTimeout, now}; on: {welcome(frame), frame(frame), down(code, welcomed, why)}
  class SocketLink {
    constructor(env, url, hello, on) {
      Object.assign(this, { env, url, hello, on });
      this.ws = null;
      this.welcomed = false;
      this.closed = false;
      this.timer = null; // the deadline being waited on: connect, welcome, or pong
      this.pingTimer = null;
      this.pingMs = PING_INTERVAL_MS;
      this.pongMs = PONG_TIMEOUT_MS;
    }

    open() {
      let ws;
      try {
        ws = new this.env.WebSocket(this.url);
      } catch (e) {
        this.env.setTimeout(() => this.fail(undefined, "no socket"), 0);
        return this;
      }
      this.ws = ws;
      this.deadline(CONNECT_TIMEOUT_MS, "connect timeout");
      ws.onopen = () => {
        this.send({ type: FRAME.HELLO, ...this.hello(), protocol: PROTOCOL_VERSION });
        this.deadline(HELLO_TIMEOUT_MS, "no welcome");
      };
      ws.onmessage = (msg) => this.received(msg);
      ws.onerror = () => {};
      ws.onclose = (ev) => this.fail(ev.code, "closed");
      return this;
    }

    deadline(ms, why) {
      this.env.clearTimeout(this.timer);
      this.timer = ms === null ? null : this.env.setTimeout(() => this.fail(undefined, why), ms);
    }

    received(msg) {
      if (this.closed) return;
      let frame;
      try {
        frame = JSON.parse(msg.data);
      } catch (e) {
        return;
      }
      if (this.welcomed) {
        this.deadline(null); // any frame proves the link alive
      } else if (frame.type === FRAME.WELCOME) {
        this.welcomed = true;
        this.deadline(null);
        const d = frame.data || {};
        if (d.ping_interval_seconds > 0) this.pingMs = d.ping_interval_seconds * 1000;
        if (d.pong_timeout_seconds > 0) this.pongMs = d.pong_timeout_seconds * 1000;
        this.schedulePing();
        this.on.welcome(frame);
        return;
      }
      if (frame.type !== FRAME.PONG) this.on.frame(frame);
    }

    schedulePing() {
      this.env.clearTimeout(this.pingTimer);
      this.pingTimer = this.env.setTimeout(() => {
        if (this.closed) return;
        this.send({ type: FRAME.PING, t: this.env.now() });
        this.deadline(this.pongMs, "no pong");
        this.schedulePing();
      }, this.pingMs);
    }

    isOpen() {
      return !this.closed && this.welcomed && this.ws && this.ws.readyState === OPEN;
    }

    send(frame) {
      try {
        this.ws.send(JSON.stringify(frame));
        return true;
      } catch (e) {
        return false;
      }
    }

    detach() {
      this.closed = true;
      this.env.clearTimeout(this.timer);
      this.env.clearTimeout(this.pingTimer);
      if (this.ws) this.ws.onopen = this.ws.onmessage = this.ws.onerror = this.ws.onclose = null;
    }

    // Gives up on the link: reported down at once, whatever the network does with the close.
    fail(code, why) {
      if (this.closed) return;
      this.detach();
      try {
        if (this.ws) this.ws.close(code === undefined ? CLOSE.NORMAL : undefined);
      } catch (e) {}
      this.on.down(code, this.welcomed, why);
    }

    // Closes it on purpose (leaving, moved to polling): no report.
    close(code, reason) {
      if (this.closed) return;
      this.detach();
      try {
        if (this.ws) this.ws.close(code, reason);
      } catch (e) {}
    }
  }

  // One request answered as JSON: resolves {status, body}; rejects on the network, on the deadline, or when
  // `signal` aborts. Every request names the protocol version the page speaks. env: {fetch, setTimeout, clearTimeout}.
  async function fetchJson(env, url, init, timeoutMs, signal) {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (signal) {
      if (signal.aborted) abort.abort();
      else signal.addEventListener("abort", onAbort);
    }
    const timer = env.setTimeout(() => abort.abort(), timeoutMs || FETCH_TIMEOUT_MS);
    try {
      const headers = { ...(init.headers || {}), [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
      const resp = await env.fetch(url, { ...init, headers, signal: abort.signal });
      let body = null;
      try {
        body = await resp.json();
      } catch (e) {}
      return { status: resp.status, ok: resp.ok, body };
    } finally {
      env.clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    SocketLink,
    fetchJson,
    TIMING: Object.freeze({
      CONNECT_TIMEOUT_MS,
      HELLO_TIMEOUT_MS,
      PING_INTERVAL_MS,
      PONG_TIMEOUT_MS,
      FETCH_TIMEOUT_MS,
      LONGPOLL_MARGIN_MS,
    }),
  };
});

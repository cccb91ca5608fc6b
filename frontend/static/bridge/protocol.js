// The wire protocol's words as the bridge uses them, copied from the Python package parlor_protocol (frames.py,
// codes.py, version.py: a test, tests/parlor_protocol/test_bridge_constants.py, fails when they drift apart), and
// what the page does when a server refuses its protocol version: reload, at most once a minute.
// Every part of the bridge registers what it defines through parlorPart, in the order frontend/live.py loads
// them (this file first); in Node, the tests load them in the same order into globalThis.
globalThis.parlorPart = function (factory) {
  const parts = (globalThis.parlorParts = globalThis.parlorParts || {});
  Object.assign(parts, factory(parts));
};
globalThis.parlorPart(function () {
  "use strict";

  // parlor_protocol.version: sent in hello and in a header of every HTTP request
  const PROTOCOL_VERSION = 1;
  const PROTOCOL_HEADER = "X-Parlor-Protocol";
  // parlor_protocol.FrameType
  const FRAME = Object.freeze({
    HELLO: "hello",
    PING: "ping",
    COMMAND: "command",
    WELCOME: "welcome",
    SNAPSHOT: "snapshot",
    PONG: "pong",
    ACK: "ack",
    ERROR: "error",
    CONFIG_CHANGED: "config_changed",
  });
  // parlor_protocol.CloseCode
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
    UNSUPPORTED_PROTOCOL: 4426,
  });
  // parlor_protocol.Transport
  const TRANSPORT = Object.freeze({ WEBSOCKET: "websocket", LONGPOLL: "longpoll", POLLING: "polling" });
  // the parlor_protocol.ErrorCode values the bridge itself reads or makes
  const ERROR = Object.freeze({ HTTP_ERROR: "http_error", UNSUPPORTED_PROTOCOL: "unsupported_protocol" });
  const HTTP_UNSUPPORTED_PROTOCOL = 426;

  const RELOAD_KEY = "parlor:protocol-reload"; // when this tab last reloaded for a refused version (epoch ms)
  const RELOAD_MIN_INTERVAL_MS = 60000;

  // A server that refuses this page's protocol version (4426, HTTP 426) runs a newer or older release: after a
  // deploy, a reload fetches the frontend that matches it. The time of the reload is kept in sessionStorage, which
  // outlives it: refused again within a minute, the reload did not help (this page is the newer one, or the deploy
  // is half done), so `attempt()` declines and the caller says so and retries with its backoff instead of
  // reloading in a loop.
  class ProtocolReload {
    // storage: the tab's sessionStorage; now(): epoch ms; reload(): the page's location.reload, or null (no page)
    constructor(storage, now, reload) {
      Object.assign(this, { storage, now, reload });
      this.reloading = false;
    }

    // Reloads (after `before()`, which saves what must survive it) unless this tab reloaded for a refused version
    // less than a minute ago; returns whether it did.
    attempt(before) {
      if (this.reloading) return true;
      if (!this.reload) return false;
      const now = this.now();
      const last = Number(this.storage.getItem(RELOAD_KEY));
      if (last > 0 && now >= last && now - last < RELOAD_MIN_INTERVAL_MS) return false;
      this.storage.setItem(RELOAD_KEY, String(now));
      this.reloading = true;
      if (before) before();
      this.reload();
      return true;
    }
  }

  return {
    PROTOCOL_VERSION,
    PROTOCOL_HEADER,
    FRAME,
    CLOSE,
    TRANSPORT,
    ERROR,
    HTTP_UNSUPPORTED_PROTOCOL,
    RELOAD_MIN_INTERVAL_MS,
    ProtocolReload,
  };
});

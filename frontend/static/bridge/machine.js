// The bridge's connection state machine: every state, what the light says in it, and every transition, in one
// table. Nothing else sets a state: the Bridge fires events and reacts to the state it lands in. An event a state
// does not list is ignored (a late callback of a socket already given up), and `fire` says so by returning false.
// Also the reconnect pacing (Backoff) and the WebSocket connection budget (ConnectBudget), which only count.
globalThis.parlorPart(function () {
  "use strict";

  // state -> {status: the light (frontend/i18n.py's status_labels keys), on: {event: next state}}
  //   idle        no seat
  //   connecting  first WebSocket attempt of a seat, nothing received yet
  //   connected   a welcomed socket that answers its pings
  //   fallback    the socket is down: the long-poll carries events and a reconnect is scheduled
  //   polling     the server keeps this player on long-poll (rollout cohort, config_changed)
  //   stopped     the seat is gone or open in another tab: nothing is retried
  const STATES = Object.freeze({
    idle: { status: "idle", on: { configure: "connecting", poll_only: "polling" } },
    connecting: {
      status: "connecting",
      on: { welcome: "connected", lost: "fallback", poll_only: "polling", stop: "stopped", leave: "idle" },
    },
    connected: { status: "connected", on: { lost: "fallback", poll_only: "polling", stop: "stopped", leave: "idle" } },
    fallback: { status: "fallback", on: { welcome: "connected", poll_only: "polling", stop: "stopped", leave: "idle" } },
    polling: { status: "polling", on: { socket_allowed: "fallback", stop: "stopped", leave: "idle" } },
    stopped: { status: "stopped", on: { leave: "idle" } },
  });

  class Machine {
    constructor(onEnter) {
      this.state = "idle";
      this.onEnter = onEnter || (() => {});
    }

    get status() {
      return STATES[this.state].status;
    }

    can(event) {
      return event in STATES[this.state].on;
    }

    // Moves to the state the table names for `event` and runs the entry hook with (state, from, event, arg).
    fire(event, arg) {
      const next = STATES[this.state].on[event];
      if (next === undefined) return false;
      const from = this.state;
      this.state = next;
      this.onEnter(next, from, event, arg);
      return true;
    }
  }

  // Full jitter (a random wait up to base * 2^attempt, capped), counted in attempts that reset only after a link
  // stayed up `minUptimeMs` (reconnecting-websocket's rule): a server that welcomes and drops at once keeps
  // the waits growing instead of resetting them on every welcome.
  class Backoff {
    constructor({ baseMs, maxMs, minUptimeMs = 5000, random = Math.random }) {
      Object.assign(this, { baseMs, maxMs, minUptimeMs, random });
      this.attempt = 0;
      this.upSince = null;
    }

    cap() {
      return Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    }

    next() {
      const wait = this.random() * this.cap();
      this.attempt++;
      return wait;
    }

    up(now) {
      this.upSince = now;
    }

    down(now) {
      if (this.upSince !== null && now - this.upSince >= this.minUptimeMs) this.attempt = 0;
      this.upSince = null;
    }

    reset() {
      this.attempt = 0;
      this.upSince = null;
    }
  }

  // At most `limit` WebSocket connections in any `windowMs`: however the waits fall, a page never storms a
  // struggling server. `wait(now)` is how long the next one must wait; `take(now)` records one.
  class ConnectBudget {
    constructor({ limit, windowMs }) {
      Object.assign(this, { limit, windowMs });
      this.starts = [];
    }

    wait(now) {
      this.starts = this.starts.filter((t) => now - t < this.windowMs);
      if (this.starts.length < this.limit) return 0;
      return this.starts[0] + this.windowMs - now;
    }

    take(now) {
      this.starts.push(now);
    }
  }

  return { STATES, Machine, Backoff, ConnectBudget };
});

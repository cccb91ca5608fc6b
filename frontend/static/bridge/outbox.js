// The page's outbox: every move (clue, ready, vote, guess, and the host's advance, start, kick, add_bot,
// settings) is a message with its own Idempotency-Key. It is kept in sessionStorage until the server answered
// it, so a move made while the link is down survives a reload and is sent once the link is back; the server
// applies a key at most once, so a copy that crosses its first answer changes nothing. Moves leave in the order
// they were made, one at a time. `send(entry)` (the Bridge's) resolves {ok: true, data} when the game took the
// move, {ok: false, error: {code, message}} when it refused it, or null when it could not be delivered (then the
// move stays queued and is retried, paced, until the link answers).
globalThis.parlorPart(function () {
  "use strict";

  const RECENT_CAP = 20;
  // entry.state
  const QUEUED = "queued"; // waiting for a link
  const SENDING = "sending"; // on its way
  const DONE = "done"; // the game took it
  const REFUSED = "refused"; // the game refused it; entry.error says why

  class Outbox {
    // env: {setTimeout, clearTimeout, now}; backoff: paces retries while moves wait; send: see above
    constructor({ storage, key, env, backoff, send, newKey }) {
      Object.assign(this, { storage, key, env, backoff, send, newKey });
      this.entries = []; // queued or sending, oldest first
      this.recent = []; // settled, newest last
      this.subscribers = [];
      this.flushing = false;
      this.retryTimer = null;
      this.waiters = new Map(); // key -> resolve(entry) for whoever made the move
      this.load();
    }

    load() {
      let saved = [];
      try {
        saved = JSON.parse(this.storage.getItem(this.key) || "[]");
      } catch (e) {}
      // An entry that was on its way when the page went away may or may not have arrived: sent again, same key.
      this.entries = (Array.isArray(saved) ? saved : []).map((e) => ({ ...e, state: QUEUED, waited: true }));
    }

    save() {
      try {
        if (this.entries.length) {
          const kept = this.entries.map(({ key, name, data, label, made }) => ({ key, name, data, label, made }));
          this.storage.setItem(this.key, JSON.stringify(kept));
        } else {
          this.storage.removeItem(this.key);
        }
      } catch (e) {}
    }

    pending() {
      return this.entries.slice();
    }

    subscribe(fn) {
      this.subscribers.push(fn);
    }

    changed(entry) {
      for (const fn of this.subscribers) {
        try {
          fn(entry, this);
        } catch (e) {}
      }
    }

    // Queues a move and starts sending; resolves with the entry once it is settled (done or refused).
    // `label` says the move in the player's words, for the page's "sending…" strip.
    add(name, data, label, key) {
      const entry = { key: key || this.newKey(), name, data: data || {}, label: label || "", made: this.env.now() };
      entry.state = QUEUED;
      this.entries.push(entry);
      this.save();
      this.changed(entry);
      const settled = new Promise((resolve) => this.waiters.set(entry.key, resolve));
      this.flush();
      return { entry, settled };
    }

    // Sends what waits, in order, until one cannot be delivered; then retries later.
    async flush() {
      if (this.flushing) return;
      this.flushing = true;
      this.env.clearTimeout(this.retryTimer);
      this.retryTimer = null;
      try {
        while (this.entries.length) {
          const entry = this.entries[0];
          entry.state = SENDING;
          this.changed(entry);
          let outcome = null;
          try {
            outcome = await this.send(entry);
          } catch (e) {
            outcome = null;
          }
          if (this.entries[0] !== entry) continue; // cleared meanwhile (the seat was left)
          if (!outcome) {
            entry.state = QUEUED;
            entry.waited = true;
            this.changed(entry);
            this.retryTimer = this.env.setTimeout(() => this.flush(), this.backoff.next());
            return;
          }
          this.backoff.reset();
          this.entries.shift();
          this.save();
          entry.state = outcome.ok ? DONE : REFUSED;
          entry.settledAt = this.env.now();
          entry.error = outcome.ok ? null : outcome.error || {};
          entry.answer = outcome.ok ? outcome.data : null;
          this.recent.push(entry);
          if (this.recent.length > RECENT_CAP) this.recent.shift();
          this.changed(entry);
          const waiter = this.waiters.get(entry.key);
          this.waiters.delete(entry.key);
          if (waiter) waiter(entry);
        }
      } finally {
        this.flushing = false;
      }
    }

    // The link is back: whatever waits goes now, not at the end of its retry wait.
    kick() {
      if (!this.entries.length || this.flushing) return;
      this.backoff.reset();
      this.flush();
    }

    stop() {
      this.env.clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.entries = [];
      this.waiters.clear();
    }
  }

  return { Outbox, MOVE: Object.freeze({ QUEUED, SENDING, DONE, REFUSED }) };
});

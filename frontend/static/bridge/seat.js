// The tab's seat. sessionStorage is per tab: a reload, or a tab the browser restores, finds its seat again, while
// a second tab starts empty and is a second player. localStorage keeps one record per room only so that opening
// the room link after closing the tab can offer "Continue as NAME"; nothing resumes from it without that click.
// A Web Lock held per open seat lets the offer be skipped while the seat is still open in another tab.
globalThis.parlorPart(function () {
  "use strict";

  const SEAT_KEY = "parlor:seat";
  const OFFER_PREFIX = "parlor:offer:";
  const OFFER_TTL_MS = 24 * 3600 * 1000;

  function readJson(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  // What a seat keeps in the tab's sessionStorage besides the seat itself (the event mirror, the outbox).
  const seatKeys = (room, player) => ["parlor:" + room + ":" + player, "parlor:outbox:" + room + ":" + player];

  class SeatStore {
    constructor(session, local, locks) {
      Object.assign(this, { session, local, locks });
      this.release = null; // releases the Web Lock that tells other tabs this seat is open here
      this.held = null; // "room:player" of that lock
    }

    lockName(room, player) {
      return "parlor-seat:" + room + ":" + player;
    }

    remember(cfg) {
      const seat = { room: cfg.room, player: cfg.player, token: cfg.token, name: cfg.name || "", savedAt: Date.now() };
      try {
        this.session.setItem(SEAT_KEY, JSON.stringify(seat));
        this.pruneOffers();
        this.local.setItem(OFFER_PREFIX + cfg.room + ":" + cfg.player, JSON.stringify(seat));
      } catch (e) {}
      this.unlock();
      if (this.locks) {
        this.held = cfg.room + ":" + cfg.player;
        this.locks.request(this.lockName(cfg.room, cfg.player), () => new Promise((r) => (this.release = r)));
      }
    }

    unlock() {
      if (this.release) this.release();
      this.release = null;
      this.held = null;
    }

    pruneOffers() {
      for (let i = this.local.length - 1; i >= 0; i--) {
        const key = this.local.key(i);
        if (!key || !key.startsWith(OFFER_PREFIX)) continue;
        const offer = readJson(this.local, key);
        if (!offer || !(Date.now() - offer.savedAt < OFFER_TTL_MS)) this.local.removeItem(key);
      }
    }

    // What the page holds for Python's first run in a fresh session: this tab's seat, and for `room` (the room
    // link's code) an offer to continue the newest seat there that is not open in any other tab.
    async stored(room) {
      const seat = readJson(this.session, SEAT_KEY);
      const prefix = OFFER_PREFIX + String(room || "").toUpperCase() + ":";
      if (seat || !room) return { seat, offer: null };
      const offers = [];
      for (let i = 0; i < this.local.length; i++) {
        const key = this.local.key(i);
        const offer = key && key.startsWith(prefix) ? readJson(this.local, key) : null;
        if (offer) offers.push(offer);
      }
      offers.sort((a, b) => (b.savedAt || 0) - (a.savedAt || 0));
      const open = new Set();
      if (offers.length && this.locks) {
        for (const lock of (await this.locks.query()).held || []) open.add(lock.name);
      }
      const offer = offers.find((o) => !open.has(this.lockName(o.room, o.player))) || null;
      return { seat, offer };
    }

    forget(room, player) {
      const matches = (s) => s && s.room === room && s.player === player;
      try {
        if (matches(readJson(this.session, SEAT_KEY))) this.session.removeItem(SEAT_KEY);
        this.local.removeItem(OFFER_PREFIX + room + ":" + player);
        for (const key of seatKeys(room, player)) this.session.removeItem(key);
      } catch (e) {}
      if (this.held === room + ":" + player) this.unlock();
    }
  }

  return { SeatStore, seatKeys, readJson };
});

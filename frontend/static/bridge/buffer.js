// The room's events as this tab holds them: id-ordered, de-duplicated, mirrored to sessionStorage for a reload,
// and checked for holes. Every frame says which event this player saw before it (`prev`, docs/protocol.md): a
// frame whose `prev` is beyond the last id we hold means something in between never arrived, so it is not
// accepted; the Bridge counts the gap and backfills from `lastId`, whose answer carries the missing events.
globalThis.parlorPart(function () {
  "use strict";

  const BUFFER_CAP = 500;
  // accept()'s verdicts
  const ADDED = "added";
  const DUPLICATE = "duplicate";
  const GAP = "gap";

  class EventBuffer {
    constructor(storage, key) {
      this.storage = storage;
      this.key = key;
      this.events = []; // frames with ids, ascending, unique
      this.lastId = 0;
      this.epoch = null; // the room history our ids belong to; the server resyncs us when it changes
      this.snapshot = null; // {last_event_id, data, reset}: the log did not reach back far enough
    }

    restore(minId) {
      try {
        const saved = JSON.parse(this.storage.getItem(this.key) || "null");
        if (saved && Array.isArray(saved.events)) {
          this.events = saved.events;
          this.lastId = saved.lastId || 0;
          this.epoch = saved.epoch || null;
        }
      } catch (e) {}
      this.lastId = Math.max(this.lastId, minId || 0);
    }

    persist() {
      try {
        this.storage.setItem(this.key, JSON.stringify({ events: this.events, lastId: this.lastId, epoch: this.epoch }));
      } catch (e) {}
    }

    // Every source asks for events after lastId, so an id at or below it is a duplicate (a replay racing the
    // backfill, or an event a snapshot already covers). A `prev` below lastId is normal after a snapshot; a
    // missing `prev` (an older server) is not checked.
    accept(frame) {
      if (frame.id === null || frame.id === undefined) return DUPLICATE;
      if (frame.id <= this.lastId) return DUPLICATE;
      if (Number.isInteger(frame.prev) && frame.prev > this.lastId) return GAP;
      let i = this.events.length;
      while (i > 0 && this.events[i - 1].id > frame.id) i--;
      this.events.splice(i, 0, frame);
      if (this.events.length > BUFFER_CAP) this.events.splice(0, this.events.length - BUFFER_CAP);
      this.lastId = frame.id;
      return ADDED;
    }

    // A snapshot from another history (new epoch), or one behind the id we asked to resume from (the server
    // says we are ahead of its log), means the ids we hold were lost or will be handed out again: drop what we
    // buffered and go back down to the snapshot's id. The snapshot is then handed to Python whatever id it
    // asks after ("reset"), since that id belongs to the old history. A snapshot that merely raced newer live
    // events (same epoch, at or after what we asked from) never moves the id down. Returns whether it reset.
    acceptSnapshot(snap, askedAfter) {
      const reset =
        (this.epoch !== null && snap.epoch !== undefined && snap.epoch !== this.epoch) ||
        (typeof askedAfter === "number" && snap.last_event_id < askedAfter);
      if (snap.epoch !== undefined) this.epoch = snap.epoch;
      this.snapshot = { last_event_id: snap.last_event_id, data: snap, reset };
      if (reset) {
        this.events = [];
        this.lastId = snap.last_event_id;
      } else {
        this.events = this.events.filter((e) => e.id > snap.last_event_id);
        this.lastId = Math.max(this.lastId, snap.last_event_id);
      }
      return reset;
    }

    snapshotFor(afterId, take) {
      if (!this.snapshot) return null;
      if (!this.snapshot.reset && this.snapshot.last_event_id <= afterId) return null;
      if (take) this.snapshot.reset = false;
      return this.snapshot.data;
    }

    after(afterId) {
      return this.events.filter((e) => e.id > afterId);
    }
  }

  return { EventBuffer, BUFFER_CAP, ACCEPT: Object.freeze({ ADDED, DUPLICATE, GAP }) };
});

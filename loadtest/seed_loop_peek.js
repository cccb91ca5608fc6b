// The seed's read of the bridge, for loadtest/seed_loop_page.py only: whatever is buffered right now, never
// waiting. It reads the installed bridge's buffer from outside, so the game's bridge.js carries no seed code.
(function (bridge, afterId, batchCap) {
  const fresh = bridge.events.filter((e) => e.id > afterId).slice(0, batchCap);
  const snap = bridge.snapshot && bridge.snapshot.last_event_id > afterId ? bridge.snapshot.data : null;
  return { events: fresh, snapshot: snap, more: false, ...bridge.state(), report: bridge.takeReport(afterId) };
})

// Injected into player B's page by loadtest/browser_latency.py: records the epoch time (ms) at which an armed
// text first appears in the clue feed (a row is `<p><b>name</b>text</p>` in `.parlor-feed`). A MutationObserver
// fires in the same task as the DOM change. `wait` returns a Promise of that time, so the benchmark waits with
// one call instead of polling the page (a poll is main-thread work that can land in the sample it waits for). Where the page runs the
// bridge, it also notes when the bridge took in the event, which splits a sample into the server's part and
// Streamlit's part.
(function (w) {
  const now = () => performance.timeOrigin + performance.now();
  const probe = { target: null, seenAt: null, bridgeAt: null, resolve: null, seen: null };
  const check = () => {
    if (probe.target === null || probe.seenAt !== null) return;
    // the text node after the name; `.parlor-clue-text` is the markup before 2026-11-26 (loadtest/browser_ab.py)
    const rows = w.document.querySelectorAll(".parlor-feed > p, .parlor-clue-text");
    for (const row of rows) {
      const text = row.classList.contains("parlor-clue-text") ? row : row.lastChild;
      if (text && text.textContent === probe.target) {
        probe.seenAt = now();
        probe.resolve(probe.seenAt);
        return;
      }
    }
  };
  new MutationObserver(check).observe(w.document.body, { childList: true, subtree: true, characterData: true });
  // The bridge may be installed after this script runs, so it is hooked at the first arm that finds it.
  const hookBridge = () => {
    const bridge = w.parlorBridge;
    if (!bridge || bridge.parlorProbeHooked) return;
    const accept = bridge.acceptBatch.bind(bridge);
    bridge.acceptBatch = (frames, via) => {
      if (probe.target !== null && probe.bridgeAt === null) {
        if (frames.some((f) => f && f.data && f.data.text === probe.target)) probe.bridgeAt = now();
      }
      return accept(frames, via);
    };
    bridge.parlorProbeHooked = true;
  };
  probe.arm = (text) => {
    hookBridge();
    probe.target = text;
    probe.seenAt = null;
    probe.bridgeAt = null;
    probe.seen = new Promise((resolve) => (probe.resolve = resolve));
    check();
  };
  // {seen, bridge} epoch ms once the armed text is on screen (bridge: null without a bridge), or a rejection
  // after `ms` (a clue that never shows up fails the run).
  probe.wait = (ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${probe.target}" not seen in ${ms} ms`)), ms);
      probe.seen.then((seen) => {
        clearTimeout(timer);
        resolve({ seen, bridge: probe.bridgeAt });
      });
    });
  w.parlorProbe = probe;
})(window);

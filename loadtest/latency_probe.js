// Injected into player B's page by loadtest/browser_latency.py: records the epoch time (ms) at which an armed
// text first appears in the clue feed. A MutationObserver fires in the same task as the DOM change. `arm`
// returns a Promise of that time, so the benchmark waits with one call instead of polling the page (a poll is
// main-thread work that can land in the middle of the sample it is waiting for).
(function (w) {
  const probe = { target: null, seenAt: null, resolve: null };
  const check = () => {
    if (probe.target === null || probe.seenAt !== null) return;
    for (const el of w.document.querySelectorAll(".parlor-clue-text")) {
      if (el.textContent === probe.target) {
        probe.seenAt = performance.timeOrigin + performance.now();
        probe.resolve(probe.seenAt);
        return;
      }
    }
  };
  new MutationObserver(check).observe(w.document.body, { childList: true, subtree: true, characterData: true });
  probe.arm = (text) => {
    probe.target = text;
    probe.seenAt = null;
    probe.seen = new Promise((resolve) => (probe.resolve = resolve));
    check();
  };
  // The armed text's time, or a rejection after `ms` (a clue that never shows up fails the run).
  probe.wait = (ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${probe.target}" not seen in ${ms} ms`)), ms);
      probe.seen.then((t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  w.parlorProbe = probe;
})(window);

// Injected into player B's page by loadtest/browser_latency.py: records the epoch time (ms) at which an armed
// text first appears in the clue feed. A MutationObserver fires in the same task as the DOM change.
(function (w) {
  const probe = { target: null, seenAt: null };
  const check = () => {
    if (probe.target === null || probe.seenAt !== null) return;
    for (const el of w.document.querySelectorAll(".parlor-clue-text")) {
      if (el.textContent === probe.target) {
        probe.seenAt = performance.timeOrigin + performance.now();
        return;
      }
    }
  };
  new MutationObserver(check).observe(w.document.body, { childList: true, subtree: true, characterData: true });
  probe.arm = (text) => {
    probe.target = text;
    probe.seenAt = null;
    check();
  };
  w.parlorProbe = probe;
})(window);

// Injected into player A's page by loadtest/browser_latency.py and browser_ab.py: records the epoch time (ms) of
// the last click on a "Send" button (the live view's or, in older pages, Streamlit's form button). Captured on
// the way down, so the time is the click's own (event.timeStamp), before any handler runs.
(function (w) {
  if (w.parlorClick) return;
  const probe = { at: null };
  w.document.addEventListener(
    "click",
    (ev) => {
      const button = ev.target && ev.target.closest ? ev.target.closest("button") : null;
      if (button && button.textContent.trim() === "Send") probe.at = performance.timeOrigin + ev.timeStamp;
    },
    { capture: true }
  );
  w.parlorClick = probe;
})(window);

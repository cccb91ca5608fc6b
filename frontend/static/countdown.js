// Live countdowns without Streamlit reruns: every element with class "parlor-countdown" and a
// data-deadline (server epoch seconds) shows the time left, on the server's clock as the bridge estimates it
// (a browser whose clock is off still counts down to the real deadline). It steps once a second, just after
// the displayed second changes, with no transition: with software rendering a continuously animated bar
// costs both the page's main thread and its compositor a frame every 16 ms, and those frames delay the live
// feed's updates.
(function (w) {
  "use strict";
  if (w.parlorCountdown) return;
  const SLACK_MS = 5; // wake just after the boundary, so ceil() has already moved on
  const format = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const tick = () => {
    const bridge = w.parlorBridge;
    const nowMs = bridge && bridge.serverNowMs ? bridge.serverNowMs() : performance.timeOrigin + performance.now();
    const now = nowMs / 1000;
    let nextMs = 1000;
    for (const el of w.document.querySelectorAll(".parlor-countdown[data-deadline]")) {
      const deadline = Number(el.dataset.deadline);
      const total = Number(el.dataset.total) || 0;
      const left = deadline - now;
      const text = format(left);
      const label = el.querySelector(".parlor-countdown-text") || el;
      if (label.textContent !== text) label.textContent = text;
      el.classList.toggle("parlor-countdown-urgent", left <= 10);
      const bar = el.querySelector(".parlor-countdown-bar > span");
      if (bar && total > 0) {
        // The bar shows the same whole second as the text.
        const scale = "scaleX(" + Math.max(0, Math.min(1, Math.ceil(Math.max(0, left)) / total)).toFixed(4) + ")";
        if (bar.style.transform !== scale) bar.style.transform = scale;
      }
      if (left > 0) nextMs = Math.min(nextMs, (left - Math.floor(left)) * 1000 + SLACK_MS);
    }
    w.parlorCountdown = w.setTimeout(tick, Math.max(SLACK_MS, nextMs));
  };
  tick();
})(window);

// Live countdowns without Streamlit reruns: every element with class "parlor-countdown" and a
// data-deadline (server epoch seconds) shows the time left, refreshed four times a second.
(function (w) {
  "use strict";
  if (w.parlorCountdown) return;
  const format = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const tick = () => {
    const now = (performance.timeOrigin + performance.now()) / 1000;
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
        const scale = "scaleX(" + Math.max(0, Math.min(1, left / total)).toFixed(4) + ")";
        if (bar.style.transform !== scale) bar.style.transform = scale;
      }
    }
  };
  w.parlorCountdown = w.setInterval(tick, 250);
  tick();
})(window);

// Live countdowns without Streamlit reruns: every element with class "parlor-countdown" and a
// data-deadline (server epoch seconds) shows the time left, on the server's clock as the bridge estimates it
// (a browser whose clock is off still counts down to the real deadline). It steps once a second, just after
// the displayed second changes, with no transition: with software rendering a continuously animated bar
// costs both the page's main thread and its compositor a frame every 16 ms, and those frames delay the live
// feed's updates.
// An idle game page must cost a phone nothing measurable, and a changed text node costs a layout of the page
// every second. So the digits are drawn into a canvas the size of the text box the view drew (its size is
// fixed by the style sheet, so the swap moves nothing): a canvas repaints without layout, and the bar moves by
// transform. The time left is also the canvas's aria-label (an attribute no style rule reads: no layout).
// While the tab is hidden no timer runs; it catches up the moment the tab is shown again.
// The server's clock: the bridge's estimate, and the time the view was drawn (data-drawn, stamped by Python). Just
// after a reload the bridge has heard nothing from the server, or only old events replayed to a polling seat, and
// its estimate is the browser's clock or an old event's time; a countdown drawn before we first saw it bounds the
// server's clock from below as a stamped frame does, so the first frame counts from the real time left.
(function (w) {
  "use strict";
  if (w.parlorCountdown) return;
  const SLACK_MS = 5; // wake just after the boundary, so ceil() has already moved on
  const doc = w.document;
  const countdowns = doc.getElementsByClassName("parlor-countdown"); // live: no search of the page per tick
  const format = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const canvasOf = (label) => {
    const first = label.firstElementChild;
    if (first && first.tagName === "CANVAS") return first;
    // Once per drawn view: the box's size and font (one layout, when the view itself was just laid out).
    const style = w.getComputedStyle(label);
    const width = label.clientWidth;
    const height = label.clientHeight;
    const ratio = w.devicePixelRatio || 1;
    const canvas = doc.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    canvas.style.cssText = `display:block;width:${width}px;height:${height}px`;
    canvas.setAttribute("role", "timer");
    canvas.parlorFont = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    canvas.parlorAlign = style.textAlign === "right" || style.textAlign === "end" ? "right" : "left";
    label.removeAttribute("aria-label");
    label.replaceChildren(canvas);
    return canvas;
  };
  const draw = (label, text) => {
    const canvas = canvasOf(label);
    if (canvas.parlorText === text && canvas.parlorColor === label.parlorColor) return;
    const ratio = canvas.width / Math.max(1, parseFloat(canvas.style.width));
    const width = canvas.width / ratio;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, canvas.height / ratio);
    ctx.font = canvas.parlorFont;
    ctx.fillStyle = label.parlorColor;
    ctx.textBaseline = "middle";
    ctx.textAlign = canvas.parlorAlign;
    ctx.fillText(text, canvas.parlorAlign === "right" ? width : 0, canvas.height / ratio / 2);
    canvas.parlorText = text;
    canvas.parlorColor = label.parlorColor;
    canvas.setAttribute("aria-label", text);
  };
  // The server's clock minus ours, at least: from the stamp of a countdown, when we first saw it.
  const drawnBound = (el, localMs) => {
    if (el.parlorDrawnBound === undefined) {
      const drawn = Number(el.dataset.drawn) * 1000;
      el.parlorDrawnBound = el.dataset.drawn && Number.isFinite(drawn) ? drawn - localMs : null;
    }
    return el.parlorDrawnBound;
  };
  let timer = null;
  const tick = () => {
    timer = null;
    if (doc.hidden) return;
    const bridge = w.parlorBridge;
    const localMs = performance.timeOrigin + performance.now();
    let nowMs = bridge && bridge.serverNowMs ? bridge.serverNowMs() : localMs;
    for (const el of countdowns) {
      const bound = drawnBound(el, localMs);
      if (bound !== null) nowMs = Math.max(nowMs, localMs + bound);
    }
    const now = nowMs / 1000;
    let nextMs = 1000;
    for (const el of countdowns) {
      if (!el.dataset.deadline) continue;
      const deadline = Number(el.dataset.deadline);
      const total = Number(el.dataset.total) || 0;
      const left = deadline - now;
      const urgent = left <= 10;
      if (el.classList.contains("parlor-countdown-urgent") !== urgent) el.classList.toggle("parlor-countdown-urgent", urgent);
      const label = el.querySelector(".parlor-countdown-text");
      if (label) {
        // The colour is the style sheet's (urgent or not), read only when it may have changed.
        if (label.parlorUrgent !== urgent || !label.parlorColor) {
          label.parlorColor = w.getComputedStyle(label).color;
          label.parlorUrgent = urgent;
        }
        draw(label, format(left));
      }
      const bar = el.querySelector(".parlor-countdown-bar > span");
      if (bar && total > 0) {
        // The bar shows the same whole second as the text.
        const scale = "scaleX(" + Math.max(0, Math.min(1, Math.ceil(Math.max(0, left)) / total)).toFixed(4) + ")";
        if (bar.style.transform !== scale) bar.style.transform = scale;
      }
      if (left > 0) nextMs = Math.min(nextMs, (left - Math.floor(left)) * 1000 + SLACK_MS);
    }
    timer = w.setTimeout(tick, Math.max(SLACK_MS, nextMs));
  };
  doc.addEventListener("visibilitychange", () => {
    if (doc.hidden) {
      w.clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      tick();
    }
  });
  w.parlorCountdown = { tick };
  tick();
})(window);

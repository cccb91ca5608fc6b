// Live countdowns without Streamlit reruns: every element with class "parlor-countdown" and a
// data-deadline (server epoch seconds) shows the time left (m:ss), on the server's clock as the bridge estimates
// it (a browser whose clock is off still counts down to the real deadline).
// An idle game page must cost a phone next to nothing, main thread and compositor alike, so the page wakes once a
// second, just after the shown second changes, and then only moves what changed: the digits are an odometer, one
// strip of digits per place (minutes, tens of seconds, seconds) in a fixed box, each strip on its own compositor
// layer and moved by setting its transform; the bar is a scaleX transform. A transform moves without layout or
// paint. No animation runs: a running animation, even a steps() one on the compositor, makes the compositor and
// the display compositor draw 60 frames a second (measured, the whole browser: about 44 ms of CPU a second,
// against 5-7 with a tick a second, of which the tick's frame is about 2 on the main thread), which is what a
// phone's battery pays for. The tick stops while the tab is hidden and at 0:00.
// The time left is also the timer's aria-label (role "timer": never announced by itself).
// The server's clock: the bridge's estimate, and the time the view was drawn (data-drawn, stamped by Python). Just
// after a reload the bridge has heard nothing from the server, or only old events replayed to a polling seat, and
// its estimate is the browser's clock or an old event's time; a countdown drawn before we first saw it bounds the
// server's clock from below as a stamped frame does, so the first frame counts from the real time left.
(function (w) {
  "use strict";
  if (w.parlorCountdown) return;
  const URGENT_S = 10;
  const AFTER_MS = 5; // a tick lands just after the shown second changed, never just before
  const RESYNC_MS = 20; // a clock estimate that moves less than this leaves the countdown's tick where it is
  const LINE_EM = 1.25; // style.css: a place's window is one line of 1.25em
  const format = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };

  // ---- the arithmetic (pure, tested in Node) -------------------------------------------------------------
  // What the countdown shows `left` seconds before the deadline (of `total`), and when that next changes. A strip
  // holds its place's digits in order (labels[i] = i), so the place shows digit d with the strip moved up d lines.
  const plan = (left, total) => {
    const shown = Math.max(0, Math.ceil(left));
    const minutes = Math.floor(shown / 60);
    const scale = shown / (total > 0 ? total : Math.max(1, shown));
    return {
      text: format(left),
      places: [minutes, Math.floor((shown % 60) / 10), shown % 10], // minutes, tens of seconds, seconds
      scale: Math.min(1, scale),
      urgent: left <= URGENT_S,
      // ceil(left) drops when left passes its whole second below; at 0:00 nothing changes any more
      nextMs: left > 0 ? (left - Math.ceil(left) + 1) * 1000 + AFTER_MS : null,
    };
  };
  const labels = (n) => Array.from({ length: n }, (_, i) => String(i));
  const shift = (digit) => (digit ? `translateY(${-digit * LINE_EM}em)` : "none");

  const api = { format, plan, shift, tick: () => tickAll(true) };
  w.parlorCountdown = api;
  const doc = w.document;
  if (!doc) return; // Node: the arithmetic only

  // ---- the page -----------------------------------------------------------------------------------------
  const countdowns = doc.getElementsByClassName("parlor-countdown"); // live: no search of the page
  const localNowMs = () => performance.timeOrigin + performance.now();
  // The server's clock minus ours, at least: from the stamp of a countdown, when we first saw it.
  const drawnBound = (el, localMs) => {
    if (el.parlorDrawnBound === undefined) {
      const drawn = Number(el.dataset.drawn) * 1000;
      el.parlorDrawnBound = el.dataset.drawn && Number.isFinite(drawn) ? drawn - localMs : null;
    }
    return el.parlorDrawnBound;
  };
  const offsetMs = (localMs) => {
    const bridge = w.parlorBridge;
    let offset = bridge && bridge.serverNowMs ? bridge.serverNowMs() - localMs : 0;
    for (const el of countdowns) {
      const bound = drawnBound(el, localMs);
      if (bound !== null) offset = Math.max(offset, bound);
    }
    return offset;
  };

  // The odometer in the text's box (fixed height, overflow hidden: replacing the text moves nothing); a place is a
  // window one line high (style.css: .parlor-odometer) on its strip, one label a line.
  const cell = (n) => {
    const box = doc.createElement("span");
    box.className = "parlor-odometer";
    box.setAttribute("aria-hidden", "true");
    const strip = doc.createElement("span");
    strip.textContent = labels(n).join("\n");
    box.appendChild(strip);
    return [box, strip];
  };
  const build = (label, p) => {
    const timer = doc.createElement("span");
    timer.className = "parlor-countdown-timer";
    timer.setAttribute("role", "timer");
    const cells = [cell(p.places[0] + 1), cell(6), cell(10)];
    const colon = doc.createElement("span");
    colon.setAttribute("aria-hidden", "true");
    colon.textContent = ":";
    timer.append(cells[0][0], colon, cells[1][0], cells[2][0]);
    label.removeAttribute("aria-label");
    label.replaceChildren(timer);
    return { timer, strips: cells.map((c) => c[1]), minutes: p.places[0], shown: [] };
  };
  const setUrgent = (el, urgent) => {
    if (el.classList.contains("parlor-countdown-urgent") !== urgent) el.classList.toggle("parlor-countdown-urgent", urgent);
  };
  // Moves what changed since the last tick, nothing else (a style write, even of the same value, costs a frame).
  const show = (el, p) => {
    setUrgent(el, p.urgent);
    // its text and bar, found once (a view drawn anew is a new element)
    const [label, bar] = el.parlorParts || (el.parlorParts = [
      el.querySelector(".parlor-countdown-text"),
      el.querySelector(".parlor-countdown-bar > span"),
    ]);
    if (label) {
      let odo = label.parlorOdometer;
      if (!odo || odo.timer.parentNode !== label || p.places[0] > odo.minutes) {
        odo = label.parlorOdometer = build(label, p);
      }
      if (odo.timer.getAttribute("aria-label") !== p.text) odo.timer.setAttribute("aria-label", p.text);
      p.places.forEach((digit, i) => {
        if (odo.shown[i] !== digit) odo.strips[i].style.transform = shift(digit);
        odo.shown[i] = digit;
      });
    }
    const scale = `scaleX(${p.scale.toFixed(4)})`;
    if (bar && bar.style.transform !== scale) bar.style.transform = scale;
  };
  let timer = null;
  let shownOffset = null; // the server clock's offset the countdowns were last shown with
  // Every countdown shown as of now, and the next tick set for when the soonest of them changes. The tick calls
  // this, and so do a new deadline, the tab shown again and a corrected clock estimate (see below); with no
  // countdown on the page it touches nothing, timers included. `force`: also when the page has none yet.
  const tickAll = (force) => {
    w.clearTimeout(timer);
    timer = null;
    if (doc.hidden || (!force && !countdowns.length)) return;
    const localMs = localNowMs();
    const offset = offsetMs(localMs);
    shownOffset = offset;
    let nextMs = null;
    for (const el of countdowns) {
      el.parlorShownFor = el.dataset.deadline + "/" + el.dataset.total;
      if (!el.dataset.deadline) continue;
      const left = Number(el.dataset.deadline) - (localMs + offset) / 1000;
      const p = plan(left, Number(el.dataset.total) || 0);
      show(el, p);
      if (p.nextMs !== null) nextMs = nextMs === null ? p.nextMs : Math.min(nextMs, p.nextMs);
    }
    if (nextMs !== null) timer = w.setTimeout(() => tickAll(false), nextMs);
  };
  doc.addEventListener("visibilitychange", () => tickAll(false)); // hidden: the tick stops; shown: from now
  // A view drawn anew (Streamlit replaces the element, React re-mounts it) or a new deadline: shown before its
  // first paint. Any other change of the page (a clue's row) leaves the countdown alone.
  const unshown = () => {
    for (const el of countdowns) {
      if (el.parlorShownFor !== el.dataset.deadline + "/" + el.dataset.total) return true;
      const label = el.parlorParts && el.parlorParts[0];
      if (label && !(label.parlorOdometer && label.parlorOdometer.timer.parentNode === label)) return true;
    }
    return false;
  };
  if (w.MutationObserver && doc.documentElement) {
    new w.MutationObserver(() => {
      if (unshown()) tickAll(false);
    }).observe(doc.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-deadline"] });
  }
  // The bridge's clock estimate corrected (a faster frame) by more than RESYNC_MS: shown from the better estimate.
  // Every event calls this; one that moves no estimate costs a subtraction.
  const resync = () => {
    if (!countdowns.length) return;
    if (shownOffset === null || unshown() || Math.abs(offsetMs(localNowMs()) - shownOffset) >= RESYNC_MS) tickAll(false);
  };
  if (w.parlorBridge && w.parlorBridge.subscribe) w.parlorBridge.subscribe(resync);
  tickAll(true);
})(window);

// Live countdowns without Streamlit reruns: every element with class "parlor-countdown" and a
// data-deadline (server epoch seconds) shows the time left (m:ss), on the server's clock as the bridge estimates
// it (a browser whose clock is off still counts down to the real deadline).
// An idle game page must cost a phone's main thread nothing, so nothing here runs once a second: the digits are
// an odometer, one strip of digits per place (minutes, tens of seconds, seconds) in a fixed box, each strip moved
// by a steps() transform animation, and the bar is a steps() scaleX animation. Transform animations run on the
// compositor; the main thread sets them up once per deadline and again only when what they count from changes: a
// new deadline (a new phase, a redrawn view), the tab shown again, the bridge's estimate of the server's clock
// corrected. One timer per deadline turns the countdown red 10 s before the end.
// The time left is also the timer's aria-label (role "timer": never announced by itself), written once a second
// by a timer that touches only that attribute (no style, no layout, no paint).
// The server's clock: the bridge's estimate, and the time the view was drawn (data-drawn, stamped by Python). Just
// after a reload the bridge has heard nothing from the server, or only old events replayed to a polling seat, and
// its estimate is the browser's clock or an old event's time; a countdown drawn before we first saw it bounds the
// server's clock from below as a stamped frame does, so the first frame counts from the real time left.
(function (w) {
  "use strict";
  if (w.parlorCountdown) return;
  const URGENT_S = 10;
  const RESYNC_MS = 20; // a clock estimate that moves less than this leaves the animations alone
  const HOLD_S = 0.5; // the animations end half a second past the deadline, holding 0:00
  const format = (seconds) => {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };

  // ---- the arithmetic (pure, tested in Node) -------------------------------------------------------------
  // A strip shows labels[i] at step i; a step lasts `step` seconds, the strip's period is labels.length * step.
  // Counting down, the place shows its digit of ceil(u) (u: seconds left); the strip's animation time is
  // (period - 1 - u) mod period plus whole periods, so that steps() moves exactly when ceil(u) does. Each strip's
  // animation starts (local time 0) at u = start, a moment at which it stands at step 0, and ends at u = -HOLD_S
  // on its last step (the place's 0), held there.
  const stripPlan = (labels, step, left) => {
    const period = labels.length * step;
    const start = period - 1 + period * Math.max(0, Math.ceil((left - (period - 1)) / period));
    return {
      labels,
      steps: labels.length,
      durationMs: period * 1000,
      iterations: (start + HOLD_S) / period,
      elapsedMs: (start - left) * 1000,
    };
  };
  const digits = (n) => Array.from({ length: n }, (_, i) => String(n - 1 - i));
  // What the countdown shows `left` seconds before the deadline, and how to animate it from there.
  const plan = (left, total) => {
    const shown = Math.max(0, Math.ceil(left));
    const minutes = Math.floor(shown / 60);
    const bar = shown / (total > 0 ? total : Math.max(1, shown));
    return {
      text: format(left),
      urgentInMs: Math.max(0, (left - URGENT_S) * 1000),
      // minutes, then tens of seconds, then seconds
      strips: [stripPlan(digits(minutes + 1), 60, left), stripPlan(digits(6), 10, left), stripPlan(digits(10), 1, left)],
      // scaleX(shown/total) for each whole second left, down to 0 at the deadline
      bar: shown > 0 ? { from: bar, steps: shown, durationMs: shown * 1000, elapsedMs: (shown - left) * 1000 } : null,
      scale: Math.min(1, bar),
    };
  };
  // The step a steps(n, end) animation of this plan stands on `laterMs` after it was set up (for the tests, and
  // the same arithmetic a browser does).
  const stepAt = (strip, laterMs) => {
    const t = strip.elapsedMs + laterMs;
    const active = strip.durationMs * strip.iterations;
    const progress = t >= active ? strip.iterations % 1 || 1 : (t / strip.durationMs) % 1;
    return Math.min(strip.steps - 1, Math.floor(progress * strip.steps));
  };

  const api = { format, plan, stepAt, tick: () => syncAll(true) };
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
  const cell = (labels) => {
    const box = doc.createElement("span");
    box.className = "parlor-odometer";
    box.setAttribute("aria-hidden", "true");
    const strip = doc.createElement("span");
    strip.textContent = labels.join("\n");
    box.appendChild(strip);
    return [box, strip];
  };
  const build = (label, p) => {
    const timer = doc.createElement("span");
    timer.className = "parlor-countdown-timer";
    timer.setAttribute("role", "timer");
    timer.setAttribute("aria-label", p.text);
    const cells = p.strips.map((s) => cell(s.labels));
    const colon = doc.createElement("span");
    colon.setAttribute("aria-hidden", "true");
    colon.textContent = ":";
    timer.append(cells[0][0], colon, cells[1][0], cells[2][0]);
    label.removeAttribute("aria-label");
    label.replaceChildren(timer);
    return { timer, strips: cells.map((c) => c[1]), minutes: p.strips[0].steps };
  };
  const animate = (target, keyframes, timing, elapsedMs, nowPerfMs) => {
    const a = target.animate(keyframes, { ...timing, fill: "forwards" });
    a.startTime = nowPerfMs - elapsedMs; // exact, not from whenever the compositor starts it
    return a;
  };
  const stop = (el) => {
    for (const a of el.parlorAnimations || []) a.cancel();
    el.parlorAnimations = [];
    w.clearTimeout(el.parlorUrgentTimer);
  };
  const setUrgent = (el, urgent) => {
    if (el.classList.contains("parlor-countdown-urgent") !== urgent) el.classList.toggle("parlor-countdown-urgent", urgent);
  };
  const sync = (el, offset, localMs) => {
    if (!el.dataset.deadline) return;
    const deadline = Number(el.dataset.deadline);
    const total = Number(el.dataset.total) || 0;
    const left = deadline - (localMs + offset) / 1000;
    const p = plan(left, total);
    const nowPerfMs = localMs - performance.timeOrigin;
    stop(el);
    el.parlorSynced = { deadline, total, offset };
    setUrgent(el, p.urgentInMs === 0);
    if (p.urgentInMs > 0) el.parlorUrgentTimer = w.setTimeout(() => setUrgent(el, true), p.urgentInMs);
    const label = el.querySelector(".parlor-countdown-text");
    if (label) {
      let odo = label.parlorOdometer;
      if (!odo || odo.timer.parentNode !== label || odo.minutes !== p.strips[0].steps) {
        odo = label.parlorOdometer = build(label, p);
      }
      odo.timer.setAttribute("aria-label", p.text);
      p.strips.forEach((s, i) => {
        const timing = { duration: s.durationMs, iterations: s.iterations, easing: `steps(${s.steps}, end)` };
        const frames = [{ transform: "translateY(0)" }, { transform: "translateY(-100%)" }];
        el.parlorAnimations.push(animate(odo.strips[i], frames, timing, s.elapsedMs, nowPerfMs));
      });
      el.parlorLabel = odo.timer;
    }
    const bar = el.querySelector(".parlor-countdown-bar > span");
    if (bar) {
      if (p.bar) {
        const frames = [{ transform: `scaleX(${p.bar.from.toFixed(4)})` }, { transform: "scaleX(0)" }];
        const timing = { duration: p.bar.durationMs, easing: `steps(${p.bar.steps}, end)` };
        el.parlorAnimations.push(animate(bar, frames, timing, p.bar.elapsedMs, nowPerfMs));
      } else {
        bar.style.transform = "scaleX(0)";
      }
    }
  };
  let labelTimer = null;
  // Each countdown not yet counting to its deadline (or, with `force`, every one) is set up from now. The bridge
  // calls this for every event and the page for every change of the page (a clue's row): with nothing to set up,
  // it touches nothing, timers included.
  const syncAll = (force) => {
    if (doc.hidden || (!force && !countdowns.length)) return;
    const localMs = localNowMs();
    const offset = offsetMs(localMs);
    let synced = force;
    for (const el of countdowns) {
      const s = el.parlorSynced;
      const label = el.querySelector(".parlor-countdown-text");
      const fresh =
        s &&
        s.deadline === Number(el.dataset.deadline) &&
        s.total === (Number(el.dataset.total) || 0) &&
        Math.abs(s.offset - offset) < RESYNC_MS &&
        (!label || (label.parlorOdometer && label.parlorOdometer.timer.parentNode === label));
      if (force || !fresh) {
        sync(el, offset, localMs);
        synced = true;
      }
    }
    if (synced || labelTimer === null) scheduleLabels();
  };
  // The accessible text, once a second just after the shown second changes: one attribute, read by no style rule.
  const scheduleLabels = () => {
    w.clearTimeout(labelTimer);
    labelTimer = null;
    if (doc.hidden || !countdowns.length) return;
    const localMs = localNowMs();
    const now = (localMs + offsetMs(localMs)) / 1000;
    let nextMs = Infinity;
    for (const el of countdowns) {
      const s = el.parlorSynced;
      if (!s || !el.parlorLabel) continue;
      const left = s.deadline - now;
      const text = format(left);
      if (el.parlorLabel.getAttribute("aria-label") !== text) el.parlorLabel.setAttribute("aria-label", text);
      if (left > 0) nextMs = Math.min(nextMs, (left - Math.floor(left)) * 1000 + 5);
    }
    if (nextMs !== Infinity) labelTimer = w.setTimeout(scheduleLabels, nextMs);
  };
  doc.addEventListener("visibilitychange", () => {
    if (doc.hidden) {
      w.clearTimeout(labelTimer);
      labelTimer = null;
    } else {
      syncAll(true);
    }
  });
  // A view drawn anew (Streamlit replaces the element, React re-mounts it): set up before its first paint.
  if (w.MutationObserver && doc.documentElement) {
    new w.MutationObserver(() => {
      if (countdowns.length) syncAll(false);
    }).observe(doc.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-deadline"] });
  }
  // The bridge's clock estimate corrected (a faster frame): re-set the animations if it moved.
  if (w.parlorBridge && w.parlorBridge.subscribe) w.parlorBridge.subscribe(() => syncAll(false));
  syncAll(true);
})(window);

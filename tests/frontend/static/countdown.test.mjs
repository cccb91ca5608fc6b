// countdown.js: the odometer's arithmetic (what each strip's steps() animation shows, second by second, against
// the m:ss the countdown must show), and its first frame in a fake page whose clock is the fake clock's, the
// bridge the real one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import vm from "node:vm";
import { makeBridge, CONFIG, event } from "./fakes.mjs";

const SOURCE = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../frontend/static/countdown.js"),
  "utf8",
);
const SERVER_NOW_MS = 1_765_000_000_000; // the server's clock when Python draws the view

// The arithmetic alone: countdown.js in a window without a document.
function arithmetic() {
  const window = {};
  vm.runInNewContext(SOURCE, { window });
  return window.parlorCountdown;
}

// What the odometer shows `laterMs` after it was set up `left` seconds before the deadline.
function shownAt(cd, p, laterMs) {
  const [minutes, tens, ones] = p.strips.map((s) => s.labels[cd.stepAt(s, laterMs)]);
  return `${minutes}:${tens}${ones}`;
}

// The bar's scaleX then: a steps(n, end) animation from `from` to 0, held at 0 once it ended.
function barAt(p, total, laterMs) {
  if (!p.bar) return 0;
  const t = p.bar.elapsedMs + laterMs;
  const progress = t >= p.bar.durationMs ? 1 : Math.floor((t / p.bar.durationMs) * p.bar.steps) / p.bar.steps;
  return p.bar.from * (1 - progress);
}

test("every strip moves exactly when the shown second does, from any start, and holds 0:00 after the end", () => {
  const cd = arithmetic();
  // set up at these times before the deadline (a new phase, a reload mid-second, a corrected clock, the end)
  for (const left of [125, 120, 119.999, 90.25, 89.5, 60, 59.001, 10.5, 10, 9.75, 0.4, 0]) {
    const p = cd.plan(left, 120);
    // then checked every 50 ms and 1 ms either side of each whole second, to 3 s past the deadline (exactly on a
    // boundary either digit is right, and floating point picks one)
    const checks = [0];
    for (let ms = 25; ms <= (left + 3) * 1000; ms += 50) checks.push(ms); // never on a boundary: see below
    for (let s = Math.floor(left); s >= -3; s--) checks.push((left - s) * 1000 - 1, (left - s) * 1000 + 1);
    for (const ms of checks.filter((ms) => ms >= 0)) {
      const u = left - ms / 1000;
      assert.equal(shownAt(cd, p, ms), cd.format(u), `set up ${left} s before, ${ms} ms later`);
      assert.ok(
        Math.abs(barAt(p, 120, ms) - Math.max(0, Math.ceil(u)) / 120) < 1e-9,
        `bar set up ${left} s before, ${ms} ms later`,
      );
    }
  }
});

test("each strip's animation starts at its step 0 and ends half a second past the deadline", () => {
  const cd = arithmetic();
  const p = cd.plan(89.5, 120); // 1:30, half a second into that second
  const [minutes, tens, ones] = p.strips;
  assert.deepEqual([...minutes.labels], ["1", "0"]);
  assert.deepEqual([...tens.labels], ["5", "4", "3", "2", "1", "0"]);
  assert.deepEqual([...ones.labels], ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
  // minutes: 2 steps of 60 s, started at u = 119 (shows 1 until u = 60)
  assert.equal(minutes.durationMs, 120_000);
  assert.equal(minutes.elapsedMs, (119 - 89.5) * 1000);
  assert.equal(minutes.durationMs * minutes.iterations, (119 + 0.5) * 1000);
  // tens: 60 s periods started at u = 119; ones: 10 s periods started at u = 89 + 10 = 99
  assert.equal(tens.elapsedMs, (119 - 89.5) * 1000);
  assert.equal(ones.elapsedMs, (99 - 89.5) * 1000);
  assert.equal(ones.durationMs * ones.iterations, (99 + 0.5) * 1000);
  // the bar: 90 steps of a second from 90/120, half a second gone
  assert.deepEqual({ ...p.bar }, { from: 0.75, steps: 90, durationMs: 90_000, elapsedMs: 500 });
  assert.equal(p.text, "1:30");
  assert.equal(p.urgentInMs, 79_500);
  assert.equal(cd.plan(9.5, 120).urgentInMs, 0);
});

test("ten minutes and more: the minutes strip holds every minute left", () => {
  const cd = arithmetic();
  const p = cd.plan(605.2, 900);
  assert.deepEqual([...p.strips[0].labels], ["10", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
  for (const ms of [0, 199, 201, 5_199, 6_000, 545_300, 605_100, 606_000]) {
    assert.equal(shownAt(cd, p, ms), cd.format(605.2 - ms / 1000));
  }
});

// A countdown as frontend/views/common.py's countdown_html draws it, as much of it as countdown.js touches.
function element(tag) {
  const attributes = {};
  return {
    tagName: tag,
    style: {},
    children: [],
    parentNode: null,
    animations: [],
    setAttribute: (k, v) => (attributes[k] = String(v)),
    getAttribute: (k) => (k in attributes ? attributes[k] : null),
    removeAttribute: (k) => delete attributes[k],
    append(...kids) {
      for (const k of kids) this.appendChild(k);
    },
    appendChild(kid) {
      kid.parentNode = this;
      this.children.push(kid);
    },
    replaceChildren(...kids) {
      this.children = [];
      this.append(...kids);
    },
    animate(keyframes, timing) {
      const a = { keyframes, timing, startTime: null, cancel() {} };
      this.animations.push(a);
      return a;
    },
  };
}

function drawnCountdown({ deadline, drawn, total }) {
  const label = element("DIV");
  const span = element("SPAN");
  return {
    dataset: { deadline: String(deadline), drawn: String(drawn), total: String(total) },
    classList: { contains: () => false, toggle() {} },
    querySelector: (selector) => (selector === ".parlor-countdown-text" ? label : span),
    label,
    span,
  };
}

// Runs countdown.js in a page holding `countdowns`, whose clock reads `localMs`; returns what its timers say.
function firstFrame(countdowns, localMs, bridge) {
  const document = {
    hidden: false,
    getElementsByClassName: () => countdowns,
    createElement: element,
    addEventListener() {},
  };
  const window = { document, parlorBridge: bridge, setTimeout: () => 1, clearTimeout() {} };
  vm.runInNewContext(SOURCE, { window, performance: { timeOrigin: 0, now: () => localMs } });
  return countdowns.map((c) => c.label.children[0].getAttribute("aria-label"));
}

test("after a reload, a polling seat's replayed events do not put the first frame back at the phase's start", async () => {
  // Discussion began 30 s ago with 2:00 to go; nothing happened since. The reloaded bridge's first long-poll
  // answer holds only that old phase change, whose stamp is all it knows of the server's clock.
  const h = makeBridge({
    handler: (url) =>
      url.includes("wait=0")
        ? { status: 200, body: { events: [{ ...event(1, 0, "phase_changed"), ts: (SERVER_NOW_MS - 30_000) / 1000 }] } }
        : undefined,
  });
  h.clock.t = SERVER_NOW_MS; // a browser clock that agrees with the server
  h.bridge.configure({ ...CONFIG, transport: "polling" });
  await h.clock.advance(0);
  assert.equal(h.bridge.lastId, 1);
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 89_500) / 1000, drawn: SERVER_NOW_MS / 1000, total: 120 });
  const localMs = h.clock.now() + 200;
  assert.deepEqual(firstFrame([countdown], localMs, h.bridge), ["1:30"]);
  // and the animations count from there (the stamp: the server's clock is at least 200 ms ahead of the browser's
  // guess, so 1:29.5 left): the seconds strip 9.5 s into its period (started at u = 99), the bar 0.5 s into its
  // first second
  const [, , ones] = countdown.label.children[0].children.filter((c) => c.children.length).map((c) => c.children[0]);
  assert.equal(ones.animations.length, 1);
  assert.ok(Math.abs(localMs - ones.animations[0].startTime - 9_500) < 1e-6);
  assert.ok(Math.abs(localMs - countdown.span.animations[0].startTime - 500) < 1e-6);
});

test("before the bridge has heard the server, a browser clock a minute behind does not add a minute", () => {
  const { bridge } = makeBridge();
  const localMs = SERVER_NOW_MS - 60_000 + 200; // drawn 200 ms ago by a server whose clock runs 60 s ahead
  bridge.env.now = () => localMs;
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 44_500) / 1000, drawn: SERVER_NOW_MS / 1000, total: 60 });
  assert.deepEqual(firstFrame([countdown], localMs, bridge), ["0:45"]);
});

test("a bridge that has heard the server keeps its tighter estimate over an old stamp", () => {
  const { bridge } = makeBridge();
  const localMs = SERVER_NOW_MS; // the clocks agree, and the bridge has a live frame's stamp
  bridge.env.now = () => localMs;
  bridge.observeServerTime(SERVER_NOW_MS / 1000, localMs);
  // Python drew this 20 s ago (an old rerun's element): its stamp bounds the clock far below the bridge's estimate
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 9_500) / 1000, drawn: (SERVER_NOW_MS - 20_000) / 1000, total: 60 });
  assert.deepEqual(firstFrame([countdown], localMs, bridge), ["0:10"]);
});

// countdown.js: its arithmetic (what each place of the odometer shows, second by second, against the m:ss the
// countdown must show, and when the next tick is due), and the page part in a fake page whose timers run on a fake
// clock: a tick a second that writes only what changed, none while hidden or after 0:00, and a first frame that
// counts from the server's clock (the bridge's estimate, or the stamp of the view).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import vm from "node:vm";
import { FakeClock, makeBridge, CONFIG, event } from "./fakes.mjs";

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

const shown = (p) => `${p.places[0]}:${p.places[1]}${p.places[2]}`;

test("the places show m:ss, the bar the whole seconds left, and the next tick is due just after the second changes", () => {
  const cd = arithmetic();
  for (const left of [725, 605.2, 125, 120, 119.999, 90.25, 89.5, 60, 59.001, 10.5, 10, 9.75, 0.4, 0.001]) {
    const p = cd.plan(left, 120);
    assert.equal(shown(p), cd.format(left), `${left} s left`);
    assert.equal(p.text, cd.format(left));
    assert.equal(p.scale, Math.min(1, Math.ceil(left) / 120));
    assert.equal(p.urgent, left <= 10);
    // nothing changes before the tick (5 ms early, the display is the same) and the tick shows the next second
    assert.ok(p.nextMs > 0 && p.nextMs <= 1005 + 1e-6, `${left}: next in ${p.nextMs} ms`);
    assert.equal(cd.format(left - (p.nextMs - 6) / 1000), p.text, `${left}: a tick before the change`);
    assert.equal(cd.format(left - p.nextMs / 1000), cd.format(Math.ceil(left) - 1), `${left}: the tick`);
  }
  // at the deadline and after: 0:00, an empty bar, no tick any more
  for (const left of [0, -0.2, -30]) {
    const p = cd.plan(left, 120);
    assert.deepEqual([shown(p), p.scale, p.nextMs], ["0:00", 0, null]);
  }
  assert.equal(cd.plan(30, 0).scale, 1); // no total: a full bar
  assert.equal(cd.shift(0), "none");
  assert.equal(cd.shift(7), "translateY(-8.75em)"); // seven lines of 1.25em up: the strip's "7"
});

// A countdown as frontend/views/common.py's countdown_html draws it, as much of it as countdown.js touches; every
// style write is counted (a write costs the page a frame even when it sets the same value).
function element(tag, writes) {
  const attributes = {};
  const style = {};
  return {
    tagName: tag,
    children: [],
    parentNode: null,
    textContent: "",
    style: new Proxy(style, {
      set(target, key, value) {
        writes.push([tag, key, value]);
        target[key] = value;
        return true;
      },
    }),
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
  };
}

function drawnCountdown({ deadline, drawn, total }, writes = []) {
  const label = element("DIV", writes);
  const bar = element("BAR", writes);
  const classes = new Set();
  return {
    dataset: { deadline: String(deadline), drawn: String(drawn), total: String(total) },
    classList: { contains: (c) => classes.has(c), toggle: (c, on) => (on ? classes.add(c) : classes.delete(c)) },
    querySelector: (selector) => (selector === ".parlor-countdown-text" ? label : bar),
    label,
    bar,
    classes,
    writes,
    // what the page shows: the timer's label, the odometer's places (from their strips' transforms), the bar
    timer: () => label.children[0],
    seen() {
      const strips = label.children[0].children.filter((c) => c.children.length).map((c) => c.children[0]);
      const digit = (s) => (s.style.transform === "none" ? 0 : Math.round(-parseFloat(s.style.transform.slice(11)) / 1.25));
      const labels = strips.map((s) => s.textContent.split("\n"));
      const [m, t, o] = strips.map((s, i) => labels[i][digit(s)]);
      return `${m}:${t}${o}`;
    },
  };
}

// Runs countdown.js in a page holding `countdowns`, whose clock is `clock` (performance.now() = clock.now()).
function page(countdowns, clock, bridge, doc = {}, win = {}) {
  const listeners = {};
  const document = {
    hidden: false,
    getElementsByClassName: () => countdowns,
    createElement: (tag) => element(tag, countdowns[0].writes), // the odometer's writes count with the countdown's
    addEventListener: (type, fn) => (listeners[type] = fn),
    ...doc,
  };
  const window = { document, parlorBridge: bridge, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, ...win };
  vm.runInNewContext(SOURCE, { window, performance: { timeOrigin: 0, now: () => clock.now() } });
  return { document, listeners, window };
}

test("a tick a second shows every second on time, writes only what changed, and stops at 0:00", async () => {
  const clock = new FakeClock();
  clock.t = SERVER_NOW_MS;
  const writes = [];
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 21_300) / 1000, drawn: SERVER_NOW_MS / 1000, total: 30 }, writes);
  page([countdown], clock, null);
  assert.equal(countdown.seen(), "0:22");
  assert.equal(countdown.timer().getAttribute("aria-label"), "0:22");
  assert.equal(countdown.bar.style.transform, `scaleX(${(22 / 30).toFixed(4)})`);
  assert.equal(clock.timers.size, 1); // the next tick, nothing else
  for (let s = 21; s >= 0; s--) {
    writes.length = 0;
    await clock.advance(s === 21 ? 300 + 4 : 999); // 1 ms before the tick is due: nothing moved yet
    assert.equal(countdown.seen(), `0:${String(s + 1).padStart(2, "0")}`);
    await clock.advance(1);
    assert.equal(countdown.seen(), `0:${String(s).padStart(2, "0")}`);
    assert.equal(countdown.timer().getAttribute("aria-label"), `0:${String(s).padStart(2, "0")}`);
    // the seconds strip and the bar each second; the tens strip only when its digit moves
    const tens = s % 10 === 9 ? 1 : 0;
    assert.equal(writes.length, 2 + tens, `${s}: ${JSON.stringify(writes)}`);
    assert.equal(countdown.classes.has("parlor-countdown-urgent"), s <= 10);
  }
  assert.equal(countdown.bar.style.transform, "scaleX(0.0000)");
  assert.equal(clock.timers.size, 0); // 0:00: no timer left
  writes.length = 0;
  await clock.advance(60_000);
  assert.deepEqual(writes, []);
});

test("no tick while the tab is hidden; shown again, it counts from now", async () => {
  const clock = new FakeClock();
  clock.t = SERVER_NOW_MS;
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 90_000) / 1000, drawn: SERVER_NOW_MS / 1000, total: 90 });
  const doc = { hidden: false };
  const p = page([countdown], clock, null, doc);
  assert.equal(countdown.seen(), "1:30");
  p.document.hidden = true;
  p.listeners.visibilitychange();
  assert.equal(clock.timers.size, 0);
  await clock.advance(42_500);
  assert.equal(countdown.seen(), "1:30"); // nothing ran
  p.document.hidden = false;
  p.listeners.visibilitychange();
  assert.equal(countdown.seen(), "0:48"); // 47.5 s left
  assert.equal(clock.timers.size, 1);
});

test("a change elsewhere in the page, or an event that moves no clock, leaves the countdown and its tick alone", async () => {
  const clock = new FakeClock();
  clock.t = SERVER_NOW_MS;
  const writes = [];
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 90_000) / 1000, drawn: SERVER_NOW_MS / 1000, total: 90 }, writes);
  let changed = null; // the page's MutationObserver callback
  class MutationObserver {
    constructor(fn) {
      changed = fn;
    }
    observe() {}
  }
  let serverAheadMs = 0;
  let event = null; // the bridge's subscriber
  const bridge = { serverNowMs: () => clock.now() + serverAheadMs, subscribe: (fn) => (event = fn) };
  page([countdown], clock, bridge, { documentElement: {} }, { MutationObserver });
  await clock.advance(300);
  const [tick] = clock.timers.keys();
  writes.length = 0;
  changed(); // a clue's row appended
  event(); // the clue's event, the same clock
  serverAheadMs = 15; // an estimate 15 ms better: under RESYNC_MS
  event();
  assert.deepEqual(writes, []);
  assert.deepEqual([...clock.timers.keys()], [tick]); // the same tick, not cleared and set again
  serverAheadMs = 800; // a much better estimate: shown from it at once
  event();
  assert.equal(countdown.seen(), "1:29"); // 89.7 - 0.8 = 88.9 s left
  countdown.dataset.deadline = String((SERVER_NOW_MS + 200_000) / 1000); // a new deadline on the same element
  changed();
  assert.equal(countdown.seen(), "3:19"); // 200 - 0.3 - 0.8 = 198.9 s left
});

// The timer's label on the first frame of countdowns drawn in a page whose clock reads `localMs`.
function firstFrame(countdowns, localMs, bridge) {
  const clock = new FakeClock();
  clock.t = localMs;
  page(countdowns, clock, bridge);
  return countdowns.map((c) => [c.timer().getAttribute("aria-label"), c.seen()]);
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
  // the stamp: the server's clock is at least 200 ms ahead of the browser's guess, so 1:29.5 left, shown 1:30
  assert.deepEqual(firstFrame([countdown], h.clock.now() + 200, h.bridge), [["1:30", "1:30"]]);
  assert.equal(countdown.bar.style.transform, "scaleX(0.7500)");
});

test("before the bridge has heard the server, a browser clock a minute behind does not add a minute", () => {
  const { bridge } = makeBridge();
  const localMs = SERVER_NOW_MS - 60_000 + 200; // drawn 200 ms ago by a server whose clock runs 60 s ahead
  bridge.env.now = () => localMs;
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 44_500) / 1000, drawn: SERVER_NOW_MS / 1000, total: 60 });
  assert.deepEqual(firstFrame([countdown], localMs, bridge), [["0:45", "0:45"]]);
});

test("a bridge that has heard the server keeps its tighter estimate over an old stamp", () => {
  const { bridge } = makeBridge();
  const localMs = SERVER_NOW_MS; // the clocks agree, and the bridge has a live frame's stamp
  bridge.env.now = () => localMs;
  bridge.observeServerTime(SERVER_NOW_MS / 1000, localMs);
  // Python drew this 20 s ago (an old rerun's element): its stamp bounds the clock far below the bridge's estimate
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 9_500) / 1000, drawn: (SERVER_NOW_MS - 20_000) / 1000, total: 60 });
  assert.deepEqual(firstFrame([countdown], localMs, bridge), [["0:10", "0:10"]]);
});

test("a deadline with more minutes than the odometer holds rebuilds it", () => {
  const clock = new FakeClock();
  clock.t = SERVER_NOW_MS;
  const countdown = drawnCountdown({ deadline: (SERVER_NOW_MS + 65_000) / 1000, drawn: SERVER_NOW_MS / 1000, total: 600 });
  const p = page([countdown], clock, null);
  assert.equal(countdown.seen(), "1:05");
  countdown.dataset.deadline = String((SERVER_NOW_MS + 605_000) / 1000); // a host extended the phase
  p.window.parlorCountdown.tick();
  assert.equal(countdown.seen(), "10:05");
});

// countdown.js's first frame, in a fake page: the browser's clock is the fake clock's, the bridge the real one.
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

// A countdown as frontend/views/common.py's countdown_html draws it, as much of it as countdown.js touches.
function drawnCountdown({ deadline, drawn, total }) {
  const label = {
    tagName: "DIV",
    firstElementChild: null,
    clientWidth: 48,
    clientHeight: 20,
    removeAttribute() {},
    replaceChildren(child) {
      this.firstElementChild = child;
    },
  };
  const span = { style: { transform: "" } };
  return {
    dataset: { deadline: String(deadline), drawn: String(drawn), total: String(total) },
    classList: { contains: () => false, toggle() {} },
    querySelector: (selector) => (selector === ".parlor-countdown-text" ? label : span),
    label,
  };
}

function canvas() {
  const attributes = {};
  return {
    tagName: "CANVAS",
    style: {},
    width: 0,
    height: 0,
    setAttribute: (k, v) => (attributes[k] = v),
    getAttribute: (k) => attributes[k],
    getContext: () => ({ setTransform() {}, clearRect() {}, fillText() {} }),
  };
}

// Runs countdown.js in a page holding `countdowns`, whose clock reads `localMs`; returns what its canvas says.
function firstFrame(countdowns, localMs, bridge) {
  const document = {
    hidden: false,
    getElementsByClassName: () => countdowns,
    createElement: canvas,
    addEventListener() {},
  };
  const window = {
    document,
    parlorBridge: bridge,
    devicePixelRatio: 1,
    getComputedStyle: () => ({ fontWeight: "700", fontSize: "16px", fontFamily: "sans-serif", color: "#000" }),
    setTimeout: () => 1,
    clearTimeout() {},
  };
  vm.runInNewContext(SOURCE, { window, performance: { timeOrigin: 0, now: () => localMs } });
  return countdowns.map((c) => c.label.firstElementChild.getAttribute("aria-label"));
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
  assert.deepEqual(firstFrame([countdown], h.clock.now() + 200, h.bridge), ["1:30"]);
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

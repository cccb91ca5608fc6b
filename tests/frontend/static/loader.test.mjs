// loader.js in a fake page whose network a test decides: a script that fails is asked for again, and one that never
// loads ends in a message with a reload button, not in "Restoring your seat…" for ever.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import vm from "node:vm";
import { FakeClock } from "./fakes.mjs";

const SOURCE = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../frontend/static/loader.js"),
  "utf8",
);
const URLS = {
  "bridge/machine.js": "/app/static/bridge/machine.js?v=aa",
  "bridge.js": "/app/static/bridge.js?v=bb",
  "countdown.js": "/app/static/countdown.js?v=cc",
};
const NETWORK_MS = 30; // how long a script takes to load or fail

function element(tag) {
  const attributes = {};
  return {
    tagName: tag.toUpperCase(),
    dataset: {},
    style: {},
    children: [],
    setAttribute: (k, v) => (attributes[k] = v),
    getAttribute: (k) => attributes[k],
    append(...nodes) {
      this.children.push(...nodes);
    },
  };
}

// A page whose script requests `loads(src)` answers true (loaded) or false (failed) after NETWORK_MS.
function fakePage(loads) {
  const clock = new FakeClock();
  const byId = new Map();
  const requested = [];
  const reloads = [];
  const bridge = { configure: (cfg) => ({ status: "connecting", room: cfg.room }) };
  const w = { navigator: { language: "en-GB" }, location: { reload: () => reloads.push(clock.now()) } };
  const attach = (el) => {
    byId.set(el.id, el);
    el.remove = () => byId.get(el.id) === el && byId.delete(el.id);
  };
  w.document = {
    createElement: element,
    getElementById: (id) => byId.get(id) || null,
    head: {
      appendChild(script) {
        attach(script);
        requested.push(script.src);
        clock.setTimeout(() => {
          const ok = loads(script.src);
          script.dataset.state = ok ? "loaded" : "failed";
          if (ok && script.src.startsWith(URLS["bridge.js"])) w.parlorBridge = bridge;
        }, NETWORK_MS);
      },
    },
    body: { appendChild: attach },
  };
  const loader = vm.runInNewContext("(" + SOURCE + ")", {
    setTimeout: clock.setTimeout,
    Date: { now: clock.now },
  });
  return { w, clock, requested, reloads, run: (command) => loader(w, URLS, command) };
}

test("a script that fails once is asked for again past the caches, with the files after it, and the seat is set", async () => {
  let bridgeTries = 0;
  const page = fakePage((src) => !(src.startsWith(URLS["bridge.js"]) && ++bridgeTries === 1));
  const answer = page.run({ room: "ABCDE" });
  await page.clock.advance(10_000);
  assert.deepEqual(await answer, { status: "connecting", room: "ABCDE" });
  const first = page.requested.slice(0, 3);
  const again = page.requested.slice(3);
  assert.deepEqual(first, Object.values(URLS));
  assert.equal(again.length, 2); // bridge.js and the countdown that ran without it, in that order
  assert.ok(again[0].startsWith(URLS["bridge.js"] + "&retry="), again[0]);
  assert.ok(again[1].startsWith(URLS["countdown.js"] + "&retry="), again[1]);
  assert.equal(page.w.document.getElementById("parlor-load-failed"), null);
});

test("a script that never loads ends in a message with a reload button, not an endless wait", async () => {
  const page = fakePage((src) => !src.startsWith(URLS["bridge.js"]));
  const answer = page.run({ probe: "ABCDE" });
  const settled = answer.then(
    () => "resolved",
    (err) => err.message,
  );
  await page.clock.advance(60_000);
  assert.match(await settled, /could not load/);
  const tries = page.requested.filter((src) => src.startsWith(URLS["bridge.js"]));
  assert.ok(tries.length > 1, "retried before giving up");
  assert.equal(new Set(tries).size, tries.length, "each retry with a URL of its own");
  const box = page.w.document.getElementById("parlor-load-failed");
  assert.ok(box, "the page says it could not load");
  assert.equal(box.getAttribute("role"), "alert");
  const [text, button] = box.children;
  assert.match(text.textContent, /could not load/);
  assert.equal(button.tagName, "BUTTON");
  vm.runInNewContext(button.getAttribute("onclick"), { location: page.w.location });
  assert.equal(page.reloads.length, 1);
  // a later rerun's loader gives up at once: the message stays, no new requests
  const before = page.requested.length;
  const again = page.run({ probe: "ABCDE" }).catch((err) => err.message);
  await page.clock.advance(1000);
  assert.match(await again, /could not load/);
  assert.equal(page.requested.length, before);
});

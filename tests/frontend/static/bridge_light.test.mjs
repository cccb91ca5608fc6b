// The sidebar's connection light as the bridge repaints it in the page: a fake window holds the light Python drew.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parts, makeBridge, CONFIG } from "./fakes.mjs";

// The element frontend/page.py's _sidebar_card draws, as much of it as paintStatus touches.
function drawnLight(status, text) {
  const nodes = { ".parlor-status-text": { textContent: text }, ".parlor-status-detail": { textContent: "" } };
  return {
    nodeType: 1,
    dataset: { mode: "bridge", status },
    matches: (selector) => selector === ".parlor-status",
    querySelector: (selector) => nodes[selector] || null,
    text: nodes[".parlor-status-text"],
  };
}

// A window whose document holds `lights`; its MutationObservers are kept so a test can report an added node.
function fakeWindow(lights) {
  const observers = [];
  const document = {
    body: {},
    querySelectorAll: (selector) => (selector === ".parlor-status" ? lights : []),
  };
  class MutationObserver {
    constructor(callback) {
      this.callback = callback;
      observers.push(this);
    }
    observe() {}
    disconnect() {}
  }
  const added = (node) => observers.forEach((o) => o.callback([{ target: { nodeType: 3 }, addedNodes: [node] }]));
  return { document, MutationObserver, added, location: { href: "http://frontend/" } };
}

test("before the labels arrive, a light Streamlit adds keeps the words Python drew, never the raw state", () => {
  const light = drawnLight("connecting", "Connecting…");
  const win = fakeWindow([light]);
  const { env } = makeBridge();
  const bridge = new parts.Bridge(env, win);
  assert.equal(bridge.status, "idle");
  win.added(light); // Streamlit drew the sidebar card after the seat was taken: the bridge repaints it at once
  assert.equal(light.text.textContent, "Connecting…");
  assert.equal(light.dataset.status, "idle");
  bridge.configure({ ...CONFIG, labels: { connecting: "Connexion…", connected: "En direct", idle: "Connexion…" } });
  assert.equal(light.text.textContent, "Connexion…");
  assert.equal(light.dataset.status, "connecting");
});

// The bridge against a server that refuses its protocol version (4426 on the socket, 426 over HTTP): the page
// reloads once, and a refusal again within a minute of that reload is shown and retried with backoff, never a
// reload loop. Fake clock, socket and fetch: milliseconds, the same way every time.
import { test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { parts, makeBridge, CONFIG, FakeClock, MemoryStorage } from "./fakes.mjs";

const { CLOSE, ProtocolReload, RELOAD_MIN_INTERVAL_MS, PROTOCOL_HEADER, PROTOCOL_VERSION } = parts;
const test = (name, fn) => nodeTest(name, { timeout: 10000 }, fn);

test("a refused version reloads once; refused again within a minute it says so and retries, then reloads again", async () => {
  const clock = new FakeClock();
  const session = new MemoryStorage(); // the tab's sessionStorage outlives the reload
  const before = makeBridge({ clock, session });
  before.bridge.configure({ ...CONFIG });
  before.sockets[0].accept();
  assert.equal(before.sockets[0].of("hello")[0].protocol, PROTOCOL_VERSION);
  before.sockets[0].drop(CLOSE.UNSUPPORTED_PROTOCOL);
  assert.deepEqual(before.reloads, [clock.now()]);
  assert.match(before.bridge.state().detail, /Updating/);
  before.bridge.leave(); // the page is gone

  await clock.advance(2000);
  const after = makeBridge({ clock, session }); // the reloaded page, still refused (it is the newer release)
  after.bridge.configure({ ...CONFIG });
  after.sockets[0].accept();
  after.sockets[0].drop(CLOSE.UNSUPPORTED_PROTOCOL);
  assert.equal(after.reloads.length, 0);
  assert.equal(after.bridge.status, "fallback");
  assert.match(after.bridge.state().detail, /different versions/);
  const poll = after.requests.find((r) => r.url.includes("/events?"));
  assert.equal(poll.init.headers[PROTOCOL_HEADER], String(PROTOCOL_VERSION));

  let refused = 1;
  while (clock.now() - before.reloads[0] < RELOAD_MIN_INTERVAL_MS - 10000) {
    await clock.advance(1000);
    const socket = after.sockets[refused];
    if (!socket) continue;
    socket.accept();
    socket.drop(CLOSE.UNSUPPORTED_PROTOCOL);
    refused++;
  }
  assert.ok(refused >= 3 && refused <= 12, `${refused} sockets in 50 s: the reconnect backoff paces them`);
  assert.equal(after.reloads.length, 0);
  assert.match(after.bridge.state().detail, /different versions/);

  await clock.advance(10000); // a minute after the reload: the next refusal may reload again
  for (let i = 0; i < 20 && after.reloads.length === 0; i++) {
    const socket = after.sockets[refused];
    if (socket) {
      socket.accept();
      socket.drop(CLOSE.UNSUPPORTED_PROTOCOL);
      refused++;
    } else {
      await clock.advance(1000);
    }
  }
  assert.equal(after.reloads.length, 1);
  assert.ok(after.reloads[0] - before.reloads[0] >= RELOAD_MIN_INTERVAL_MS);
});

test("HTTP 426 on the long-poll reloads the page as 4426 does, once", async () => {
  const refusal = { status: 426, body: { error: { code: "unsupported_protocol", message: "protocol 1 unsupported" } } };
  const h = makeBridge({ handler: () => refusal });
  h.bridge.configure({ ...CONFIG, transport: "polling" });
  await h.clock.advance(0);
  assert.equal(h.reloads.length, 1);
  const again = makeBridge({ clock: h.clock, session: h.session, handler: () => refusal });
  again.bridge.configure({ ...CONFIG, transport: "polling" });
  await again.clock.advance(5000);
  assert.equal(again.reloads.length, 0);
  assert.match(again.bridge.state().detail, /different versions/);
  const polls = again.requests.length;
  assert.ok(polls >= 1 && polls <= 2, `${polls} polls in 5 s: a refused version is not asked again at once`);
});

test("the reload guard: once a minute per tab, a clock set back does not block it, no page no reload", () => {
  const storage = new MemoryStorage();
  let now = 1_000_000;
  const reloads = [];
  const guard = () => new ProtocolReload(storage, () => now, () => reloads.push(now));
  assert.equal(guard().attempt(), true);
  now += RELOAD_MIN_INTERVAL_MS - 1;
  assert.equal(guard().attempt(), false);
  now += 1;
  assert.equal(guard().attempt(), true);
  now -= 3_600_000; // the clock was corrected backwards: the stored time says nothing
  assert.equal(guard().attempt(), true);
  assert.equal(reloads.length, 3);
  assert.equal(new ProtocolReload(new MemoryStorage(), () => now, null).attempt(), false);
});

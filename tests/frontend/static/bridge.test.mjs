// The bridge's state machine, liveness, backoff, gap detection and outbox, against a fake socket, fetch and
// clock: every wait is a fake timer, so these run in milliseconds and the same way every time.
import { test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { parts, makeBridge, CONFIG, event, MemoryStorage } from "./fakes.mjs";

const { STATES, Machine, Backoff, ConnectBudget } = parts;
const test = (name, fn) => nodeTest(name, { timeout: 10000 }, fn); // a loop that never yields fails, not hangs

async function connected(opts) {
  const h = makeBridge(opts);
  h.bridge.configure({ ...CONFIG });
  assert.equal(h.bridge.status, "connecting");
  h.sockets[0].accept();
  h.sockets[0].welcome();
  await h.clock.advance(0);
  assert.equal(h.bridge.status, "connected");
  return h;
}

// ---- the table ------------------------------------------------------------------------------------------------

test("every transition of the table lands on a state, and every state names a light", () => {
  for (const [name, state] of Object.entries(STATES)) {
    assert.ok(["idle", "connecting", "connected", "fallback", "polling", "stopped"].includes(state.status), name);
    for (const next of Object.values(state.on)) assert.ok(next in STATES, `${name} -> ${next}`);
  }
  assert.deepEqual(Object.keys(STATES.stopped.on), ["leave"]); // nothing but leaving restarts a stopped seat
});

test("an event the state does not list is ignored and says so", () => {
  const seen = [];
  const m = new Machine((state, from, event) => seen.push([from, event, state]));
  assert.equal(m.fire("welcome"), false);
  assert.equal(m.fire("configure"), true);
  assert.equal(m.fire("welcome"), true);
  assert.equal(m.fire("welcome"), false); // a second welcome of a connected link
  assert.equal(m.fire("lost"), true);
  assert.deepEqual(seen, [
    ["idle", "configure", "connecting"],
    ["connecting", "welcome", "connected"],
    ["connected", "lost", "fallback"],
  ]);
  assert.equal(m.status, "fallback");
});

test("backoff grows until a link stays up for the minimum time, and the budget caps starts per window", () => {
  const b = new Backoff({ baseMs: 500, maxMs: 8000, minUptimeMs: 5000, random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 8000, 8000]);
  b.up(0);
  b.down(4999); // welcomed and dropped: no reset
  assert.equal(b.cap(), 8000);
  b.up(10000);
  b.down(15000);
  assert.equal(b.next(), 500);
  const budget = new ConnectBudget({ limit: 3, windowMs: 30000 });
  for (const t of [0, 1, 2]) budget.take(t);
  assert.equal(budget.wait(10), 29990);
  assert.equal(budget.wait(30000), 0);
});

// ---- liveness and deadlines -------------------------------------------------------------------------------

test("the hello carries the seat, the last id and the protocol version, and pings follow the welcome's intervals", async () => {
  const h = makeBridge();
  h.bridge.configure({ ...CONFIG, lastId: 7 });
  const ws = h.sockets[0];
  assert.equal(ws.url, "ws://backend/ws/ABCDE");
  ws.accept();
  const hello = { type: "hello", player_id: "p1", token: "tok", last_event_id: 7, epoch: null, protocol: 1 };
  assert.deepEqual(ws.of("hello")[0], hello);
  assert.equal(hello.protocol, parts.PROTOCOL_VERSION);
  ws.welcome({ ping_interval_seconds: 2, pong_timeout_seconds: 1 });
  await h.clock.advance(2000);
  assert.equal(ws.of("ping").length, 1);
  ws.deliver({ type: "pong", data: { t: 0 } });
  await h.clock.advance(2000);
  ws.deliver({ type: "pong", data: { t: 0 } });
  assert.equal(ws.of("ping").length, 2);
  assert.equal(h.bridge.status, "connected");
});

test("silence after a ping is a dead link: not green within ping + pong timeout, long-poll and a new socket", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  await h.clock.advance(4000); // the first ping
  assert.equal(ws.of("ping").length, 1);
  await h.clock.advance(3999);
  assert.equal(h.bridge.status, "connected");
  await h.clock.advance(1);
  assert.equal(h.bridge.status, "fallback");
  assert.equal(h.bridge.transport, "longpoll");
  assert.equal(ws.readyState, 3); // closed by us, not waited for
  assert.match(h.requests.at(-1).url, /\/events\?after=0&wait=0/);
  await h.clock.advance(500); // full jitter (0.5) of the first 500 ms step
  assert.equal(h.sockets.length, 2);
  assert.equal(h.bridge.report.disconnects, 1);
  assert.equal(h.bridge.report.fallback_activations, 1);
});

test("any frame counts as an answer to a ping", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  for (let i = 1; i <= 5; i++) {
    await h.clock.advance(4000);
    ws.deliver(event(i, i - 1));
  }
  assert.equal(h.bridge.status, "connected");
  assert.equal(h.bridge.lastId, 5);
});

test("a handshake that is never answered is abandoned after 5 s, and so is a hello without welcome", async () => {
  const h = makeBridge();
  h.bridge.configure({ ...CONFIG });
  await h.clock.advance(4999);
  assert.equal(h.bridge.status, "connecting");
  await h.clock.advance(1);
  assert.equal(h.bridge.status, "fallback");
  assert.equal(h.bridge.report.connect_attempts.failure, 1);
  await h.clock.advance(1000);
  assert.equal(h.sockets.length, 2);
  h.sockets[1].accept(); // opens, but no welcome ever comes
  await h.clock.advance(5000);
  assert.equal(h.sockets[1].readyState, 3);
  assert.equal(h.bridge.report.connect_attempts.failure, 2);
});

test("a long-poll that hangs is abandoned at its wait plus the margin, then retried", async () => {
  const h = makeBridge(); // fetch never answers
  h.bridge.configure({ ...CONFIG });
  h.sockets[0].drop(1006);
  await h.clock.advance(0);
  const first = h.requests.find((r) => r.url.includes("/events"));
  assert.match(first.url, /wait=0/);
  await h.clock.advance(4999);
  assert.equal(first.aborted, false);
  await h.clock.advance(1);
  assert.equal(first.aborted, true);
  await h.clock.advance(1000);
  assert.ok(h.requests.filter((r) => r.url.includes("/events")).length >= 2);
});

// ---- backoff against a flapping server ------------------------------------------------------------------------

async function flap(h, ms) {
  // every socket is welcomed and dropped 200 ms later, for `ms`
  const end = h.clock.t + ms;
  let handled = 0;
  while (h.clock.t < end) {
    while (handled < h.sockets.length) {
      const ws = h.sockets[handled++];
      ws.accept();
      ws.welcome();
      h.clock.setTimeout(() => ws.drop(1006), 200);
    }
    await h.clock.advance(50);
  }
  return handled;
}

for (const [name, random] of [["shortest", () => 0], ["middle", () => 0.5], ["longest", () => 0.999]]) {
  test(`a server that welcomes and drops gets at most 12 sockets in 30 s, and green returns within 10 s (${name} waits)`, async () => {
    const h = makeBridge({ random, handler: (url) => (url.includes("wait=0") ? { status: 200, body: { events: [] } } : undefined) });
    h.bridge.configure({ ...CONFIG });
    const opened = await flap(h, 30000);
    assert.ok(opened <= 12, `${opened} sockets in 30 s`);
    // the server is healthy again: sockets stay up
    const start = h.clock.t;
    while (h.bridge.status !== "connected") {
      const ws = h.sockets.at(-1);
      if (ws && ws.readyState === 0) {
        ws.accept();
        ws.welcome();
      }
      await h.clock.advance(50);
      assert.ok(h.clock.t - start <= 10000, "not green within 10 s of the server's recovery");
    }
  });
}

test("close codes keep their meaning: 1013 waits longer, 4401 and 4409 stop for good", async () => {
  const h = await connected();
  h.sockets[0].drop(1013);
  await h.clock.advance(4999);
  assert.equal(h.sockets.length, 1);
  await h.clock.advance(1000);
  assert.equal(h.sockets.length, 2);
  h.session.setItem("parlor:seat", JSON.stringify({ room: "ABCDE", player: "p1" }));
  h.sockets[1].drop(4401);
  await h.clock.advance(0);
  assert.equal(h.bridge.status, "stopped");
  assert.equal(h.session.getItem("parlor:seat"), null); // a seat the backend no longer knows is forgotten
  await h.clock.advance(60000);
  assert.equal(h.sockets.length, 2);
  const other = await connected();
  other.sockets[0].drop(4409);
  await other.clock.advance(60000);
  assert.equal(other.bridge.status, "stopped");
  assert.equal(other.sockets.length, 1);
});

// ---- hand-over to Python ---------------------------------------------------------------------------------------

// A connected bridge whose pings stay out of the way, with its first batch (the connection's report) handed over.
async function handedOver() {
  const h = makeBridge();
  h.bridge.configure({ ...CONFIG });
  h.sockets[0].accept();
  h.sockets[0].welcome({ ping_interval_seconds: 3600, pong_timeout_seconds: 60 });
  await h.clock.advance(0);
  h.bridge.quiet = (f) => f.type === "clue_posted"; // the live view draws clues
  const first = await h.bridge.next(0, 20000, "connecting");
  assert.equal(first.status, "connected");
  return h;
}

function pending(promise) {
  const box = { value: undefined };
  promise.then((v) => (box.value = v));
  return box;
}

test("an idle page is never rerun by an empty heartbeat: it waits on, and hands over an empty batch only at the keepalive", async () => {
  const h = await handedOver();
  const wait = pending(h.bridge.next(0, 20000, "connected"));
  await h.clock.advance(220000); // eleven heartbeats with nothing owed
  assert.equal(wait.value, undefined);
  await h.clock.advance(20000);
  assert.deepEqual(wait.value.events, []);
  assert.equal(wait.value.status, "connected");
});

test("quiet events and report items ride the next heartbeat; a loud event is handed over at once", async () => {
  const h = await handedOver();
  const ws = h.sockets[0];
  const quiet = pending(h.bridge.next(0, 20000, "connected"));
  await h.clock.advance(30000); // a heartbeat with nothing owed went by
  ws.deliver(event(1, 0)); // a clue: the live view draws it
  await h.clock.advance(9999);
  assert.equal(quiet.value, undefined);
  await h.clock.advance(1);
  assert.deepEqual(quiet.value.events.map((e) => e.id), [1]);
  assert.equal(quiet.value.report.events.websocket, 1);
  const loud = pending(h.bridge.next(1, 20000, "connected"));
  await h.clock.advance(1000);
  ws.deliver({ ...event(2, 1), type: "phase_changed" });
  await h.clock.advance(0);
  assert.deepEqual(loud.value.events.map((e) => e.id), [2]);
});

// ---- gaps -----------------------------------------------------------------------------------------------------

test("a frame whose prev is beyond the last id is a hole: counted once, backfilled from the last id", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  let answer;
  h.net.handler = (url) => new Promise((r) => (answer = () => r({ status: 200, body: { events: [event(3, 2), event(4, 3), event(5, 4)] } })));
  ws.deliver(event(1, 0));
  ws.deliver(event(2, 1));
  ws.deliver(event(2, 1)); // a duplicate
  ws.deliver(event(5, 4)); // 3 and 4 never came
  ws.deliver(event(6, 5)); // past the same hole
  await h.clock.advance(0);
  assert.equal(h.bridge.lastId, 2);
  assert.match(h.requests.at(-1).url, /\/events\?after=2&wait=0/);
  answer();
  await h.clock.advance(0);
  assert.deepEqual(h.bridge.events.map((e) => e.id), [1, 2, 3, 4, 5, 6]);
  assert.equal(h.bridge.report.gaps, 1);
});

test("prev below the last id (after a snapshot) and a missing prev (an older server) are accepted", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  ws.deliver({ type: "snapshot", data: { last_event_id: 10, epoch: "e1" } });
  ws.deliver(event(12, 9)); // this player's previous event is older than the snapshot
  ws.deliver({ ...event(14), prev: undefined });
  assert.deepEqual(h.bridge.events.map((e) => e.id), [12, 14]);
  assert.equal(h.bridge.report.gaps, 0);
});

// ---- the outbox -----------------------------------------------------------------------------------------------

test("a move goes over the socket as a command with its key and is confirmed by the ack", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  const { entry, settled } = h.bridge.move("vote", { target_id: "p2" }, "Vote Bob");
  await h.clock.advance(0);
  assert.deepEqual(ws.of("command"), [{ type: "command", id: entry.key, name: "vote", data: { target_id: "p2" } }]);
  ws.deliver({ type: "ack", data: { command: entry.key, last_event_id: 9 } });
  assert.equal((await settled).state, "done");
  assert.equal(h.session.getItem("parlor:outbox:ABCDE:p1"), null);
  assert.equal(h.requests.length, 0);
});

test("a refused move keeps the game's reason", async () => {
  const h = await connected();
  const ws = h.sockets[0];
  const { entry, settled } = h.bridge.move("vote", { target_id: "p2" });
  await h.clock.advance(0);
  ws.deliver({ type: "error", data: { command: entry.key, code: "wrong_phase", message: "the vote is over" } });
  const done = await settled;
  assert.equal(done.state, "refused");
  assert.deepEqual(done.error, { command: entry.key, code: "wrong_phase", message: "the vote is over" });
});

test("moves made offline wait in sessionStorage through a reload and are sent once, in order, when the link is back", async () => {
  const session = new MemoryStorage();
  const a = makeBridge({ session, handler: () => "network" });
  a.bridge.configure({ ...CONFIG });
  a.sockets[0].drop(1006);
  a.bridge.move("clue", { text: "apple" }, "“apple”");
  a.bridge.move("ready", {});
  await a.clock.advance(3000); // REST tried and failed, paced; both still queued
  const rest = a.requests.filter((r) => r.init.method === "POST");
  assert.ok(rest.length >= 2 && rest.every((r) => r.url.endsWith("/clues"))); // in order: the clue first
  assert.equal(new Set(rest.map((r) => r.init.headers["Idempotency-Key"])).size, 1); // always the same key
  const saved = JSON.parse(session.getItem("parlor:outbox:ABCDE:p1"));
  assert.deepEqual(saved.map((e) => e.name), ["clue", "ready"]);
  a.bridge.flush();

  // the reload: a new page, the same tab's storage
  const b = makeBridge({ session, handler: () => "network" });
  b.bridge.configure({ ...CONFIG });
  assert.deepEqual(b.bridge.outbox.entries.map((e) => [e.name, e.key]), saved.map((e) => [e.name, e.key]));
  await b.clock.advance(0); // still offline: its REST attempt fails
  const ws = b.sockets[0];
  ws.accept();
  ws.welcome();
  await b.clock.advance(0);
  const [clue] = ws.of("command");
  assert.deepEqual([clue.name, clue.id], ["clue", saved[0].key]);
  ws.deliver({ type: "ack", data: { command: clue.id, last_event_id: 3 } });
  await b.clock.advance(0);
  const ready = ws.of("command")[1];
  assert.deepEqual([ready.name, ready.id], ["ready", saved[1].key]);
  ws.deliver({ type: "ack", data: { command: ready.id, last_event_id: 4 } });
  await b.clock.advance(0);
  assert.equal(ws.of("command").length, 2);
  assert.equal(b.bridge.outbox.entries.length, 0);
  assert.equal(session.getItem("parlor:outbox:ABCDE:p1"), null);
});

test("without a socket a move goes over REST with the same key: 503 is retried, 409 is a refusal", async () => {
  const answers = [{ status: 503, body: {} }, { status: 409, body: { error: { code: "wrong_phase", message: "the vote is over" } } }];
  const h = makeBridge({ handler: (url, init) => (init.method ? answers.shift() : undefined) });
  h.bridge.configure({ ...CONFIG });
  h.sockets[0].drop(1006);
  const { settled } = h.bridge.move("kick", { player_id: "p 2" });
  await h.clock.advance(2000);
  const done = await settled;
  const sent = h.requests.filter((r) => r.init.method === "DELETE");
  assert.equal(sent.length, 2);
  assert.equal(sent[0].url, "http://backend/api/rooms/ABCDE/players/p%202");
  assert.equal(sent[0].init.headers["Idempotency-Key"], sent[1].init.headers["Idempotency-Key"]);
  assert.equal(done.state, "refused");
  assert.equal(done.error.message, "the vote is over");
});

test("a socket that does not answer a command in time hands the move to REST with the same key", async () => {
  const h = await connected({ handler: (url, init) => (init.method === "POST" ? { status: 200, body: { last_event_id: 1 } } : undefined) });
  const { entry, settled } = h.bridge.move("start", {});
  await h.clock.advance(3000);
  assert.equal((await settled).state, "done");
  const post = h.requests.find((r) => r.init.method === "POST");
  assert.equal(post.url, "http://backend/api/rooms/ABCDE/start");
  assert.equal(post.init.headers["Idempotency-Key"], entry.key);
});

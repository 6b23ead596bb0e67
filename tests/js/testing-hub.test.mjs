// hubwire/testing's hub at the wire: a raw socket of `hub.WebSocket` (the browser's API) speaks
// SignalR's JSON protocol to it frame by frame, so what the hub sends is checked byte for byte;
// and the hub's HTTP side (negotiate, routes, install()'s pass-through) through `hub.fetch`, the
// installed globals and `hub.httpClient`. In plain Node.
//
// Run: node --test tests/js/testing-hub.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { mock, test } from "node:test";
import assert from "node:assert/strict";

import { createTestHub } from "../../pkg/testing.js";

const RS = "\u001e";

/** A raw client: negotiates with `hub.fetch`, opens `hub.WebSocket`, records frames and the close. */
async function rawClient(hub, { handshake = { protocol: "json", version: 1 } } = {}) {
  const negotiate = await hub.fetch(`${hub.url}/negotiate?negotiateVersion=1`, { method: "POST" });
  const { connectionToken } = await negotiate.json();
  const socket = new hub.WebSocket(`${hub.url.replace(/^http/, "ws")}?id=${connectionToken}`);
  const client = { socket, frames: [], closed: null };
  socket.onmessage = (event) => client.frames.push(...String(event.data).split(RS).filter(Boolean).map((text) => JSON.parse(text)));
  socket.onclose = (event) => (client.closed = { code: event.code, wasClean: event.wasClean });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("refused"));
  });
  socket.send(JSON.stringify(handshake) + RS);
  client.send = (message) => socket.send(JSON.stringify(message) + RS);
  client.until = (check) => hub.waitFor(() => check(client), { timeoutMs: 2000 });
  await client.until((c) => c.frames.length > 0 || c.closed);
  return client;
}

test("the handshake is answered with {} and invocations with completions; a method that throws sends its message", async () => {
  const hub = createTestHub({ methods: { Add: (_ctx, a, b) => a + b, Boom: () => Promise.reject(new Error("boom")) } });
  const client = await rawClient(hub);
  assert.deepEqual(client.frames, [{}]);
  client.send({ type: 1, invocationId: "1", target: "Add", arguments: [2, 3] });
  client.send({ type: 1, invocationId: "2", target: "boom", arguments: [] });
  client.send({ type: 1, target: "Add", arguments: [1, 1] }); // a send: no completion
  await client.until((c) => c.frames.length === 3);
  assert.deepEqual(client.frames.slice(1), [
    { type: 3, invocationId: "1", result: 5 },
    { type: 3, invocationId: "2", error: "boom" },
  ]);
  assert.deepEqual(hub.invocations.map((call) => [call.method, call.kind]), [["Add", "invoke"], ["boom", "invoke"], ["Add", "send"]]);
  hub.stop();
});

test("a handshake asking for another protocol is refused with an error and the socket closed", async () => {
  const hub = createTestHub();
  const client = await rawClient(hub, { handshake: { protocol: "messagepack", version: 1 } });
  await client.until((c) => c.closed);
  assert.match(client.frames[0].error, /json/);
  assert.deepEqual(hub.connections, []);
  hub.stop();
});

test("a stream sends its items and a completion; CancelInvocation stops it", async () => {
  let release;
  const hub = createTestHub({
    methods: {
      Three: () => [1, 2, 3],
      async *Forever() {
        for (let i = 0; ; i += 1) {
          yield i;
          await new Promise((resolve) => (release = resolve));
        }
      },
    },
  });
  const client = await rawClient(hub);
  client.send({ type: 4, invocationId: "s", target: "Three", arguments: [] });
  await client.until((c) => c.frames.some((f) => f.type === 3));
  assert.deepEqual(client.frames.slice(1), [
    { type: 2, invocationId: "s", item: 1 },
    { type: 2, invocationId: "s", item: 2 },
    { type: 2, invocationId: "s", item: 3 },
    { type: 3, invocationId: "s" },
  ]);
  client.frames.length = 0;
  client.send({ type: 4, invocationId: "f", target: "Forever", arguments: [] });
  await client.until((c) => c.frames.length === 1);
  client.send({ type: 5, invocationId: "f" });
  await new Promise((resolve) => setTimeout(resolve, 10));
  release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(client.frames, [{ type: 2, invocationId: "f", item: 0 }]);
  hub.stop();
});

test("publish reaches everyone, a group or one connection; sendTwice doubles the next n invocations", async () => {
  const hub = createTestHub({ methods: { Join: (ctx, group) => ctx.addToGroup(group) } });
  const a = await rawClient(hub);
  const b = await rawClient(hub);
  a.send({ type: 1, invocationId: "j", target: "Join", arguments: ["g"] });
  await hub.waitFor("Join");
  await a.until((c) => c.frames.length === 2);
  assert.deepEqual(Object.keys(hub.groups), ["g"]);
  assert.equal(hub.publish("T", [1]), 2);
  assert.equal(hub.publish("T", [2], { group: "g" }), 1);
  assert.equal(hub.publish("T", [3], { connectionId: hub.connections[1].id }), 1);
  hub.sendTwice(1);
  hub.publish("T", [4], { group: "g" });
  await b.until((c) => c.frames.length === 3);
  await a.until((c) => c.frames.length === 6);
  const args = (client) => client.frames.filter((f) => f.type === 1).map((f) => f.arguments[0]);
  assert.deepEqual(args(a), [1, 2, 4, 4]);
  assert.deepEqual(args(b), [1, 3]);
  hub.stop();
});

test("drop closes with 1006 and no Close message; close sends one with allowReconnect and closes cleanly", async () => {
  const hub = createTestHub();
  const dropped = await rawClient(hub);
  hub.drop();
  await dropped.until((c) => c.closed);
  assert.deepEqual({ frames: dropped.frames, closed: dropped.closed }, { frames: [{}], closed: { code: 1006, wasClean: false } });
  const closed = await rawClient(hub);
  hub.close({ error: "maintenance", allowReconnect: true });
  await closed.until((c) => c.closed);
  assert.deepEqual({ frames: closed.frames, closed: closed.closed }, { frames: [{}, { type: 7, error: "maintenance", allowReconnect: true }], closed: { code: 1000, wasClean: true } });
  assert.deepEqual(hub.connections, []);
  hub.stop();
});

test("the hub pings every keepAliveIntervalMs of (fake) time after its last frame", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const hub = createTestHub({ keepAliveIntervalMs: 1000 });
    const client = await rawClient(hub);
    mock.timers.tick(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(client.frames, [{}]);
    mock.timers.tick(1);
    await client.until((c) => c.frames.length === 2);
    mock.timers.tick(1000);
    await client.until((c) => c.frames.length === 3);
    assert.deepEqual(client.frames, [{}, { type: 6 }, { type: 6 }]);
    hub.stop();
  } finally {
    mock.timers.reset();
  }
});

test("refuseConnects answers negotiate with 503 (a fetch Response, an HttpClient rejection with statusCode) and counts the attempts", async () => {
  const hub = createTestHub();
  hub.refuseConnects(2);
  const first = await hub.fetch(`${hub.url}/negotiate?negotiateVersion=1`, { method: "POST" });
  await assert.rejects(hub.httpClient.post(`${hub.url}/negotiate?negotiateVersion=1`, { content: "" }), (error) => error.statusCode === 503);
  const third = await hub.httpClient.post(`${hub.url}/negotiate?negotiateVersion=1`, { content: "" });
  assert.equal(first.status, 503);
  assert.equal(third.statusCode, 200);
  assert.deepEqual(JSON.parse(third.content).availableTransports, [{ transport: "WebSockets", transferFormats: ["Text", "Binary"] }]);
  assert.deepEqual(hub.attempts.map((attempt) => attempt.refused), [true, true, false]);
  hub.stop();
});

test("a socket to a URL the hub does not own, or with a token it never gave, fails as an unreachable server", async () => {
  const hub = createTestHub();
  for (const url of ["ws://elsewhere.test/hub", `${hub.url.replace(/^http/, "ws")}?id=not-a-token`]) {
    const socket = new hub.WebSocket(url);
    const events = [];
    socket.onerror = () => events.push("error");
    await new Promise((resolve) => {
      socket.onclose = (event) => {
        events.push(`close ${event.code}`);
        resolve();
      };
    });
    assert.deepEqual(events, ["error", "close 1006"], url);
  }
  hub.stop();
});

test("install() answers the hub's URL and routes, passes other URLs to the fetch it replaced, and uninstall() puts it back", async () => {
  const original = globalThis.fetch;
  const passedOn = [];
  globalThis.fetch = async (input) => {
    passedOn.push(String(input));
    return new Response("elsewhere");
  };
  const replaced = globalThis.fetch;
  try {
    const hub = createTestHub({ url: "http://app.test/hubs/dashboard", http: { "GET http://app.test/api/flags": { on: true }, "POST http://app.test/api/echo": ({ body }) => JSON.parse(body) } });
    hub.install();
    assert.deepEqual(await (await fetch("http://app.test/api/flags")).json(), { on: true });
    assert.deepEqual(await (await fetch("http://app.test/api/echo", { method: "POST", body: '{"x":1}' })).json(), { x: 1 });
    assert.equal((await fetch("http://app.test/hubs/dashboard/negotiate?negotiateVersion=1", { method: "POST" })).status, 200);
    assert.equal(await (await fetch("http://other.test/")).text(), "elsewhere");
    assert.deepEqual(passedOn, ["http://other.test/"]);
    hub.stop();
    assert.equal(globalThis.fetch, replaced);
  } finally {
    globalThis.fetch = original;
  }
});

test("waitFor resolves with the check's value, waits for calls by name, and rejects after its timeout saying what the hub saw", async () => {
  const hub = createTestHub();
  const client = await rawClient(hub);
  const calls = hub.waitFor("Ping", { count: 2 });
  client.send({ type: 1, target: "Ping", arguments: [1] });
  client.send({ type: 1, target: "ping", arguments: [2] });
  assert.deepEqual((await calls).map((call) => call.args), [[1], [2]]);
  assert.equal(await hub.waitFor((h) => h.connections.length), 1);
  await assert.rejects(hub.waitFor(() => false, { timeoutMs: 30, what: "nothing" }), /timed out after 30 ms waiting for nothing; the hub saw 1 connection\(s\), 1 attempt\(s\), calls: Ping, ping/);
  hub.stop();
});

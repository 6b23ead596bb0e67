// The npm package's lazy WebAssembly loading, in Node against pkg/: the official API's
// synchronous build-and-register shape over a module that instantiates on first use.
//
// The module is instantiated once per process, so every scenario runs in a fresh node process
// (scenario(code) below) that prints its observations as JSON.
//
// Run: node --test tests/js/lazy-init.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { PKG_DIR, run } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const INDEX = pathToFileURL(path.join(PKG_DIR, "index.js")).href;
const LIVE = pathToFileURL(path.join(PKG_DIR, "live.js")).href;

let mock;

before(async () => {
  mock = await startMock();
});

after(async () => {
  await mock?.stop();
});

/** Runs `body` as an ES module in a fresh node (`hubwire`, `live` and `HUB` in scope); resolves to what it printed as JSON. */
async function scenario(body) {
  const code = `
    const hubwire = await import(${JSON.stringify(INDEX)});
    const live = await import(${JSON.stringify(LIVE)});
    const HUB = ${JSON.stringify(new URL("hub", mock.url).href)};
    const report = {};
    ${body}
    process.stdout.write(JSON.stringify(report));
  `;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], { timeoutMs: 30_000 });
  return JSON.parse(stdout);
}

test("a connection built before the module is ready is Disconnected, with a never-connected health", async () => {
  const report = await scenario(`
    const connection = new hubwire.HubConnectionBuilder().withUrl(HUB).build();
    report.state = connection.state;
    report.connectionId = connection.connectionId;
    report.health = connection.health();
  `);
  assert.deepEqual(report, {
    state: "Disconnected",
    connectionId: null,
    health: { state: "Disconnected", transport: null, connectionId: null, lastMessageAt: null, rttMs: null, reconnectCount: 0, duplicatesDropped: 0 },
  });
});

test("start() reads Connecting while the module loads, and handlers registered before it receive the hub's calls", async () => {
  const report = await scenario(`
    const connection = new hubwire.HubConnectionBuilder().withUrl(HUB).build();
    const received = [];
    const dropped = () => received.push("removed handler");
    connection.on("Tick", (tick) => received.push(tick));
    connection.on("Tick", dropped);
    connection.off("Tick", dropped);
    const states = [];
    connection.onstatechange((change) => states.push(change.current));
    const starting = connection.start();
    report.stateWhileLoading = connection.state;
    await starting;
    report.stateAfter = connection.state;
    await fetch(new URL("/control/publish", HUB), { method: "POST", body: JSON.stringify({ target: "Tick", arguments: [7] }) });
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    report.received = [...received];
    report.states = [...states];
    await connection.stop();
  `);
  assert.deepEqual(report, { stateWhileLoading: "Connecting", stateAfter: "Connected", received: [7], states: ["Connecting", "Connected"] });
});

test("stop() while the module loads calls the start off: it rejects with an AbortError and nothing connects", async () => {
  const report = await scenario(`
    const connection = new hubwire.HubConnectionBuilder().withUrl(HUB).build();
    const starting = connection.start();
    await connection.stop();
    report.stateAfterStop = connection.state;
    report.start = await starting.then(() => "resolved", (error) => [error instanceof hubwire.AbortError, error.message]);
    await hubwire.ready();
    report.stateAfterLoad = connection.state;
    report.connections = (await (await fetch(new URL("/control/connections", HUB))).json()).length;
  `);
  assert.deepEqual(report, { stateAfterStop: "Disconnected", start: [true, "The connection was stopped during negotiation."], stateAfterLoad: "Disconnected", connections: 0 });
});

test("bad settings reject start() when built before the module was ready, and throw from build() after ready()", async () => {
  const report = await scenario(`
    const early = new hubwire.HubConnectionBuilder().withUrl(HUB).withAutomaticReconnect([-5]).build();
    report.early = await early.start().then(() => "started", (error) => error.message);
    await hubwire.ready();
    try {
      new hubwire.HubConnectionBuilder().withUrl(HUB).withAutomaticReconnect([-5]).build();
      report.late = "built";
    } catch (error) {
      report.late = error.message;
    }
  `);
  assert.equal(report.early, "'reconnect delays' must be a finite, non-negative number of milliseconds (got -5).");
  assert.equal(report.late, report.early);
});

test("a subscription made before the module is ready starts once it is, and one ended before never makes its core", async () => {
  const report = await scenario(`
    let polls = 0;
    const pollFn = async () => ({ n: ++polls });
    const ended = live.subscribe({ poll: pollFn, intervalMs: 50 });
    ended.unsubscribe();
    const values = [];
    const sub = live.subscribe({ poll: pollFn, intervalMs: 50, onUpdate: (value) => values.push(value.n) });
    report.sourceBefore = sub.source;
    report.statsBefore = sub.stats().pollsMade;
    const deadline = Date.now() + 5000;
    while (values.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    report.values = values.slice(0, 2);
    report.endedStats = ended.stats().pollsMade;
  `);
  assert.deepEqual(report, { sourceBefore: "idle", statsBefore: 0, values: [1, 2], endedStats: 0 });
});

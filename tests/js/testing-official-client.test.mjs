// hubwire/testing's hub speaks real SignalR: the official client (@microsoft/signalr) and
// hubwire, both given the hub's WebSocket class and HttpClient, and hubwire with the hub
// installed instead (no connection code changed), run the same basic scenario against it —
// connect, invoke, a group event, a hub method that fails, a stream, a drop and the reconnect
// with the group joined again, a Close with allowReconnect, a Close with an error — and observe
// the same thing. In plain Node, with no socket and no server process.
//
// Run: node --test tests/js/testing-official-client.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";

import { HubConnectionBuilder as HubwireBuilder } from "../../pkg/index.js";
import { createTestHub } from "../../pkg/testing.js";

const methods = {
  Join: (context, group) => {
    context.addToGroup(group);
    return `joined ${group}`;
  },
  Fail: () => {
    throw new Error("no such order");
  },
  *Count(_context, n) {
    for (let i = 1; i <= n; i += 1) yield i;
  },
};

const clients = {
  official(hub) {
    return new signalR.HubConnectionBuilder()
      .withUrl(hub.url, hub.clientOptions)
      .withAutomaticReconnect([0, 0, 0])
      .configureLogging(signalR.LogLevel.None)
      .build();
  },
  hubwire(hub) {
    return new HubwireBuilder().withUrl(hub.url, hub.clientOptions).withAutomaticReconnect([0, 0, 0]).configureLogging(6).build();
  },
  /** hubwire as an app that changes no connection code: the hub is installed. */
  hubwireInstalled(hub) {
    hub.install();
    return new HubwireBuilder().withUrl(hub.url).withAutomaticReconnect([0, 0, 0]).configureLogging(6).build();
  },
};

/** Resolves with the next call of `register(callback)`'s callback. */
const next = (register) => new Promise((resolve) => register(resolve));

async function scenario(makeClient) {
  const hub = createTestHub({ methods });
  const connection = makeClient(hub);
  const seen = { events: [] };
  let rejoined = null; // the official client's re-join after a reconnect
  try {
    connection.on("Notice", (text) => {
      seen.events.push(text);
    });
    await connection.start();
    seen.connected = { state: connection.state, hubConnections: hub.connections.length, attempts: hub.attempts.map((a) => a.kind) };
    seen.echo = await connection.invoke("Echo", { n: 1, text: "é ünïcode" });
    // hubwire joins by joinGroup (and so re-joins by itself); the official client invokes.
    if (connection.joinGroup) {
      await connection.joinGroup({ join: "Join", leave: "Leave", args: ["orders"] });
    } else {
      // With the official client the app re-joins in onreconnected.
      await connection.invoke("Join", "orders");
      connection.onreconnected(() => {
        rejoined = connection.invoke("Join", "orders");
      });
    }
    seen.joinedGroups = Object.keys(hub.groups);
    seen.failure = await connection.invoke("Fail").then(
      () => "resolved",
      (error) => /no such order/.test(error.message),
    );
    seen.stream = await new Promise((resolve, reject) => {
      const items = [];
      connection.stream("Count", 3).subscribe({ next: (item) => items.push(item), error: reject, complete: () => resolve(items) });
    });
    hub.publish("Notice", ["to everyone"]);
    hub.publish("Notice", ["to the group"], { group: "orders" });
    hub.publish("Notice", ["to another group"], { group: "billing" });
    await hub.waitFor(() => seen.events.length === 2);

    // Dropped: reconnects with a new connection, and the group is joined again.
    const reconnected = next((callback) => connection.onreconnected(callback));
    const firstId = hub.connections[0].id;
    hub.drop();
    await reconnected;
    await hub.waitFor((h) => h.groups.orders?.length === 1);
    seen.afterDrop = { state: connection.state, newConnection: hub.connections[0].id !== firstId, groups: Object.keys(hub.groups) };
    hub.publish("Notice", ["after the drop"], { group: "orders" });
    await hub.waitFor(() => seen.events.length === 3);

    // Close with allowReconnect: reconnects too.
    const reconnectedAgain = next((callback) => connection.onreconnected(callback));
    hub.close({ allowReconnect: true });
    await reconnectedAgain;
    await hub.waitFor((h) => h.groups.orders?.length === 1 && h.invocations.length === 6);
    seen.afterClose = connection.state;

    // Close without it: the connection ends with the hub's error.
    await rejoined;
    const closed = next((callback) => connection.onclose(callback));
    hub.close({ error: "shutting down" });
    seen.closedWith = String((await closed)?.message ?? "").includes("shutting down");
    seen.invocations = hub.invocations.map((call) => call.method);
    return seen;
  } finally {
    await connection.stop();
    hub.stop();
  }
}

test("the official client and hubwire observe the same scenario against the test hub", async () => {
  const official = await scenario(clients.official);
  const hubwire = await scenario(clients.hubwire);
  const installed = await scenario(clients.hubwireInstalled);
  const expected = {
    events: ["to everyone", "to the group", "after the drop"],
    connected: { state: "Connected", hubConnections: 1, attempts: ["negotiate"] },
    echo: { n: 1, text: "é ünïcode" },
    joinedGroups: ["orders"],
    failure: true,
    stream: [1, 2, 3],
    afterDrop: { state: "Connected", newConnection: true, groups: ["orders"] },
    afterClose: "Connected",
    closedWith: true,
  };
  assert.deepEqual({ ...official, invocations: undefined }, { ...expected, invocations: undefined });
  assert.deepEqual({ ...hubwire, invocations: undefined }, { ...expected, invocations: undefined });
  assert.deepEqual(official.invocations, ["Echo", "Join", "Fail", "Count", "Join", "Join"]);
  assert.deepEqual(hubwire.invocations, official.invocations);
  assert.deepEqual(installed, hubwire);
});

test("refuseConnects: the official client's start fails on the refused negotiate, and succeeds after", async () => {
  const hub = createTestHub();
  hub.refuseConnects(1);
  const connection = clients.official(hub);
  await assert.rejects(connection.start());
  await connection.start();
  assert.deepEqual(hub.attempts.map((a) => a.refused), [true, false]);
  await connection.stop();
  hub.stop();
});

test("failMethod and sendTwice: the official client sees the error and the doubled event", async () => {
  const hub = createTestHub();
  const connection = clients.official(hub);
  const events = [];
  connection.on("Tick", (n) => {
    events.push(n);
  });
  await connection.start();
  hub.failMethod("Echo", "echo is down", { times: 1 });
  await assert.rejects(connection.invoke("Echo", 1), /echo is down/);
  assert.equal(await connection.invoke("Echo", 2), 2);
  hub.sendTwice(1);
  hub.publish("Tick", [1]);
  hub.publish("Tick", [2]);
  await hub.waitFor(() => events.length === 3);
  assert.deepEqual(events, [1, 1, 2]);
  await connection.stop();
  hub.stop();
});

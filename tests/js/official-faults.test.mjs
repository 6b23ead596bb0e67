// The official @microsoft/signalr client against the mock hub's injected faults: proof that
// each fault looks to a real client like the failure it imitates.
//
// Run: node --test tests/js/official-faults.test.mjs

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { startMock } from "./support/mock.mjs";

const TEST_TIMEOUT_MS = 30_000;
let mock;

before(async () => {
  mock = await startMock();
});

after(async () => {
  await mock?.stop();
});

beforeEach(async () => {
  await mock.control("DELETE /control/faults");
  await mock.control("DELETE /control/log");
});

function connectTo({ automaticReconnect = false } = {}) {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel[process.env.HUBWIRE_SIGNALR_LOG ?? "None"]);
  if (automaticReconnect) builder = builder.withAutomaticReconnect([0, 100, 200, 400]);
  return builder.build();
}

test("a refused negotiate fails start() with status 503", { timeout: TEST_TIMEOUT_MS }, async () => {
  await mock.control("/control/faults", { refuseNegotiations: 1 });
  const connection = connectTo();
  await assert.rejects(connection.start(), (error) => {
    assert.match(String(error), /503/);
    return true;
  });
  await connection.start();
  await connection.stop();
});

test("a failed join rejects invoke with the injected error", { timeout: TEST_TIMEOUT_MS }, async () => {
  await mock.control("/control/faults", {
    failMethod: { method: "JoinDispatchGroup", times: 1, error: "region offline" },
  });
  const connection = connectTo();
  await connection.start();
  try {
    await assert.rejects(connection.invoke("JoinDispatchGroup", "europe"), {
      message: "An unexpected error occurred invoking 'JoinDispatchGroup' on the server. HubException: region offline",
    });
    assert.equal(await connection.invoke("JoinDispatchGroup", "europe"), null);
  } finally {
    await connection.stop();
  }
});

test("refused connects during reconnect are retried until one gets through", { timeout: TEST_TIMEOUT_MS }, async () => {
  const connection = connectTo({ automaticReconnect: true });
  await connection.start();
  try {
    const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
    await mock.control("/control/faults", { refuseConnects: 2 });
    await mock.control("POST /control/drop");
    await reconnected;
    const refusals = (await mock.control("/control/log")).filter((entry) => entry.kind === "refused");
    assert.deepEqual(refusals.map((entry) => entry.status), [503, 503]);
    assert.equal(connection.state, signalR.HubConnectionState.Connected);
  } finally {
    await connection.stop();
  }
});

test("a doubled event reaches the handler twice", { timeout: TEST_TIMEOUT_MS }, async () => {
  const connection = connectTo();
  await connection.start();
  try {
    const seen = [];
    const three = new Promise((resolve) =>
      connection.on("Tick", (n) => {
        seen.push(n);
        if (seen.length === 3) resolve();
      }),
    );
    await mock.control("/control/faults", { duplicateNextEvents: 1 });
    await mock.control("/control/publish", { target: "Tick", arguments: [1] });
    await mock.control("/control/publish", { target: "Tick", arguments: [2] });
    await three;
    assert.deepEqual(seen, [1, 1, 2]);
  } finally {
    await connection.stop();
  }
});

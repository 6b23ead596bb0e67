// The official @microsoft/signalr client against the mock hub's modes: transport fallback when
// transports are refused, negotiate redirect to /hub2, and auth mode with a rotated token.
//
// Run: node --test tests/js/official-modes.test.mjs

import { after, afterEach, before, test } from "node:test";
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

afterEach(async () => {
  await mock.control("DELETE /control/faults");
  await mock.control("/control/redirect", { enabled: false });
  await mock.control("/control/auth", { token: null });
});

/** A connection that lets the client pick its transport from negotiate. */
function connectTo(options = {}, configure = (builder) => builder) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, options)
    .configureLogging(signalR.LogLevel[process.env.HUBWIRE_SIGNALR_LOG ?? "None"]);
  return configure(builder).build();
}

async function transportOf(connection) {
  const connections = await mock.control("/control/connections");
  return connections.find((c) => c.connectionId === connection.connectionId);
}

for (const [refused, expected] of [
  [["WebSockets"], "ServerSentEvents"],
  [["WebSockets", "ServerSentEvents"], "LongPolling"],
]) {
  test(`with ${refused.join(" and ")} refused the client falls back to ${expected}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await mock.control("/control/faults", { refuseTransports: refused });
    const connection = connectTo();
    await connection.start();
    try {
      assert.equal((await transportOf(connection))?.transport, expected);
      assert.equal(await connection.invoke("Echo", expected), expected);
    } finally {
      await connection.stop();
    }
  });
}

test("the client follows a negotiate redirect to /hub2 with its token", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { accessToken } = await mock.control("/control/redirect", { enabled: true });
  const connection = connectTo();
  await connection.start();
  try {
    const mine = await transportOf(connection);
    assert.equal(mine?.endpoint, "/hub2");
    assert.equal(mine?.accessToken, accessToken);
    assert.equal(await connection.invoke("Echo", "redirected"), "redirected");
  } finally {
    await connection.stop();
  }
});

test("without the token the client cannot start in auth mode", { timeout: TEST_TIMEOUT_MS }, async () => {
  await mock.control("/control/auth", { token: "t1" });
  const connection = connectTo();
  await assert.rejects(connection.start(), /401|Unauthorized/);
});

test("after a token rotation the client reconnects with the fresh token", { timeout: TEST_TIMEOUT_MS }, async () => {
  await mock.control("/control/auth", { token: "t1" });
  const accessTokenFactory = async () => (await mock.control("/control/auth")).token;
  const connection = connectTo({ accessTokenFactory }, (builder) => builder.withAutomaticReconnect([0, 100, 200]));
  await connection.start();
  try {
    const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
    const { token: fresh } = await mock.control("/control/auth", { rotate: true });
    await mock.control("POST /control/drop");
    await reconnected;
    assert.equal((await transportOf(connection))?.accessToken, fresh);
  } finally {
    await connection.stop();
  }
});

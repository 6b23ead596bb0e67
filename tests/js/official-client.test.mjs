// Conformance: the official ASP.NET Core SignalR client (@microsoft/signalr) against the mock
// hub. If the official client works with the mock, the mock speaks real SignalR, and hubwire's
// own tests against the mock mean something.
//
// Run: node --test tests/js/official-client.test.mjs
// Client logs: HUBWIRE_SIGNALR_LOG=Debug node --test tests/js/official-client.test.mjs
//
// In Node the official client opens WebSockets with the `ws` package (its dependency) and
// sends the access token as an `Authorization: Bearer` header on the upgrade; browsers cannot
// set headers there and use the `access_token` query parameter instead. The mock records either.

import { after, before, test } from "node:test";
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

/** A hub connection to the mock over WebSockets, negotiating first. */
function connectTo({ accessTokenFactory, automaticReconnect = false } = {}) {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, {
      transport: signalR.HttpTransportType.WebSockets,
      skipNegotiation: false,
      accessTokenFactory,
    })
    .configureLogging(signalR.LogLevel[process.env.HUBWIRE_SIGNALR_LOG ?? "None"]);
  if (automaticReconnect) builder = builder.withAutomaticReconnect([0, 200, 500, 1000]);
  return builder.build();
}

/** Runs `body` with a started connection and always stops the connection afterwards. */
async function withConnection(options, body) {
  const connection = connectTo(options);
  try {
    await connection.start();
    await body(connection);
  } finally {
    await connection.stop();
  }
}

/** Resolves with the first call of a one-callback event registration such as `onclose`. */
function first(register) {
  return new Promise((resolve) => register(resolve));
}

const recommendation = {
  jobId: "job-17",
  region: "north-america",
  contractorId: "contractor-4",
  score: 0.92,
  recommendedAt: "2026-03-01T09:30:00.000Z",
};

test("connects over WebSockets and reports a connection id", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    assert.equal(connection.state, signalR.HubConnectionState.Connected);
    assert.equal(typeof connection.connectionId, "string");
    const connections = await mock.control("/control/connections");
    const mine = connections.find((c) => c.connectionId === connection.connectionId);
    assert.equal(mine?.transport, "WebSockets");
  });
});

test("invoking Echo returns a string unchanged", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    assert.equal(await connection.invoke("Echo", "hello from node"), "hello from node");
  });
});

test("invoking Echo returns an object unchanged", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    const value = { zone: "z", jobId: "j1", tags: ["a", "b"], nested: { score: 0.5, done: false, none: null } };
    const echoed = await connection.invoke("Echo", value);
    assert.deepEqual(echoed, value);
    assert.equal(JSON.stringify(echoed), JSON.stringify(value), "keys keep their order");
  });
});

test("a dispatch group member receives RecommendationReady published via the control API", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    const received = first((resolve) => connection.on("RecommendationReady", resolve));
    // A method without a return value resolves with null, as against ASP.NET Core.
    assert.equal(await connection.invoke("JoinDispatchGroup", "north-america"), null);
    const answer = await mock.control("/control/publish", {
      target: "RecommendationReady",
      arguments: [recommendation],
      group: "dispatch:north-america",
    });
    assert.deepEqual(answer, { delivered: 1 });
    assert.deepEqual(await received, recommendation);
  });
});

test("a Fail invocation rejects with the server's message", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    await assert.rejects(connection.invoke("Fail", "no contractor available"), {
      message: "An unexpected error occurred invoking 'Fail' on the server. HubException: no contractor available",
    });
  });
});

test("a server Close with an error reaches onclose with that text", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    const closed = first((resolve) => connection.onclose(resolve));
    await mock.control("/control/close", { error: "maintenance window" });
    const error = await closed;
    assert.ok(error instanceof Error, "onclose gets an error");
    assert.match(error.message, /maintenance window/);
    assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
  });
});

test("a server Close with allowReconnect makes an auto-reconnecting client reconnect", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({ automaticReconnect: true }, async (connection) => {
    const reconnecting = first((resolve) => connection.onreconnecting(resolve));
    const reconnected = first((resolve) => connection.onreconnected(resolve));
    await mock.control("/control/close", { allowReconnect: true });
    await reconnecting;
    const newId = await reconnected;
    assert.equal(connection.state, signalR.HubConnectionState.Connected);
    assert.equal(newId, connection.connectionId);
    assert.equal(await connection.invoke("Echo", "after reconnect"), "after reconnect");
  });
});

test("a dropped connection fires onclose with an error", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({}, async (connection) => {
    const closed = first((resolve) => connection.onclose(resolve));
    const answer = await mock.control("POST /control/drop");
    assert.ok(answer.dropped >= 1);
    assert.ok((await closed) instanceof Error, "an abrupt drop is an error, not a clean close");
  });
});

test("a dropped connection makes an auto-reconnecting client reconnect", { timeout: TEST_TIMEOUT_MS }, async () => {
  await withConnection({ automaticReconnect: true }, async (connection) => {
    const reconnecting = first((resolve) => connection.onreconnecting(resolve));
    const reconnected = first((resolve) => connection.onreconnected(resolve));
    await mock.control("POST /control/drop");
    assert.ok((await reconnecting) instanceof Error);
    await reconnected;
    assert.equal(connection.state, signalR.HubConnectionState.Connected);
  });
});

test("the accessTokenFactory token reaches negotiate and the WebSocket", { timeout: TEST_TIMEOUT_MS }, async () => {
  const token = `token-${Date.now()}`;
  await withConnection({ accessTokenFactory: () => token }, async (connection) => {
    const log = await mock.control("/control/log");
    const negotiate = log.findLast((entry) => entry.kind === "negotiate" && entry.connectionId === connection.connectionId);
    assert.equal(negotiate?.accessToken, token, "Authorization: Bearer on negotiate");
    const connect = log.findLast((entry) => entry.kind === "connect" && entry.connectionId === connection.connectionId);
    assert.equal(connect?.accessToken, token, "the token presented when the WebSocket opened");
    const connections = await mock.control("/control/connections");
    assert.equal(connections.find((c) => c.connectionId === connection.connectionId)?.accessToken, token);
  });
});

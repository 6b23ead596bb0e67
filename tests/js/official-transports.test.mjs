// The official @microsoft/signalr client against the mock hub on each of the three transports:
// invoke, a group event, a server-to-client stream, an upload stream and a client result, the
// same steps on WebSockets, Server-Sent Events and Long Polling; then stateful reconnect over
// WebSockets.
//
// Run: node --test tests/js/official-transports.test.mjs
// Client logs: HUBWIRE_SIGNALR_LOG=Debug node --test tests/js/official-transports.test.mjs
//
// In Node the official client brings its own transports' plumbing: `ws` for WebSockets,
// `eventsource` for Server-Sent Events (both are dependencies of @microsoft/signalr, nothing
// extra to install) and Node's fetch for Long Polling and the sends.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { startMock } from "./support/mock.mjs";

const TEST_TIMEOUT_MS = 30_000;
const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];
let mock;

before(async () => {
  mock = await startMock(["--stateful-grace-ms", "10000"]);
});

after(async () => {
  await mock?.stop();
});

function logLevel() {
  return signalR.LogLevel[process.env.HUBWIRE_SIGNALR_LOG ?? "None"];
}

/** Runs `body` with a connection started on `transport`, always stopping it afterwards. */
async function withConnection(transport, body, configure = (builder) => builder) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, { transport: signalR.HttpTransportType[transport] })
    .configureLogging(logLevel());
  const connection = configure(builder).build();
  try {
    await connection.start();
    await body(connection);
  } finally {
    await connection.stop();
  }
}

/** Collects a server stream into an array. */
function collect(stream) {
  return new Promise((resolve, reject) => {
    const items = [];
    stream.subscribe({ next: (item) => items.push(item), error: reject, complete: () => resolve(items) });
  });
}

for (const transport of TRANSPORTS) {
  describe(transport, () => {
    test("connects on this transport", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const connections = await mock.control("/control/connections");
        const mine = connections.find((c) => c.connectionId === connection.connectionId);
        assert.equal(mine?.transport, transport);
      });
    });

    test("invoke returns the hub's result", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        assert.deepEqual(await connection.invoke("Echo", { via: transport, n: [1, 2] }), { via: transport, n: [1, 2] });
      });
    });

    test("a group event reaches the member", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const region = `region-${transport}`;
        const received = new Promise((resolve) => connection.on("JobAssigned", resolve));
        await connection.invoke("JoinDispatchGroup", region);
        const job = { jobId: "job-1", region, contractorId: "contractor-1", assignedAt: "2026-03-01T09:30:00.000Z" };
        await mock.control("/control/publish", { target: "JobAssigned", arguments: [job], group: `dispatch:${region}` });
        assert.deepEqual(await received, job);
      });
    });

    test("a server stream delivers every item, then completes", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        assert.deepEqual(await collect(connection.stream("Count", 5, 10)), [0, 1, 2, 3, 4]);
      });
    });

    test("an upload stream is summed by the hub", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const subject = new signalR.Subject();
        const total = connection.invoke("UploadSum", subject);
        for (const n of [1, 2, 3.5]) subject.next(n);
        subject.complete();
        assert.equal(await total, 6.5);
      });
    });

    test("a client result goes back to the hub", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        connection.on("GetLocation", async (jobId) => ({ jobId, lat: 51.5, lng: -0.12 }));
        const answer = await mock.control("/control/invoke-client", {
          connectionId: connection.connectionId,
          target: "GetLocation",
          arguments: ["job-9"],
        });
        assert.deepEqual(answer, { result: { jobId: "job-9", lat: 51.5, lng: -0.12 } });
      });
    });
  });
}

describe("stateful reconnect over WebSockets", () => {
  test("a dropped socket is resumed: same connection, no reconnecting, every event exactly once", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withConnection(
      "WebSockets",
      async (connection) => {
        const id = connection.connectionId;
        let reconnecting = 0;
        connection.onreconnecting(() => reconnecting++);
        const seen = [];
        const all = new Promise((resolve) =>
          connection.on("Tick", (n) => {
            seen.push(n);
            if (n === 100) resolve();
          }),
        );
        await connection.invoke("JoinDispatchGroup", "stateful");
        const publish = (n) => mock.control("/control/publish", { target: "Tick", arguments: [n], group: "dispatch:stateful" });
        for (let n = 1; n <= 50; n++) await publish(n);
        await mock.control("POST /control/drop");
        for (let n = 51; n <= 100; n++) await publish(n);
        await all;
        assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i + 1));
        assert.equal(connection.connectionId, id);
        assert.equal(reconnecting, 0);
        assert.equal(await connection.invoke("Echo", "still here"), "still here");
        const log = await mock.control("/control/log");
        assert.ok(log.some((entry) => entry.kind === "resumed" && entry.connectionId === id), "the hub saw a resume");
      },
      (builder) => builder.withStatefulReconnect(),
    );
  });
});

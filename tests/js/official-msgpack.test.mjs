// The official @microsoft/signalr client with @microsoft/signalr-protocol-msgpack against the
// mock hub, on WebSockets and Long Polling: invoke, a group event, a server-to-client stream, an
// upload stream and a client result, binary data and timestamps both ways; Server-Sent Events
// refused; then stateful reconnect over WebSockets. Proof that the mock speaks real MessagePack.
// Last, hubwire given the official package's protocol object (withHubProtocol accepts it).
//
// Run: node --test tests/js/official-msgpack.test.mjs
// Client logs: HUBWIRE_SIGNALR_LOG=Debug node --test tests/js/official-msgpack.test.mjs

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { startMock } from "./support/mock.mjs";

const TEST_TIMEOUT_MS = 30_000;
const TRANSPORTS = ["WebSockets", "LongPolling"];
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

function builderFor(transport) {
  return new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, { transport: signalR.HttpTransportType[transport] })
    .withHubProtocol(new MessagePackHubProtocol())
    .configureLogging(logLevel());
}

/** Runs `body` with a MessagePack connection started on `transport`, always stopping it afterwards. */
async function withConnection(transport, body, configure = (builder) => builder) {
  const connection = configure(builderFor(transport)).build();
  try {
    await connection.start();
    await body(connection);
  } finally {
    await connection.stop();
  }
}

function collect(stream) {
  return new Promise((resolve, reject) => {
    const items = [];
    stream.subscribe({ next: (item) => items.push(item), error: reject, complete: () => resolve(items) });
  });
}

for (const transport of TRANSPORTS) {
  describe(`MessagePack on ${transport}`, () => {
    test("connects on this transport with the messagepack protocol", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const connections = await mock.control("/control/connections");
        const mine = connections.find((c) => c.connectionId === connection.connectionId);
        assert.equal(mine?.transport, transport);
        const log = await mock.control("/control/log");
        assert.ok(log.some((e) => e.kind === "handshake" && e.connectionId === connection.connectionId), "the hub answered the handshake");
      });
    });

    test("invoke returns the hub's result, maps as objects", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const value = { via: transport, n: [1, -2, 3.5], nested: { ok: true, none: null } };
        assert.deepEqual(await connection.invoke("Echo", value), value);
      });
    });

    test("binary data and timestamps come back as the client sent them", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const bytes = new Uint8Array([0, 1, 2, 250, 255]);
        const echoed = await connection.invoke("Echo", bytes);
        assert.ok(echoed instanceof Uint8Array, `binary arrives as a Uint8Array, not ${Object.prototype.toString.call(echoed)}`);
        assert.deepEqual([...echoed], [...bytes]);
        const when = new Date("2026-03-01T09:30:00.125Z");
        const stamp = await connection.invoke("Echo", when);
        assert.ok(stamp instanceof Date);
        assert.equal(stamp.getTime(), when.getTime());
      });
    });

    test("a group event reaches the member", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        const region = `mp-${transport}`;
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

    test("a hub error reaches the caller", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withConnection(transport, async (connection) => {
        await assert.rejects(connection.invoke("NoSuchMethod"), /NoSuchMethod|not exist|unknown/i);
      });
    });
  });
}

describe("MessagePack on Server-Sent Events", () => {
  test("is refused: the transport carries text only", { timeout: TEST_TIMEOUT_MS }, async () => {
    const connection = builderFor("ServerSentEvents").build();
    await assert.rejects(connection.start(), /does not support Binary|only supports the 'Text' transfer format/);
  });
});

describe("MessagePack stateful reconnect over WebSockets", () => {
  test("a dropped socket is resumed: same connection, every event exactly once", { timeout: TEST_TIMEOUT_MS }, async () => {
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
            if (n === 60) resolve();
          }),
        );
        await connection.invoke("JoinDispatchGroup", "mp-stateful");
        const publish = (n) => mock.control("/control/publish", { target: "Tick", arguments: [n], group: "dispatch:mp-stateful" });
        for (let n = 1; n <= 30; n++) await publish(n);
        await mock.control("POST /control/drop");
        for (let n = 31; n <= 60; n++) await publish(n);
        await all;
        assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i + 1));
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

describe("hubwire with the official package's protocol object", () => {
  test("withHubProtocol(new MessagePackHubProtocol()) from @microsoft/signalr-protocol-msgpack speaks MessagePack", { timeout: TEST_TIMEOUT_MS }, async () => {
    const hubwire = await import("../../pkg/index.js");
    const connection = new hubwire.HubConnectionBuilder()
      .withUrl(new URL("hub", mock.url).href, { transport: hubwire.HttpTransportType.WebSockets })
      .withHubProtocol(new MessagePackHubProtocol())
      .build();
    try {
      await connection.start();
      const echoed = await connection.invoke("Echo", { bytes: new Uint8Array([1, 2, 3]) });
      assert.ok(echoed.bytes instanceof Uint8Array, "binary stays binary: the payload went as MessagePack");
      assert.deepEqual([...echoed.bytes], [1, 2, 3]);
    } finally {
      await connection.stop();
    }
  });
});

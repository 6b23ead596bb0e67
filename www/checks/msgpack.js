// Checks of the MessagePack hub protocol (hubwire/msgpack) on WebSockets and Long Polling:
// invoke, send, group events, streams both ways, client results, binary data and timestamps,
// reconnect; stateful reconnect on WebSockets; Server-Sent Events refused. The page's import map
// resolves `@msgpack/msgpack` to the copy the mock hub serves.

import { HttpTransportType, HubConnectionState, Subject } from "/pkg/index.js";
import { MessagePackHubProtocol } from "/pkg/msgpack.js";
import { check, connect, control, equal, rejection, sleep, until } from "./util.js";

const TRANSPORTS = ["WebSockets", "LongPolling"];

function connectMessagePack(transport, configure = (builder) => builder, options = {}) {
  return connect({ transport: HttpTransportType[transport] }, (builder) =>
    configure(builder.withHubProtocol(new MessagePackHubProtocol(options))),
  );
}

function collect(stream) {
  return new Promise((resolve, reject) => {
    const items = [];
    stream.subscribe({ next: (item) => items.push(item), error: reject, complete: () => resolve(items) });
  });
}

async function* numbers(...values) {
  for (const value of values) yield value;
}

/** Resolves with the frames this page's WebSockets receive until `stop()`: their data kinds. */
function watchReceivedFrames() {
  const kinds = [];
  const original = WebSocket.prototype.send;
  const watched = new WeakSet();
  WebSocket.prototype.send = function send(data) {
    if (!watched.has(this)) {
      watched.add(this);
      this.addEventListener("message", (event) => kinds.push(typeof event.data === "string" ? "text" : "binary"));
    }
    return original.call(this, data);
  };
  return { kinds, stop: () => (WebSocket.prototype.send = original) };
}

async function everyStep(transport) {
  const frames = watchReceivedFrames();
  const connection = connectMessagePack(transport);
  const events = [];
  connection.on("RecommendationReady", (r) => events.push(r.jobId));
  connection.on("GetLocation", async (unit) => ({ unit, lat: 52.37, lon: 4.9 }));
  try {
    await connection.start();
    equal(connection.health().transport, transport, "transport in use");
    const mine = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    equal(mine?.transport, transport, "transport the hub sees");

    const value = { transport, n: [1, -2, 3.5], nested: { ok: true, none: null } };
    equal(await connection.invoke("Echo", value), value, "Echo of a map");

    await connection.send("Echo", "sent");
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [`mp-${transport}`] });
    const job = { jobId: `mp-job-${transport}`, region: "x", contractorId: "c", score: 1, recommendedAt: new Date().toISOString() };
    await control("publish", { target: "RecommendationReady", arguments: [job], group: `dispatch:mp-${transport}` });
    await until(() => events.includes(`mp-job-${transport}`), "the group event");

    equal(await collect(connection.stream("Count", 5)), [0, 1, 2, 3, 4], "server stream");
    const subject = new Subject();
    const total = connection.invoke("UploadSum", subject);
    for (const n of [10, 20, 12]) subject.next(n);
    subject.complete();
    equal(await total, 42, "upload stream (Subject)");
    equal(await connection.invoke("UploadSum", numbers(1, 2, 3)), 6, "upload stream (async iterable)");

    const answer = await control("invoke-client", { connectionId: connection.connectionId, target: "GetLocation", arguments: ["truck-7"] });
    equal(answer.result, { unit: "truck-7", lat: 52.37, lon: 4.9 }, "client result");

    const bytes = await connection.invoke("Echo", new Uint8Array([0, 7, 255]));
    check(bytes instanceof Uint8Array, `binary comes back as a Uint8Array, not ${Object.prototype.toString.call(bytes)}`);
    equal([...bytes], [0, 7, 255], "binary content");
    const when = new Date("2026-03-01T09:30:00.125Z");
    const stamp = await connection.invoke("Echo", when);
    check(stamp instanceof Date && stamp.getTime() === when.getTime(), `a timestamp comes back as the same Date, got ${stamp}`);

    if (transport === "WebSockets") {
      check(frames.kinds.length > 0 && frames.kinds.every((k) => k === "binary"), `every frame received is binary: ${frames.kinds}`);
    }
  } finally {
    frames.stop();
    await connection.stop();
  }
}

export const checks = Object.fromEntries(
  TRANSPORTS.map((t) => [`MessagePack on ${t}: invoke, send, group event, streams both ways, client result, binary and timestamps`, () => everyStep(t)]),
);

Object.assign(checks, {
  async "MessagePack options reach the encoder: forceFloat32 sends 32-bit floats"() {
    const connection = connectMessagePack("WebSockets", (b) => b, { forceFloat32: true });
    await connection.start();
    try {
      equal(await connection.invoke("Echo", 0.1), Math.fround(0.1), "0.1 as a float32 comes back as its float32 value");
    } finally {
      await connection.stop();
    }
  },

  async "MessagePack on Server-Sent Events is refused with the transport's error"() {
    const connection = connectMessagePack("ServerSentEvents");
    const error = await rejection(connection.start());
    check(
      error.message.includes("The Server-Sent Events transport only supports the 'Text' transfer format"),
      `error: ${error.message}`,
    );
    equal(connection.state, HubConnectionState.Disconnected, "state");
  },

  ...Object.fromEntries(
    TRANSPORTS.map((transport) => [
      `MessagePack on ${transport}: a dropped connection reconnects and its groups get events again`,
      async () => {
        const connection = connectMessagePack(transport, (b) => b.withAutomaticReconnect([0, 100, 200]));
        const received = [];
        connection.on("JobAssigned", (job) => received.push(job.jobId));
        let reconnected = false;
        connection.onreconnected(() => (reconnected = true));
        await connection.start();
        try {
          const first = connection.connectionId;
          await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [`mp-r-${transport}`] });
          await control("drop", {});
          await until(() => reconnected && connection.state === HubConnectionState.Connected, "reconnected");
          check(connection.connectionId !== first, "a new connection id");
          await until(async () => {
            await control("publish", {
              target: "JobAssigned",
              arguments: [{ jobId: "after-drop", region: "r", contractorId: "c", assignedAt: new Date().toISOString() }],
              group: `dispatch:mp-r-${transport}`,
            });
            await sleep(50);
            return received.includes("after-drop");
          }, "the event after the reconnect");
          equal(await connection.invoke("Echo", { after: "reconnect" }), { after: "reconnect" }, "invoke after the reconnect");
        } finally {
          await connection.stop();
        }
      },
    ]),
  ),

  async "MessagePack stateful reconnect absorbs a socket drop: 300 numbered messages arrive once, in order"() {
    const connection = connectMessagePack("WebSockets", (b) =>
      b.withStatefulReconnect().withAutomaticReconnect({ delays: [0, 100], stableConnectionThresholdInMilliseconds: 50 }),
    );
    const seen = [];
    const lifecycle = [];
    connection.on("Number", (n) => seen.push(n));
    connection.onreconnecting(() => lifecycle.push("reconnecting"));
    connection.onclose(() => lifecycle.push("closed"));
    await connection.start();
    try {
      const id = connection.connectionId;
      await sleep(100);
      await until(
        async () => (await control("connections")).every((c) => c.connectionId === id || !c.attached),
        "earlier checks' connections to be gone",
      );
      let dropped;
      for (let n = 1; n <= 300; n++) {
        await control("publish", { target: "Number", arguments: [n] });
        if (n === 120) dropped = await control("drop", {});
      }
      equal(dropped, { dropped: 1 }, "the hub's answer to the drop");
      await until(() => seen.length >= 300, `all numbers (have ${seen.length})`, 15000);
      check(seen.length === 300 && seen.every((n, i) => n === i + 1), "in order, each once");
      equal(lifecycle, [], "no reconnecting or close event");
      equal(connection.connectionId, id, "same connection id");
      equal(await connection.invoke("Echo", "still here"), "still here", "invoke after the resume");
    } finally {
      await connection.stop();
    }
  },
});

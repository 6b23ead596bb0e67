// Checks of the whole protocol on each transport: invoke, group events, streams both ways,
// client results; and fallback, redirect, token refresh and stateful reconnect.

import { HttpTransportType, HubConnectionState, Subject } from "/pkg/index.js";
import { check, connect, control, equal, rejection, sleep, until } from "./util.js";

const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];

/** Collects a server stream's items; resolves at its end. */
function collect(stream) {
  return new Promise((resolve, reject) => {
    const items = [];
    stream.subscribe({ next: (item) => items.push(item), error: reject, complete: () => resolve(items) });
  });
}

async function* numbers(...values) {
  for (const value of values) yield value;
}

async function everyStep(transport) {
  const connection = connect({ transport: HttpTransportType[transport] });
  const events = [];
  connection.on("RecommendationReady", (r) => events.push(r.jobId));
  connection.on("GetLocation", async (unit) => ({ unit, lat: 52.37, lon: 4.9 }));
  await connection.start();
  equal(connection.health().transport, transport, "transport in use");
  const mine = () => control("connections").then((all) => all.find((c) => c.connectionId === connection.connectionId));
  equal((await mine()).transport, transport, "transport the hub sees");

  equal(await connection.invoke("Echo", { transport, n: [1, 2] }), { transport, n: [1, 2] }, "Echo");

  await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [`t-${transport}`] });
  const job = { jobId: `job-${transport}`, region: "x", contractorId: "c", score: 1, recommendedAt: new Date().toISOString() };
  await control("publish", { target: "RecommendationReady", arguments: [job], group: `dispatch:t-${transport}` });
  await until(() => events.includes(`job-${transport}`), "the group event");

  equal(await collect(connection.stream("Count", 5)), [0, 1, 2, 3, 4], "server stream");

  const subject = new Subject();
  const total = connection.invoke("UploadSum", subject);
  for (const n of [10, 20, 12]) subject.next(n);
  subject.complete();
  equal(await total, 42, "upload stream (Subject)");
  equal(await connection.invoke("UploadSum", numbers(1, 2, 3)), 6, "upload stream (async iterable)");

  const answer = await control("invoke-client", { connectionId: connection.connectionId, target: "GetLocation", arguments: ["truck-7"] });
  equal(answer.result, { unit: "truck-7", lat: 52.37, lon: 4.9 }, "client result");

  await connection.stop();
}

/** Each check: a name and an async function that throws on failure. */
export const checks = Object.fromEntries(TRANSPORTS.map((t) => [`${t}: invoke, group event, streams both ways, client result`, () => everyStep(t)]));

Object.assign(checks, {
  async "a client method that throws sends the error back as the result"() {
    const connection = connect();
    connection.on("GetLocation", () => {
      throw new Error("gps off");
    });
    await connection.start();
    const answer = await control("invoke-client", { connectionId: connection.connectionId, target: "GetLocation", arguments: [] });
    check(String(answer.error).includes("gps off"), `answer: ${JSON.stringify(answer)}`);
    const none = await control("invoke-client", { connectionId: connection.connectionId, target: "NoSuchClientMethod", arguments: [] });
    check(String(none.error).includes("Client didn't provide a result."), `answer: ${JSON.stringify(none)}`);
    await connection.stop();
  },

  async "disposing a server stream stops its items and keeps the connection"() {
    // The WebSocket's frames both ways are watched, so the check sees the hub being told to stop
    // (a CancelInvocation for the stream) and obeying (its items stop on the wire, and it ends
    // the stream with a Completion), not only the client dropping items it still receives.
    const wire = watchWebSocketFrames();
    try {
      const connection = connect({ transport: HttpTransportType.WebSockets });
      await connection.start();
      const items = [];
      const subscription = connection.stream("Count", 1000, 20).subscribe({ next: (n) => items.push(n), error: () => {}, complete: () => {} });
      await until(() => items.length >= 2, "the first items");
      const started = (await control("log")).find((e) => e.kind === "streamInvocation" && e.connectionId === connection.connectionId);
      check(started, "the hub logged the StreamInvocation");
      const id = started.invocationId;
      subscription.dispose();
      const seen = items.length;
      await until(() => wire.sent.some((m) => m.type === 5 && m.invocationId === id), "a CancelInvocation for the stream on the wire");
      // Items the hub sent before it read the cancel may still arrive (more of them on a busy
      // machine); after a grace for those, nothing more may come. The hub sends an item every
      // 20 ms: the 300 ms after the grace would bring about 15 if it kept going.
      await sleep(200);
      const graceEnd = wire.received.length;
      await sleep(300);
      check(items.length <= seen + 1, `items kept coming after dispose: ${seen} → ${items.length}`);
      const after = wire.received.slice(graceEnd).filter((m) => m.invocationId === id);
      check(after.filter((m) => m.type === 2).length === 0, `the hub kept sending items after the cancel: ${JSON.stringify(after)}`);
      const everything = wire.received.filter((m) => m.invocationId === id);
      check(everything.some((m) => m.type === 3), `the hub ended the stream with a Completion: ${JSON.stringify(everything.slice(-3))}`);
      equal(await connection.invoke("Echo", "still fine"), "still fine", "the connection after dispose");
      await connection.stop();
    } finally {
      wire.restore();
    }
  },

  async "falls back to Server-Sent Events when WebSockets are refused"() {
    await control("faults", { refuseTransports: ["WebSockets"] });
    const connection = connect();
    await connection.start();
    equal(connection.health().transport, "ServerSentEvents", "transport");
    equal(await connection.invoke("Echo", "via sse"), "via sse", "Echo");
    await connection.stop();
  },

  async "falls back to Long Polling when WebSockets and Server-Sent Events are refused"() {
    await control("faults", { refuseTransports: ["WebSockets", "ServerSentEvents"] });
    const connection = connect();
    await connection.start();
    equal(connection.health().transport, "LongPolling", "transport");
    equal(await connection.invoke("Echo", "via polling"), "via polling", "Echo");
    await connection.stop();
  },

  async "a transport the hub refuses after negotiate makes the client try the next one"() {
    // Forced failure of the first transport: every connect is refused once.
    await control("faults", { refuseConnects: 1 });
    const telemetry = [];
    const connection = connect({}, (b) => b.withTelemetry((record) => telemetry.push(record)));
    await connection.start();
    equal(connection.health().transport, "ServerSentEvents", "the second transport");
    const fallback = telemetry.find((r) => r.type === "transportFallback");
    equal(fallback?.from, "WebSockets", "the fallback telemetry record");
    await connection.stop();
  },

  async "negotiate redirect leads to a second hub with its token"() {
    await control("redirect", { enabled: true, accessToken: "redirect-token-1" });
    const connection = connect();
    await connection.start();
    const mine = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    equal(mine.accessToken, "redirect-token-1", "the redirect's token");
    equal(await connection.invoke("Echo", 7), 7, "Echo through the redirect");
    await connection.stop();
  },

  async "an expired token gets a 401 and a refreshed token is used"() {
    let calls = 0;
    await control("auth", { token: "first-token" });
    const connection = connect({
      transport: HttpTransportType.LongPolling,
      accessTokenFactory: async () => {
        calls += 1;
        return (await control("auth")).token;
      },
    });
    await connection.start();
    const before = calls;
    await control("auth", { rotate: true });
    equal(await connection.invoke("Echo", "after rotation"), "after rotation", "Echo after the token changed");
    check(calls > before, `the factory was asked again (${before} → ${calls})`);
    equal(connection.state, HubConnectionState.Connected, "still connected");
    await connection.stop();
  },

  async "without a token the authenticated hub refuses the start"() {
    await control("auth", { token: "needed" });
    const connection = connect();
    const error = await rejection(connection.start());
    check(error.message.includes("401"), `error: ${error.message}`);
  },

  async "stateful reconnect absorbs a socket drop: 1000 numbered messages arrive once, in order"() {
    // A socket lost before it is stableConnectionThresholdInMilliseconds old is not resumed
    // (a server that accepts and drops at once must not get a resume per round trip), so the
    // threshold is short here and the drop comes after it.
    const connection = connect({ transport: HttpTransportType.WebSockets }, (b) =>
      b.withStatefulReconnect().withAutomaticReconnect({ delays: [0, 100], stableConnectionThresholdInMilliseconds: 50 }),
    );
    const numbers = [];
    const lifecycle = [];
    connection.on("Number", (n) => numbers.push(n));
    connection.onreconnecting(() => lifecycle.push("reconnecting"));
    connection.onclose(() => lifecycle.push("closed"));
    await connection.start();
    const id = connection.connectionId;
    await sleep(100);
    await control("log", undefined, "DELETE");
    let dropped;
    // An earlier check's connection may still be closing (slowly, in a busy engine): the drop
    // below must cut this check's socket alone.
    await until(
      async () => (await control("connections")).every((c) => c.connectionId === id || !c.attached),
      "earlier checks' connections to be gone",
    );
    for (let n = 1; n <= 1000; n++) {
      await control("publish", { target: "Number", arguments: [n] });
      if (n === 400) dropped = await control("drop", {});
    }
    // The drop cut this check's socket, the only one open: otherwise nothing was absorbed.
    equal(dropped, { dropped: 1 }, "the hub's answer to the drop");
    await until(() => numbers.length >= 1000, `all numbers (have ${numbers.length})`, 15000);
    equal(numbers.length, 1000, "count");
    check(numbers.every((n, i) => n === i + 1), "in order, each once");
    equal(lifecycle, [], "no reconnecting or close event");
    equal(connection.connectionId, id, "same connection id");
    const log = (await control("log")).filter((e) => e.connectionId === id && ["transportLost", "resumed", "disconnect", "connect"].includes(e.kind));
    equal(log.map((e) => e.kind), ["transportLost", "resumed"], "what the hub saw of the connection: its socket lost, then resumed by a new one");
    await connection.stop();
  },

  async "records of one frame arrive intact, ASCII or not, on WebSockets and Server-Sent Events"() {
    for (const transport of ["WebSockets", "ServerSentEvents"]) await mixedFrames(transport);
  },
});

/**
 * The client parses the payloads of an all-ASCII text frame from slices of the frame's own JS
 * string (byte offsets are UTF-16 offsets only there) and any other frame from its text. Frames
 * of several records, with and without non-ASCII text, are handed to the client's message
 * handler after the handshake (through the app's WebSocket or EventSource class): every
 * payload must arrive intact, from its own frame, and only the ASCII frames may be sliced.
 */
async function mixedFrames(transport) {
  const record = (args) => `${JSON.stringify({ type: 1, target: "Mixed", arguments: args })}\x1e`;
  const frames = [
    // All ASCII: a \u escape is ASCII on the wire.
    { records: [["a", { n: 1 }], ["b"]], extra: '{"type":1,"target":"Mixed","arguments":["\\u00e9 escaped"]}\x1e', ascii: true },
    { records: [["c"], ["\u00e9 \u2603 \u{1f600}"], ["d", 2]], ascii: false },
    { records: [["e"], [[1, 2, 3], { deep: { er: "x" } }]], ascii: true },
    { records: [["\u00fc"], ["f"]], ascii: false },
  ];
  const expected = frames.flatMap((frame) => [...frame.records, ...(frame.extra ? [["\u00e9 escaped"]] : [])]);
  let deliver = null;
  const intercept = (Base) =>
    class extends Base {
      set onmessage(handler) {
        super.onmessage = handler;
        deliver = handler && ((data) => handler.call(this, new MessageEvent("message", { data })));
      }
      get onmessage() {
        return super.onmessage;
      }
    };
  const options =
    transport === "WebSockets"
      ? { transport: HttpTransportType.WebSockets, WebSocket: intercept(WebSocket) }
      : { transport: HttpTransportType.ServerSentEvents, EventSource: intercept(EventSource) };
  const connection = connect(options);
  const got = [];
  connection.on("Mixed", (...args) => got.push(args));
  await connection.start();
  check(deliver, `${transport}: the client's message handler`);
  const original = String.prototype.substring;
  try {
    for (const frame of frames) {
      const text = frame.records.map(record).join("") + (frame.extra ?? "");
      let slices = 0;
      String.prototype.substring = function substring(...args) {
        if (this === text) slices += 1;
        return original.apply(this, args);
      };
      deliver(text);
      String.prototype.substring = original;
      const count = frame.records.length + (frame.extra ? 1 : 0);
      equal(slices, frame.ascii ? count : 0, `${transport}: payloads sliced from ${JSON.stringify(text)}`);
    }
  } finally {
    String.prototype.substring = original;
  }
  equal(got, expected, `${transport}: the handler's arguments, in order`);
  equal(await connection.invoke("Echo", "after"), "after", `${transport}: the connection still works`);
  await connection.stop();
}

/**
 * Watches the hub frames every WebSocket of the page sends and receives (JSON text, 0x1E
 * separated), until restore(). `sent` and `received` hold the parsed messages in order.
 */
function watchWebSocketFrames() {
  const sent = [];
  const received = [];
  const watched = new WeakSet();
  const decode = (data) => (typeof data === "string" ? data : new TextDecoder().decode(data instanceof ArrayBuffer ? data : data.buffer ?? data));
  const parse = (data, into) => {
    for (const part of decode(data).split("\x1e")) {
      if (!part) continue;
      try {
        into.push(JSON.parse(part));
      } catch {
        // not a JSON hub frame (the stats socket, say)
      }
    }
  };
  const original = WebSocket.prototype.send;
  WebSocket.prototype.send = function send(data) {
    if (!watched.has(this)) {
      watched.add(this);
      this.addEventListener("message", (event) => parse(event.data, received));
    }
    parse(data, sent);
    return original.call(this, data);
  };
  return { sent, received, restore: () => (WebSocket.prototype.send = original) };
}

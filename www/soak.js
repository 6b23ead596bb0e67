// The soak: numbered messages both ways across random socket drops, against the mock hub.
//
// Server to client: one `Count` stream of N items (0 .. N-1). Client to server: N `SendMessage`
// sends of "1" .. "N" into a chat workflow the client joined, which the hub sends back to the
// group as `ReceiveMessage`, so their arrival proves the hub got them, in order. While both run,
// the hub drops the socket at random moments (a seeded generator picks how many messages pass
// between drops). With stateful reconnect every message must arrive exactly once and in order;
// without it, what was lost is counted (the protocol promises nothing across a new connection).
//
// `window.hubwireSoak({ messages, drops, stateful, seed })` resolves to the counts.

import { HttpTransportType, HubConnectionBuilder, LogLevel, Subject } from "/pkg/index.js";

async function control(path, body) {
  const response = await fetch(`/control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status}`);
  return response.json();
}

/** How long without a new echo counts as "no more are coming". */
const STALL_MS = 3000;

/** How long after the hub has the connection back the next drop may come. */
const DROP_SPACING_MS = 100;

/** Resolves when the client is Connected and the hub carries its (current) connection (or after 5 s). */
async function reattached(connection) {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const connections = await control("connections");
    const id = connection.connectionId;
    if (connection.state === "Connected" && connections.some((c) => c.connectionId === id && c.attached)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A small seeded generator (xorshift32), so a failing run can be repeated. */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** Counts a numbered sequence: how many arrived, how many twice, how many out of order. */
function tally(received, expected) {
  const seen = new Set();
  let duplicates = 0;
  let outOfOrder = 0;
  let previous = -Infinity;
  for (const n of received) {
    if (seen.has(n)) duplicates++;
    else seen.add(n);
    if (n < previous) outOfOrder++;
    previous = n;
  }
  let missing = 0;
  for (const n of expected) if (!seen.has(n)) missing++;
  return { expected: expected.length, received: received.length, distinct: seen.size, duplicates, outOfOrder, missing };
}

async function soak({ messages = 100_000, drops = 20, stateful = true, seed = 7, timeoutMs = 120_000 } = {}) {
  const started = performance.now();
  await control("faults", undefined).catch(() => {});
  const builder = new HubConnectionBuilder()
    .withUrl("/hub", { transport: HttpTransportType.WebSockets })
    .configureLogging(globalThis.SOAK_LOG_LEVEL ?? LogLevel.Error)
    // Reconnects are part of the run without stateful reconnect; the threshold is short so a
    // drop soon after a (re)connect is still resumed with it.
    .withAutomaticReconnect({ delays: [0, 50, 100], keepTrying: true, stableConnectionThresholdInMilliseconds: 50 });
  const connection = (stateful ? builder.withStatefulReconnect({ bufferSize: 1_000_000 }) : builder).build();
  const echoed = [];
  connection.on("ReceiveMessage", (message) => echoed.push(Number(message.text)));
  let reconnects = 0;
  const reconnectReasons = [];
  connection.onreconnecting((error) => {
    reconnects++;
    reconnectReasons.push(String(error?.message ?? error));
  });
  await connection.start();
  await connection.joinGroup({ join: "JoinWorkflow", leave: "LeaveWorkflow", args: ["soak"] });
  await new Promise((resolve) => setTimeout(resolve, 100));

  // Server to client.
  const streamed = [];
  let streamError = null;
  const streamDone = new Promise((resolve) => {
    connection.stream("Count", messages).subscribe({
      next: (n) => streamed.push(n),
      error: (error) => {
        streamError = String(error?.message ?? error);
        resolve();
      },
      complete: resolve,
    });
  });

  // Client to server, with drops at random points along the way.
  const next = random(seed);
  const dropAt = new Set();
  while (dropAt.size < drops) dropAt.add(1 + Math.floor(next() * (messages - 1)));
  let sendFailures = 0;
  let dropsMade = 0;
  const sends = [];
  for (let n = 1; n <= messages; n++) {
    sends.push(connection.send("SendMessage", String(n)).catch(() => sendFailures++));
    if (dropAt.has(n)) {
      dropsMade++;
      await control("drop", {});
      // One loss at a time: a socket lost again before its replacement has been heard from
      // is not resumed (the attempt budget's rule against servers that accept and drop), so
      // the next drop waits until the hub carries the connection again, then a little more.
      // Sends go on meanwhile: the loop continues once the wait is over.
      await reattached(connection);
      await new Promise((resolve) => setTimeout(resolve, DROP_SPACING_MS));
    }
    // Yield now and then so the socket's events and the drops interleave with the sends.
    if (n % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(sends);
  const deadline = performance.now() + timeoutMs;
  await Promise.race([streamDone, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())))]);
  // The echoes trail the sends (the hub holds them back while its replay buffer is full);
  // wait until all are in, or none came for STALL_MS.
  let last = -1;
  let lastChange = performance.now();
  while (performance.now() < deadline && echoed.length < messages) {
    if (echoed.length !== last) {
      last = echoed.length;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = {
    stateful,
    messages,
    seed,
    drops: dropsMade,
    reconnects,
    reconnectReasons,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    serverToClient: { ...tally(streamed, [...Array(messages).keys()]), streamError },
    clientToServer: { ...tally(echoed, Array.from({ length: messages }, (_, i) => i + 1)), sendFailures },
  };
  await connection.stop();
  return result;
}

window.hubwireSoak = soak;
document.getElementById("out").textContent = "ready";

// The official @microsoft/signalr client against the mock hub's hostile-server faults
// (`/control/faults`: `hostile`, `refuseAllConnects`, `closeResumes`): proof that each fault is
// observable by an independent client on each transport, and a record of how many attempts the
// official client makes against the flapping faults (a differential baseline for hubwire).
//
// Run: node --test tests/js/official-hostile.test.mjs
// Client logs: HUBWIRE_SIGNALR_LOG=Debug node --test tests/js/official-hostile.test.mjs
//
// What the official client (10.0.x) does, as these tests assert it:
// - closeBeforeHandshake, handshakeError: start() rejects, on every transport.
// - neverAnswerHandshake, oneFrameThenSilent: over WebSockets and Server-Sent Events the client's
//   server timeout fires (start() rejects, or onclose after start). Over Long Polling it never
//   does: that transport has "inherent keep-alive", so the client runs no server timeout, and it
//   has no handshake timeout of its own, so start() stays pending until stop().
// - closeAfterHandshake, closeWithReconnectAfterHandshake: over WebSockets and Server-Sent Events
//   the close lands while start() (or a reconnect's start) is still finishing, so that attempt
//   fails and the retry policy advances: with withAutomaticReconnect() (0, 2, 10, 30 s) a dropped
//   connection makes 2 attempts in 3 s (up to 4 seen, when a close loses that race and the
//   reconnect counts as a success, which resets the policy). Over Long Polling start() completes first (the close
//   comes in a later poll), the reconnect counts as a success and resets the policy, and the
//   client storms: measured 240 to 290 attempts in 3 s on a 2-core machine.
// - refuseAllConnects: start() tries each transport once (a negotiate for each) and rejects.
// - closeResumes: a stateful client resumes again at once (no delay, outside its retry policy)
//   each time a resumed socket opens and then closes, until a close beats the open event; then
//   it closes (or, withAutomaticReconnect, connects afresh). 1 to over 100 resumes seen.

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { startMock } from "./support/mock.mjs";

const TEST_TIMEOUT_MS = 30_000;
// Short client timers, and a hub that pings more often than the client's server timeout, so
// only a silent hub trips it.
const SERVER_TIMEOUT_MS = 800;
const KEEP_ALIVE_MS = 250;
const HUB_KEEP_ALIVE_MS = "200";
// The window in which reconnect attempts are counted.
const STORM_WINDOW_MS = 3_000;

const INJECTED_HANDSHAKE_ERROR = "The server refused the handshake (injected fault).";
const INJECTED_CLOSE_ERROR = "Server closed the connection (injected fault).";

const TRANSPORTS = [
  ["WebSockets", signalR.HttpTransportType.WebSockets],
  ["ServerSentEvents", signalR.HttpTransportType.ServerSentEvents],
  ["LongPolling", signalR.HttpTransportType.LongPolling],
];

let mock;

before(async () => {
  mock = await startMock(["--keep-alive-ms", HUB_KEEP_ALIVE_MS]);
});

after(async () => {
  await mock?.stop();
  // Under these faults the official client can leave a socket or timer behind even after
  // stop() (a full run once stayed alive for minutes), which would keep this process from
  // exiting. Every result is reported by now; exit shortly if something is still holding on.
  setTimeout(() => process.exit(), 1_000).unref();
});

beforeEach(async () => {
  await mock.control("DELETE /control/faults");
  await mock.control("DELETE /control/log");
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function connectTo(transport, { reconnect = false, stateful = false } = {}) {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("hub", mock.url).href, { transport })
    .withServerTimeout(SERVER_TIMEOUT_MS)
    .withKeepAliveInterval(KEEP_ALIVE_MS)
    .configureLogging(signalR.LogLevel[process.env.HUBWIRE_SIGNALR_LOG ?? "None"]);
  if (reconnect) builder = builder.withAutomaticReconnect();
  if (stateful) builder = builder.withStatefulReconnect();
  return builder.build();
}

/** Stops a connection without letting a wedged client hang the test. */
async function stopQuietly(connection) {
  await Promise.race([connection.stop().catch(() => {}), sleep(3_000)]);
}

/** The attempts the hub logged, by kind (see the README's log entries). */
async function attempts() {
  const log = await mock.control("/control/log");
  const count = (predicate) => log.filter(predicate).length;
  return {
    log,
    negotiates: count((entry) => entry.kind === "negotiate"),
    transports: count((entry) => entry.kind === "transportOpened" && !entry.resume),
    resumes: count((entry) => entry.kind === "transportOpened" && entry.resume),
    handshakes: count((entry) => entry.kind === "handshake"),
    refusedConnects: count((entry) => entry.kind === "refused" && entry.request === "connect"),
    connects: count((entry) => entry.kind === "connect"),
  };
}

/**
 * Runs `body` while tolerating one race of the official client's own: on Server-Sent Events
 * its handshake request is a POST, and the hub's handshake error can arrive over the event
 * stream before that POST has resolved, so the client rejects its internal handshake promise
 * before it awaits it. Node reports that as an unhandled rejection (later handled: start()
 * does reject with it), which node:test counts as a failure of the test running. Only that
 * rejection is let through, and only when it is handled before `body` ends; any other
 * unhandled rejection still fails the test.
 */
async function withOfficialHandshakeRace(body) {
  const runnerListeners = process.listeners("unhandledRejection");
  const pending = new Set();
  const unexpected = [];
  const onUnhandled = (reason, promise) => {
    const official = String(reason?.stack ?? "").includes("_processHandshakeResponse") && String(reason?.message).startsWith("Server returned handshake error");
    if (official) pending.add(promise);
    else unexpected.push(reason);
  };
  const onHandled = (promise) => pending.delete(promise);
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", onUnhandled);
  process.on("rejectionHandled", onHandled);
  try {
    await body();
    // rejectionHandled is emitted on a later turn than the handler's attachment.
    await sleep(50);
  } finally {
    process.removeListener("unhandledRejection", onUnhandled);
    process.removeListener("rejectionHandled", onHandled);
    for (const listener of runnerListeners) process.on("unhandledRejection", listener);
  }
  assert.deepEqual(unexpected, [], "no other unhandled rejection");
  assert.equal(pending.size, 0, "the official client's early handshake rejection was handled by start()");
}

/** Resolves with the first error the promise rejects with, or "pending" after `ms`. */
function settleWithin(promise, ms) {
  return Promise.race([
    promise.then(
      () => "resolved",
      (error) => error ?? new Error("rejected without an error"),
    ),
    sleep(ms).then(() => "pending"),
  ]);
}

for (const [name, transport] of TRANSPORTS) {
  test(`${name}: closeBeforeHandshake rejects start(), one attempt of each kind logged`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await mock.control("/control/faults", { hostile: "closeBeforeHandshake" });
    const connection = connectTo(transport);
    await assert.rejects(connection.start(), /closed before the hub handshake could complete/);
    const seen = await attempts();
    assert.deepEqual(
      [seen.negotiates, seen.transports, seen.handshakes, seen.connects],
      [1, 1, 1, 0],
    );
    assert.equal(seen.log.find((entry) => entry.kind === "handshake").answer, "none");
  });

  test(`${name}: handshakeError rejects start() with the hub's error`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await mock.control("/control/faults", { hostile: "handshakeError" });
    const connection = connectTo(transport);
    await withOfficialHandshakeRace(() =>
      assert.rejects(connection.start(), {
        message: `Server returned handshake error: ${INJECTED_HANDSHAKE_ERROR}`,
      }),
    );
    const seen = await attempts();
    assert.equal(seen.log.find((entry) => entry.kind === "handshake").answer, "error");
    assert.equal(seen.connects, 0);
  });

  test(`${name}: neverAnswerHandshake is caught by the server timeout, except on Long Polling`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await mock.control("/control/faults", { hostile: "neverAnswerHandshake" });
    const connection = connectTo(transport);
    const started = connection.start();
    const outcome = await settleWithin(started, SERVER_TIMEOUT_MS * 3);
    if (name === "LongPolling") {
      // No server timeout on Long Polling and no handshake timeout: start() waits for ever.
      assert.equal(outcome, "pending");
      await stopQuietly(connection);
      await assert.rejects(started, /stopped before the hub handshake could complete/);
    } else {
      assert.match(String(outcome?.message), /Server timeout elapsed without receiving a message from the server/);
    }
    assert.equal((await attempts()).log.find((entry) => entry.kind === "handshake").answer, "none");
  });

  test(`${name}: oneFrameThenSilent trips the server timeout after start(), except on Long Polling`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await mock.control("/control/faults", { hostile: "oneFrameThenSilent" });
    const connection = connectTo(transport);
    const closed = new Promise((resolve) => connection.onclose(resolve));
    await connection.start();
    try {
      const outcome = await Promise.race([closed, sleep(SERVER_TIMEOUT_MS * 3).then(() => "still open")]);
      if (name === "LongPolling") {
        assert.equal(outcome, "still open");
        assert.equal(connection.state, signalR.HubConnectionState.Connected);
      } else {
        assert.match(String(outcome?.message), /Server timeout elapsed without receiving a message from the server/);
      }
    } finally {
      await stopQuietly(connection);
    }
  });

  for (const mode of ["closeAfterHandshake", "closeWithReconnectAfterHandshake"]) {
    test(`${name}: ${mode} is seen as a close right after the handshake`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await mock.control("/control/faults", { hostile: mode });
      const connection = connectTo(transport, { reconnect: true });
      const reconnecting = new Promise((resolve) => connection.onreconnecting(resolve));
      try {
        const outcome = await settleWithin(connection.start(), 2_000);
        if (name === "LongPolling") {
          // The close comes in a later poll, after start() completed: a reconnect begins.
          assert.equal(outcome, "resolved");
          const error = await reconnecting;
          if (mode === "closeWithReconnectAfterHandshake") {
            assert.equal(error.message, `Server returned an error on close: ${INJECTED_CLOSE_ERROR}`);
          }
        } else if (outcome === "resolved") {
          // Now and then the close loses the race to start(): then a reconnect begins.
          await reconnecting;
        } else {
          // Usually the close lands before start() has finished, which fails start() itself.
          assert.notEqual(outcome, "pending");
        }
        const seen = await attempts();
        const first = seen.log.find((entry) => entry.kind === "handshake");
        assert.equal(first.answer, "accepted");
        const ended = seen.log.find((entry) => entry.kind === "disconnect" && entry.connectionId === first.connectionId);
        assert.equal(ended?.reason, "closed by fault");
      } finally {
        await stopQuietly(connection);
      }
    });

    test(`${name}: ${mode} with withAutomaticReconnect(): attempts in ${STORM_WINDOW_MS} ms after a drop`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const connection = connectTo(transport, { reconnect: true });
      await connection.start();
      try {
        await mock.control("DELETE /control/log");
        await mock.control("/control/faults", { hostile: mode });
        await mock.control("POST /control/drop");
        await sleep(STORM_WINDOW_MS);
        const seen = await attempts();
        t.diagnostic(
          `official client, ${name}, ${mode}: ${seen.negotiates} negotiates, ${seen.transports} transports, ` +
            `${seen.handshakes} handshakes in ${STORM_WINDOW_MS} ms`,
        );
        // Every attempt is a full one: negotiate, transport, handshake (the last one may still be
        // on its way when the window ends).
        assert.ok(seen.transports >= seen.negotiates - 1 && seen.handshakes >= seen.negotiates - 1);
        if (name === "LongPolling") {
          assert.ok(seen.negotiates > 5, `the official client storms: ${seen.negotiates} attempts`);
        } else {
          // At least the retry policy's 0 s and 2 s attempts. How many more depends on a race
          // in the official client: when the Close lands after its reconnect counted as a
          // success, the schedule starts again and it storms (seen from 3 to 10 attempts here,
          // more under load), so only the floor is asserted; the count is in the diagnostic.
          assert.ok(seen.negotiates >= 2, `${seen.negotiates} attempts`);
        }
      } finally {
        await mock.control("DELETE /control/faults");
        await stopQuietly(connection);
      }
    });
  }
}

test("refuseAllConnects: start() tries every transport once, then rejects", { timeout: TEST_TIMEOUT_MS }, async () => {
  await mock.control("/control/faults", { refuseAllConnects: true });
  const connection = connectTo(
    signalR.HttpTransportType.WebSockets | signalR.HttpTransportType.ServerSentEvents | signalR.HttpTransportType.LongPolling,
  );
  await assert.rejects(connection.start(), /Unable to connect to the server with any of the available transports/);
  const seen = await attempts();
  assert.equal(seen.negotiates, 3);
  assert.equal(seen.transports, 0);
  assert.deepEqual(
    seen.log.filter((entry) => entry.kind === "refused").map((entry) => [entry.transport, entry.status]),
    [["WebSockets", 503], ["ServerSentEvents", 503], ["LongPolling", 503]],
  );
});

test("closeResumes: a stateful client retries the resume at once until one fails to open, then closes", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Without withAutomaticReconnect, so no fresh connection overlaps a late resume attempt (in one
  // run with it, the official client then raised an unhandled "Error parsing handshake response").
  const connection = connectTo(signalR.HttpTransportType.WebSockets, { stateful: true });
  await connection.start();
  try {
    const oldId = connection.connectionId;
    const closed = new Promise((resolve) => connection.onclose(resolve));
    await mock.control("DELETE /control/log");
    await mock.control("/control/faults", { closeResumes: true });
    await mock.control("POST /control/drop");
    await closed;
    const seen = await attempts();
    const resumes = seen.log.filter((entry) => entry.kind === "transportOpened" && entry.resume);
    // The official client resumes again, with no delay and outside any retry policy, whenever a
    // resumed socket opens and then closes; it gives up only when a close beats the open event.
    // So the count is a race: from 1 to over 100 were seen.
    t.diagnostic(`official client: ${resumes.length} resume attempts before it closed`);
    assert.ok(resumes.length >= 1);
    assert.ok(resumes.every((entry) => entry.connectionId === oldId));
    assert.ok(!seen.log.some((entry) => entry.kind === "resumed"));
    assert.equal(seen.negotiates, 0, "no fresh connection without withAutomaticReconnect");
  } finally {
    await stopQuietly(connection);
  }
});

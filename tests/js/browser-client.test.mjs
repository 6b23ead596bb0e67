// The hubwire client in every browser engine against the mock hub: runs www/harness.html (the
// browser harness) in each engine of ENGINES (tests/js/support/engines.mjs; HUBWIRE_ENGINES
// narrows it) and reports each of its checks as one test here, named with the engine.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ENGINES, keepScreenshot, launch, unexpectedEvents } from "./support/engines.mjs";
import { startMock } from "./support/mock.mjs";
import { harnessResults, reportChecks } from "./support/harness-page.mjs";

const EXPECTED_CHECKS = [
  "start connects and reports a connection id",
  "invoke Echo returns a string",
  "invoke Echo returns an object",
  "a joined dispatch group receives RecommendationReady and no other region's",
  "a server error rejects invoke with the server's message",
  "an unknown hub method rejects invoke",
  "send delivers a chat message to the workflow group",
  "off removes a handler",
  "invoke before start rejects with a clear error",
  "stop disconnects and calls onclose without an error",
  "accessTokenFactory's token reaches the hub",
  "a server Close with an error reaches onclose and rejects pending calls",
  "an abrupt drop closes the connection with an error",
  "a dropped connection reconnects with a new id and its groups get events again",
  "a repeated event is delivered once and a stale one not at all",
  "state changes are reported with attempt and next retry",
  "the hub refuses 3 connects and the client gets in on the 4th attempt",
  "the hub refuses 4 connects and onclose follows the last step",
  "the first start is retried when asked",
  "a failing re-join is reported and the other groups are still re-joined",
  "an event the hub sends twice is delivered once",
  "telemetry reaches the app's sink and the hub's endpoint without the token",
  "offline: a dropped connection makes no attempt until online, then reconnects at once",
  "visible again: a retry waiting 60 s runs at once",
  "a hidden page's visibilitychange does not retry",
  "pagehide stops cleanly; pageshow from the cache starts again and re-joins the groups",
  "a normal pageshow (not from the cache) after pagehide does not start the connection",
  "the token stays out of every text on WebSockets: failures, reconnects and close",
  "the token stays out of every text on Server-Sent Events",
  "the token stays out of every text on Long Polling",
  "a hub URL with a fragment and a token holding # connect, and no text quotes the token",
  "a plain socket's failures carry no token",
  "a poll URL carrying the token: failed polls report no token",
  "hostile servers on WebSockets: attempts follow the policy, then onclose",
  "hostile servers on WebSockets with stateful reconnect: attempts follow the policy, then onclose",
  "hostile servers on ServerSentEvents: attempts follow the policy, then onclose",
  "hostile servers on ServerSentEvents with stateful reconnect: attempts follow the policy, then onclose",
  "hostile servers on LongPolling: attempts follow the policy, then onclose",
  "hostile servers on LongPolling with stateful reconnect: attempts follow the policy, then onclose",
  "a resume the hub accepts and closes at once falls back to one normal reconnect, with onreconnecting",
  "WebSockets: invoke, group event, streams both ways, client result",
  "ServerSentEvents: invoke, group event, streams both ways, client result",
  "LongPolling: invoke, group event, streams both ways, client result",
  "a client method that throws sends the error back as the result",
  "disposing a server stream stops its items and keeps the connection",
  "falls back to Server-Sent Events when WebSockets are refused",
  "falls back to Long Polling when WebSockets and Server-Sent Events are refused",
  "a transport the hub refuses after negotiate makes the client try the next one",
  "negotiate redirect leads to a second hub with its token",
  "an expired token gets a 401 and a refreshed token is used",
  "without a token the authenticated hub refuses the start",
  "stateful reconnect absorbs a socket drop: 1000 numbered messages arrive once, in order",
  "records of one frame arrive intact, ASCII or not, on WebSockets and Server-Sent Events",
  "MessagePack on WebSockets: invoke, send, group event, streams both ways, client result, binary and timestamps",
  "MessagePack on LongPolling: invoke, send, group event, streams both ways, client result, binary and timestamps",
  "MessagePack options reach the encoder: forceFloat32 sends 32-bit floats",
  "MessagePack on Server-Sent Events is refused with the transport's error",
  "MessagePack on WebSockets: a dropped connection reconnects and its groups get events again",
  "MessagePack on LongPolling: a dropped connection reconnects and its groups get events again",
  "MessagePack stateful reconnect absorbs a socket drop: 300 numbered messages arrive once, in order",
  "withAutomaticReconnect() with no argument: the default schedule, 0 then 2000 ms, and back",
  "a class-based retry policy is called as a method with the official context, and reconnects",
  "a retry policy that gives up at once: onclose with the drop's error and no reconnecting event",
  "a retry policy whose retries are used up: one reconnecting event, then onclose with no error",
  "jitter spreads each scheduled delay within its band",
  "withKeepAliveInterval: the client's Pings reach the hub at that interval",
  "withServerTimeout: a silent hub is left with the server-timeout error",
  "serverTimeoutInMilliseconds set on a live connection applies from the next message",
  "withStatefulReconnect({ bufferSize }): sends wait for Acks beyond the buffer",
  "withStatefulReconnect({ bufferSize }): a tiny buffer delivers every send in order across an absorbed drop",
  "withBrowserLifecycle(false): an offline page still reconnects at once, where the default waits",
  "withBrowserLifecycle(false): pagehide leaves the connection alone",
  "withUrl headers reach negotiate",
  "withUrl timeout cuts off a negotiate that hangs",
  "withUrl withCredentials and headers reach the requests (seen through an httpClient)",
  "withUrl skipNegotiation connects the WebSocket with no negotiate",
  "withUrl transport as a number and as a name picks that transport",
  "withUrl accessTokenFactory's token reaches negotiate and the socket",
  "withUrl httpClient performs negotiate, polls and sends (Long Polling)",
  "withUrl WebSocket: the app's WebSocket class opens the connection",
  "withUrl EventSource: the app's EventSource class opens the connection",
  "configureLogging(logger) and the logger option get the connection's lines",
  "logMessageContent puts message content in the Trace lines",
  "the wasm stack stayed within half of its size through every check",
];

for (const engine of ENGINES) {
  describe(`${engine}: browser harness`, () => {
    let mock;
    let browser;
    let results = new Map();
    let events = [];

    before(async () => {
      mock = await startMock(["--www", "www", "--pkg", "pkg"]);
      browser = await launch(engine);
      const page = await browser.newPage();
      await page.goto(`${mock.url}harness.html`);
      try {
        results = await harnessResults(page, "hubwireHarness");
      } finally {
        events = await page.events();
        await keepScreenshot(page, "harness");
      }
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
    });

    reportChecks(test, assert, { engine, what: "the harness", expected: EXPECTED_CHECKS, results: () => results });

    test(`[${engine}] the page raised no uncaught errors`, () => {
      // Uncaught exceptions only: the network errors a browser logs for the connects the hub
      // refuses on purpose are expected, and so are the client's own warning-level log lines.
      assert.deepEqual(unexpectedEvents(events.filter((e) => e.kind === "pageerror")), []);
    });
  });
}

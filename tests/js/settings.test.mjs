// Tests of src/web/settings.rs, the one place JS setting values become core values
// (`millis`, `millis_or_never`, `function`, `string`, `reconnect_options`,
// `stable_connection_threshold`), driven through the built package in Node: tables of values
// (0, negative, NaN, Infinity, 2^31, strings, wrong types and valid edge values), each with the
// exact Error the app gets or the value as the app then observes it (a getter, the request an
// httpClient receives, the waits onstatechange reports, how often a flag is read).
//
// The module is loaded before anything is built, so a bad setting throws from build() (or the
// constructor) itself. The reconnect tables run against the mock hub over WebSockets (the `ws`
// package stands in for the browser's WebSocket in Node).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { HttpClient, HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel, ready } from "../../pkg/index.js";
import { PlainSocketConnection, subscribe } from "../../pkg/live.js";
import { startMock } from "./support/mock.mjs";

const MAX_TIMER_MS = 2 ** 31 - 1;
const URL_OF_NO_HUB = "http://127.0.0.1:9/hub";

/** The Error text settings.rs gives for a value that is not a duration (Rust's f64 spelling). */
const notADuration = (setting, shown) => `'${setting}' must be a finite, non-negative number of milliseconds (got ${shown}).`;
const zero = (setting) => `'${setting}' must be greater than 0 milliseconds.`;
const tooLong = (setting, ms) => `'${setting}' must be at most ${MAX_TIMER_MS} milliseconds (got ${ms}).`;

/**
 * The millisecond table: each value, and either `{ ms }` (what the connection then reports) or
 * `{ error(setting) }`. Strings, booleans and objects are not numbers: settings.rs does not
 * coerce them, so they read as NaN.
 */
const MILLIS_CASES = [
  { value: 1, ms: 1 },
  { value: 0.5, ms: 1, why: "a fraction rounds up, so it never becomes 0" },
  { value: 600, ms: 600 },
  { value: MAX_TIMER_MS, ms: MAX_TIMER_MS },
  { value: 0, error: zero },
  { value: -1, error: (s) => notADuration(s, "-1") },
  { value: -0.5, error: (s) => notADuration(s, "-0.5") },
  { value: NaN, error: (s) => notADuration(s, "NaN") },
  { value: Infinity, error: (s) => notADuration(s, "inf") },
  { value: -Infinity, error: (s) => notADuration(s, "-inf") },
  { value: 2 ** 31, error: (s) => tooLong(s, 2 ** 31) },
  { value: 1e300, error: (s) => tooLong(s, "340282366920938463463374607431768211455") },
  { value: "600", error: (s) => notADuration(s, "NaN") },
  { value: "", error: (s) => notADuration(s, "NaN") },
  { value: true, error: (s) => notADuration(s, "NaN") },
  { value: {}, error: (s) => notADuration(s, "NaN") },
  { value: [600], error: (s) => notADuration(s, "NaN") },
];

const show = (value) => (typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value));

/** Builds with `configure(builder)` against a URL nothing listens on (nothing is started). */
function build(configure, options = {}) {
  return configure(new HubConnectionBuilder().withUrl(URL_OF_NO_HUB, options).configureLogging(LogLevel.None)).build();
}

/** An httpClient that records each request and fails it, so a start goes no further. */
class RefusingHttpClient extends HttpClient {
  requests = [];

  send(request) {
    this.requests.push(request);
    return Promise.reject(new Error("refused by the test's httpClient"));
  }
}

before(async () => {
  await ready();
});

describe("millis: withServerTimeout and withKeepAliveInterval", () => {
  for (const [method, setting, getter] of [
    ["withServerTimeout", "serverTimeoutInMilliseconds", "serverTimeoutInMilliseconds"],
    ["withKeepAliveInterval", "keepAliveIntervalInMilliseconds", "keepAliveIntervalInMilliseconds"],
  ]) {
    for (const { value, ms, error, why } of MILLIS_CASES) {
      test(`${method}(${show(value)}) ${error ? "throws" : `is ${ms} ms`}${why ? `: ${why}` : ""}`, () => {
        if (error) {
          assert.throws(() => build((b) => b[method](value)), { message: error(setting) });
        } else {
          assert.equal(build((b) => b[method](value))[getter], ms);
        }
      });
    }
  }

  test("null or undefined is the builder's missing-argument error, not a setting error", () => {
    assert.throws(() => build((b) => b.withServerTimeout(null)), { message: "The 'milliseconds' argument is required." });
    assert.throws(() => build((b) => b.withKeepAliveInterval(undefined)), { message: "The 'milliseconds' argument is required." });
  });

  test("without them the official defaults hold: 30 000 and 15 000 ms", () => {
    const connection = build((b) => b);
    assert.equal(connection.serverTimeoutInMilliseconds, 30_000);
    assert.equal(connection.keepAliveIntervalInMilliseconds, 15_000);
  });
});

describe("millis: the withUrl timeout, as the httpClient's request sees it", () => {
  /** The `timeout` of the negotiate request a connection with `options` makes. */
  async function negotiateTimeout(options) {
    const client = new RefusingHttpClient();
    const connection = build((b) => b, { ...options, httpClient: client, transport: HttpTransportType.WebSockets });
    await assert.rejects(connection.start());
    assert.equal(client.requests.length, 1, "one negotiate");
    return client.requests[0].timeout;
  }

  for (const { value, ms, error } of MILLIS_CASES) {
    // 0 is "no timeout" for this option (the official client's meaning), tested below.
    if (value === 0) continue;
    test(`timeout: ${show(value)} ${error ? "throws" : `is ${ms} ms`}`, async () => {
      if (error) {
        assert.throws(() => build((b) => b, { timeout: value }), { message: error("timeout") });
      } else {
        assert.equal(await negotiateTimeout({ timeout: value }), ms);
      }
    });
  }

  test("timeout: 0 means no timeout (the longest a timer can wait)", async () => {
    assert.equal(await negotiateTimeout({ timeout: 0 }), MAX_TIMER_MS);
  });

  test("timeout: null or absent is the official 100 s", async () => {
    assert.equal(await negotiateTimeout({ timeout: null }), 100_000);
    assert.equal(await negotiateTimeout({}), 100_000);
  });
});

describe("function: options that must be functions", () => {
  const CASES = [
    { option: "accessTokenFactory", value: "token" },
    { option: "accessTokenFactory", value: {} },
    { option: "accessTokenFactory", value: 1 },
    { option: "WebSocket", value: {} },
    { option: "WebSocket", value: "WebSocket" },
    { option: "EventSource", value: 1 },
    { option: "EventSource", value: true },
  ];
  for (const { option, value } of CASES) {
    test(`${option}: ${show(value)} throws`, () => {
      assert.throws(() => build((b) => b, { [option]: value }), { message: `'${option}' must be a function.` });
    });
  }

  test("null and undefined are absent, a function or a class is taken", async () => {
    for (const value of [null, undefined]) build((b) => b, { accessTokenFactory: value, WebSocket: value, EventSource: value });
    build((b) => b, { WebSocket: class {}, EventSource: class {} });
    // The factory that was taken is the one asked for the negotiate's token.
    const client = new RefusingHttpClient();
    let calls = 0;
    const connection = build((b) => b, { accessTokenFactory: () => `t-${++calls}`, httpClient: client, transport: HttpTransportType.WebSockets });
    await assert.rejects(connection.start());
    assert.equal(calls, 1);
    assert.equal(client.requests[0].headers.Authorization, "Bearer t-1");
  });

  test("a retry policy's nextRetryDelayInMilliseconds must be a function", () => {
    for (const value of [5, "later", {}]) {
      assert.throws(() => build((b) => b.withAutomaticReconnect({ nextRetryDelayInMilliseconds: value })), {
        message: "'nextRetryDelayInMilliseconds' must be a function.",
      });
    }
  });
});

describe("string: options that must be strings (PlainSocketConnection, subscriptions)", () => {
  test("a plain socket's tokenParam", () => {
    for (const value of [5, {}, true]) {
      assert.throws(() => new PlainSocketConnection("ws://127.0.0.1:9/ws", { tokenParam: value }), { message: "'tokenParam' must be a string." });
      // A url that is not a string is stopped by live.js before it reaches settings.rs.
      assert.throws(() => new PlainSocketConnection(value), { message: "The 'url' argument is required." });
    }
    // An empty or null tokenParam keeps the default.
    new PlainSocketConnection("ws://127.0.0.1:9/ws", { tokenParam: "" });
    new PlainSocketConnection("ws://127.0.0.1:9/ws", { tokenParam: null });
  });

  test("a subscription's name and its flag document's url and name", () => {
    const poll = async () => 1;
    for (const value of [5, {}, false]) {
      assert.throws(() => subscribe({ poll, name: value }).current, { message: "'name' must be a string." });
      assert.throws(() => subscribe({ poll, flag: { url: value, name: "f" } }).current, { message: "'url' must be a string." });
      assert.throws(() => subscribe({ poll, flag: { url: "http://127.0.0.1:9/flags", name: value } }).current, { message: "'name' must be a string." });
    }
  });
});

describe("millis_or_never: a subscription's flagRefreshMs", () => {
  /** How many times a function flag is read within `waitMs` with `flagRefreshMs: value`. */
  async function flagReads(value, waitMs = 300) {
    let reads = 0;
    // A flag only matters with a push connection. It stays off here, so the connection (built
    // on first need) is never built.
    const connection = () => build((b) => b);
    const subscription = subscribe(connection, { event: "Update", poll: async () => 1, intervalMs: 60_000, flag: () => (reads++, false), flagRefreshMs: value });
    try {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      return reads;
    } finally {
      subscription.unsubscribe();
    }
  }

  test("0 means never again: the flag is read once", async () => {
    assert.equal(await flagReads(0), 1);
  });

  test("a positive value re-reads the flag on that interval", async () => {
    const reads = await flagReads(20);
    assert.ok(reads >= 3, `read ${reads} times in 300 ms at 20 ms`);
  });

  test("absent or null is the 60 s default: read once in a short wait", async () => {
    assert.equal(await flagReads(undefined), 1);
    assert.equal(await flagReads(null), 1);
  });

  for (const { value, error } of MILLIS_CASES.filter((c) => c.error && c.value !== 0)) {
    test(`flagRefreshMs: ${show(value)} throws`, () => {
      assert.throws(() => subscribe({ poll: async () => 1, flag: () => true, flagRefreshMs: value }).current, { message: error("flagRefreshMs") });
    });
  }

  test("a flag document's refreshMs: 0 is accepted, -1 throws", () => {
    subscribe({ poll: async () => 1, flag: { url: "http://127.0.0.1:9/flags", name: "f", refreshMs: 0 } }).unsubscribe();
    assert.throws(() => subscribe({ poll: async () => 1, flag: { url: "http://127.0.0.1:9/flags", name: "f", refreshMs: -1 } }).current, {
      message: notADuration("refreshMs", "-1"),
    });
  });
});

describe("reconnect_options and stable_connection_threshold: values refused at build(), and retryFirstStart", () => {
  const delays = (shown) => notADuration("reconnect delays", shown);
  const threshold = "stableConnectionThresholdInMilliseconds";
  const CASES = [
    { setting: [-1], message: delays("-1") },
    { setting: [0, NaN], message: delays("NaN") },
    { setting: [Infinity], message: delays("inf") },
    { setting: [2 ** 31], message: `'reconnect delays' must be at most ${MAX_TIMER_MS} milliseconds (got ${2 ** 31}).` },
    { setting: ["100"], message: delays("NaN") },
    { setting: [null], message: delays("NaN") },
    { setting: { delays: "0,100" }, message: "Retry delays must be an array of milliseconds." },
    { setting: { delays: 100 }, message: "Retry delays must be an array of milliseconds." },
    { setting: { delays: [-5] }, message: delays("-5") },
    { setting: { delays: [0], [threshold]: 0 }, message: zero(threshold) },
    { setting: { delays: [0], [threshold]: -1 }, message: notADuration(threshold, "-1") },
    { setting: { delays: [0], [threshold]: "5000" }, message: notADuration(threshold, "NaN") },
    { setting: { delays: [0], [threshold]: 2 ** 31 }, message: tooLong(threshold, 2 ** 31) },
    { setting: { nextRetryDelayInMilliseconds: () => 0, [threshold]: NaN }, message: notADuration(threshold, "NaN") },
  ];
  for (const { setting, message } of CASES) {
    test(`withAutomaticReconnect(${JSON.stringify(setting)}) throws`, () => {
      assert.throws(() => build((b) => b.withAutomaticReconnect(setting)), { message });
    });
  }

  test("retryFirstStart: a truthy value retries a failed start on the schedule, anything else does not", async () => {
    const firstStart = async (setting) => {
      const client = new RefusingHttpClient();
      const connection = build((b) => b.withAutomaticReconnect(setting), { httpClient: client, transport: HttpTransportType.WebSockets });
      const waits = [];
      connection.onstatechange((c) => c.nextRetryInMs !== null && waits.push(c.nextRetryInMs));
      await assert.rejects(connection.start());
      return { negotiates: client.requests.length, waits };
    };
    assert.deepEqual(await firstStart({ delays: [0, 3], retryFirstStart: true }), { negotiates: 3, waits: [0, 3] });
    assert.deepEqual(await firstStart({ delays: [0, 3], retryFirstStart: 1 }), { negotiates: 3, waits: [0, 3] });
    assert.deepEqual(await firstStart({ delays: [0, 3], retryFirstStart: 0 }), { negotiates: 1, waits: [] });
    assert.deepEqual(await firstStart({ delays: [0, 3] }), { negotiates: 1, waits: [] });
    assert.deepEqual(await firstStart([0, 3]), { negotiates: 1, waits: [] });
  });

  test("an array's own stableConnectionThresholdInMilliseconds is not read", () => {
    build((b) => b.withAutomaticReconnect(Object.assign([0], { [threshold]: -1 })));
  });
});

describe("reconnect_options: the waits a connection schedules after a drop", () => {
  let mock;
  let hubUrl;

  before(async () => {
    mock = await startMock();
    hubUrl = new URL("hub", mock.url).href;
  });

  after(async () => {
    await mock?.stop();
  });

  /**
   * Connects with `withAutomaticReconnect(setting)`, drops the connection with the next
   * `refused` connects refused, and resolves to the waits onstatechange announced until the
   * connection was Connected or Disconnected again, with how it ended.
   */
  async function waitsAfterDrop(setting, refused) {
    const connection = new HubConnectionBuilder()
      .withUrl(hubUrl, { transport: HttpTransportType.WebSockets })
      .configureLogging(LogLevel.None)
      .withAutomaticReconnect(setting)
      .build();
    const changes = [];
    connection.onstatechange((change) => changes.push(change));
    const closed = new Promise((resolve) => connection.onclose(resolve));
    try {
      await connection.start();
      await mock.control("DELETE /control/faults");
      if (refused > 0) await mock.control("/control/faults", { refuseConnects: refused });
      changes.length = 0;
      await mock.control("POST /control/drop");
      const back = new Promise((resolve) => {
        const timer = setInterval(() => {
          if (connection.state === HubConnectionState.Connected) {
            clearInterval(timer);
            resolve("connected");
          }
        }, 10);
        closed.then(() => (clearInterval(timer), resolve("closed")));
      });
      const outcome = await back;
      return { outcome, waits: changes.filter((c) => c.nextRetryInMs !== null).map((c) => c.nextRetryInMs) };
    } finally {
      await connection.stop();
      await mock.control("DELETE /control/faults");
    }
  }

  /** A policy object answering `answer(context)`, recording its calls. */
  const policy = (answer) => ({ calls: 0, nextRetryDelayInMilliseconds(context) { this.calls++; return answer(context); } });

  const CASES = [
    { what: "true: the official default, 0 then 2000 ms", setting: true, refused: 1, waits: [0, 2000], outcome: "connected" },
    { what: "an array: its delays in order", setting: [0, 5, 10], refused: 2, waits: [0, 5, 10], outcome: "connected" },
    { what: "fractional delays round up", setting: [0.4, 1.5], refused: 1, waits: [1, 2], outcome: "connected" },
    { what: "an array used up: onclose", setting: [0, 5], refused: 5, waits: [0, 5], outcome: "closed" },
    { what: "{ delays }: its delays", setting: { delays: [3, 0] }, refused: 1, waits: [3, 0], outcome: "connected" },
    { what: "{ delays, keepTrying }: the last delay again", setting: { delays: [0, 4], keepTrying: true }, refused: 3, waits: [0, 4, 4, 4], outcome: "connected" },
    { what: "{ delays, jitter: NaN }: no jitter", setting: { delays: [7, 7], jitter: NaN }, refused: 1, waits: [7, 7], outcome: "connected" },
    { what: "{ delays, jitter: '0.5' } (a string): no jitter", setting: { delays: [7, 7], jitter: "0.5" }, refused: 1, waits: [7, 7], outcome: "connected" },
    { what: "{} : the official default's first wait", setting: {}, refused: 0, waits: [0], outcome: "connected" },
    { what: "a policy's number", setting: policy(({ previousRetryCount }) => [0, 6][previousRetryCount] ?? null), refused: 1, waits: [0, 6], outcome: "connected" },
    { what: "a policy's fraction rounds down to whole ms", setting: policy(() => 2.9), refused: 0, waits: [2], outcome: "connected" },
    { what: "a policy's null gives up at once", setting: policy(() => null), refused: 0, waits: [], outcome: "closed" },
    { what: "a policy's -1 gives up", setting: policy(() => -1), refused: 0, waits: [], outcome: "closed" },
    { what: "a policy's NaN gives up", setting: policy(() => NaN), refused: 0, waits: [], outcome: "closed" },
    { what: "a policy's Infinity gives up", setting: policy(() => Infinity), refused: 0, waits: [], outcome: "closed" },
    { what: "a policy's string gives up", setting: policy(() => "5"), refused: 0, waits: [], outcome: "closed" },
    { what: "a policy that throws gives up", setting: policy(() => { throw new Error("no"); }), refused: 0, waits: [], outcome: "closed" },
  ];

  for (const { what, setting, refused, waits, outcome } of CASES) {
    test(what, { timeout: 20_000 }, async () => {
      assert.deepEqual(await waitsAfterDrop(setting, refused), { outcome, waits });
    });
  }

  test("jitter above 1 is clamped to 1: waits within 0..2x and not all the bare delay", { timeout: 20_000 }, async () => {
    const { waits } = await waitsAfterDrop({ delays: [40, 40, 40, 40], jitter: 5 }, 3);
    assert.equal(waits.length, 4);
    assert.ok(waits.every((w) => w >= 0 && w <= 80), JSON.stringify(waits));
    assert.ok(waits.some((w) => w !== 40), JSON.stringify(waits));
  });

  test("a policy's answer over 2^31 - 1 ms is capped at it", { timeout: 20_000 }, async () => {
    const connection = new HubConnectionBuilder()
      .withUrl(hubUrl, { transport: HttpTransportType.WebSockets })
      .configureLogging(LogLevel.None)
      .withAutomaticReconnect(policy(() => 1e12))
      .build();
    const waits = [];
    connection.onstatechange((c) => c.nextRetryInMs !== null && waits.push(c.nextRetryInMs));
    await connection.start();
    await mock.control("POST /control/drop");
    await waitFor(() => waits.length === 1);
    await connection.stop();
    assert.deepEqual(waits, [MAX_TIMER_MS]);
  });

  test("stableConnectionThresholdInMilliseconds reaches the core: a connection past it starts the schedule again", { timeout: 20_000 }, async () => {
    // Dropped twice, the second time 100 ms after the first reconnect and after the hub spoke:
    // with a 1 ms threshold that connection was established and the schedule starts again
    // (first wait 0); with the default 5 s it was not, and the schedule goes on (next wait 30).
    const secondEpisode = async (setting) => {
      const connection = new HubConnectionBuilder()
        .withUrl(hubUrl, { transport: HttpTransportType.WebSockets })
        .configureLogging(LogLevel.None)
        .withAutomaticReconnect(setting)
        .build();
      const waits = [];
      connection.onstatechange((c) => c.nextRetryInMs !== null && waits.push(c.nextRetryInMs));
      let ticks = 0;
      connection.on("Tick", () => ticks++);
      try {
        await connection.start();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await mock.control("/control/publish", { target: "Tick", arguments: [1] });
        await waitFor(() => ticks === 1);
        await mock.control("POST /control/drop");
        await waitFor(() => waits.length === 1 && connection.state === HubConnectionState.Connected);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await mock.control("/control/publish", { target: "Tick", arguments: [2] });
        await waitFor(() => ticks === 2);
        await mock.control("POST /control/drop");
        await waitFor(() => waits.length === 2 && connection.state === HubConnectionState.Connected);
        return waits;
      } finally {
        await connection.stop();
      }
    };
    assert.deepEqual(await secondEpisode({ delays: [0, 30, 60], stableConnectionThresholdInMilliseconds: 1 }), [0, 0]);
    assert.deepEqual(await secondEpisode({ delays: [0, 30, 60] }), [0, 30]);
  });
});

/** Resolves once `predicate()` holds (polling), failing after 5 s. */
async function waitFor(predicate) {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A token fed through every path text can leave by: WebSockets, Server-Sent Events and Long
// Polling connections that fail, drop and reconnect; a WebSocket whose constructor throws an
// exception quoting the URL (query and token included); a plain socket; a poll URL that carries
// the token. Each check collects everything an app or a log could see — console lines (every
// level, at LogLevel.Trace), telemetry records, state changes and their reasons, rejections and
// onclose errors — and asserts the token appears in none of it, as given or percent-encoded.

import { HttpTransportType, HubConnectionBuilder, LogLevel } from "/pkg/index.js";
import { PlainSocketConnection, subscribe } from "/pkg/live.js";
import { check, control, rejection, sleep, until } from "./util.js";

// A token with the characters that once broke URLs open (#, &, space), and a tail long enough
// to be found anywhere it leaks.
const TOKEN = "tok#en&x y-9f3c2a7e41b0";
const SECRETS = [TOKEN, encodeURIComponent(TOKEN), "9f3c2a7e41b0"];

/** Starts collecting console lines; returns them and a function that stops collecting. */
function captureConsole() {
  const lines = [];
  const originals = {};
  for (const level of ["debug", "info", "log", "warn", "error"]) {
    originals[level] = console[level];
    console[level] = (...args) => {
      lines.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" "));
      originals[level].apply(console, args);
    };
  }
  return {
    lines,
    stop() {
      Object.assign(console, originals);
    },
  };
}

function describe(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Fails when any collected text holds the token; `seen` must not be empty (proof it ran). */
function assertNoToken(seen, what) {
  check(seen.length > 0, `${what}: nothing was collected, so nothing was checked`);
  const text = seen.map(describe).join("\n");
  for (const secret of SECRETS) {
    check(!text.includes(secret), `${what}: the token (${JSON.stringify(secret)}) leaked in:\n${text}`);
  }
}

/** A hub connection that records its telemetry and state changes into `seen`. */
function recordedConnection(seen, url, options, configure = (b) => b) {
  const builder = new HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory: () => TOKEN, ...options })
    .configureLogging(LogLevel.Trace)
    .withTelemetry((record) => seen.push(record));
  const connection = configure(builder).build();
  connection.onstatechange((change) => seen.push(change));
  connection.onreconnecting((error) => seen.push(error ?? "reconnecting"));
  connection.onclose((error) => seen.push(error ?? "closed"));
  return connection;
}

function transportCheck(name, transport) {
  return async () => {
    const seen = [];
    const consoleLines = captureConsole();
    await control("auth", { token: TOKEN });
    const connection = recordedConnection(seen, "/hub", { transport }, (b) => b.withAutomaticReconnect([0, 50, 100]));
    try {
      await connection.start();
      // A drop, connects refused (errors quoting what failed), then the policy runs out.
      await control("faults", { refuseConnects: 10 });
      await control("drop", {});
      await until(() => seen.includes("closed") || seen.some((s) => s instanceof Error && connection.state === "Disconnected"), `${name}: onclose`, 8000);
      seen.push(await rejection(connection.invoke("Echo", "after close")));
    } finally {
      consoleLines.stop();
      await connection.stop();
    }
    check(seen.some((s) => s?.type === "reconnectAttempt"), `${name}: no reconnectAttempt record, so the failure path did not run`);
    assertNoToken([...seen, ...consoleLines.lines], name);
  };
}

export const checks = {
  "the token stays out of every text on WebSockets: failures, reconnects and close": transportCheck(
    "WebSockets",
    HttpTransportType.WebSockets,
  ),
  "the token stays out of every text on Server-Sent Events": transportCheck("ServerSentEvents", HttpTransportType.ServerSentEvents),
  "the token stays out of every text on Long Polling": transportCheck("LongPolling", HttpTransportType.LongPolling),

  async "a hub URL with a fragment and a token holding # connect, and no text quotes the token"() {
    // Before the connect URL dropped fragments and encoded the connection token, this made the
    // browser's WebSocket constructor throw an error quoting the whole URL, token included.
    const seen = [];
    const consoleLines = captureConsole();
    await control("auth", { token: TOKEN });
    const connection = recordedConnection(seen, "/hub#section", { transport: HttpTransportType.WebSockets });
    try {
      await connection.start();
      seen.push(await connection.invoke("Echo", "through the fragment"));
    } finally {
      consoleLines.stop();
      await connection.stop();
    }
    check(seen.includes("through the fragment"), `the echo came back: ${seen.map(describe).join(" | ")}`);
    const connects = (await control("log")).filter((e) => e.kind === "connect" && e.accessToken === TOKEN);
    check(connects.length >= 1, "the hub saw the token intact");
    assertNoToken([...seen, ...consoleLines.lines], "URL with a fragment");
  },

  async "a plain socket's failures carry no token"() {
    const seen = [];
    const consoleLines = captureConsole();
    // Nothing listens on port 9 here: the socket fails to open.
    const plain = new PlainSocketConnection("ws://127.0.0.1:9/ws#fragment", {
      accessTokenFactory: () => TOKEN,
      reconnect: false,
      logLevel: LogLevel.Trace,
      telemetry: (record) => seen.push(record),
    });
    plain.onstatechange?.((change) => seen.push(change));
    try {
      seen.push(await rejection(plain.start()));
    } finally {
      consoleLines.stop();
      await plain.stop();
    }
    assertNoToken([...seen, ...consoleLines.lines], "plain socket");
  },

  async "a poll URL carrying the token: failed polls report no token"() {
    const seen = [];
    const consoleLines = captureConsole();
    await control("faults", { failPolls: 3 });
    const subscription = subscribe({
      poll: { url: `/api/obligations/u-token?access_token=${encodeURIComponent(TOKEN)}`, intervalMs: 50 },
      maxBackoffMs: 60,
      onTelemetry: (record) => seen.push(record),
    });
    subscription.onUpdate?.((value) => seen.push({ updated: true }));
    try {
      await until(() => seen.filter((r) => r?.type === "pollFailed").length >= 2, "two failed polls", 5000);
      await sleep(50);
    } finally {
      consoleLines.stop();
      subscription.unsubscribe();
    }
    assertNoToken([...seen, ...consoleLines.lines], "poll URL");
  },
};

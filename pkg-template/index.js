// hubwire's JavaScript entry: the official client's API shape over the WebAssembly core.
//
// The WebAssembly module is instantiated here once, with top-level await, so app code never
// calls an init function. Everything below only adapts call shapes (the builder, rest-parameter
// invoke/send); connection logic lives in the wasm core.

import init, { HubConnectionCore, version as coreVersion } from "./hubwire.js";

await init();

/** The library version, as built into the WebAssembly core. */
export const VERSION = coreVersion();

/** Connection states, spelled as in `@microsoft/signalr`. */
export const HubConnectionState = Object.freeze({
  Disconnected: "Disconnected",
  Connecting: "Connecting",
  Connected: "Connected",
  Disconnecting: "Disconnecting",
  Reconnecting: "Reconnecting",
});

/** Transport bit flags, as in `@microsoft/signalr`. */
export const HttpTransportType = Object.freeze({
  None: 0,
  WebSockets: 1,
  ServerSentEvents: 2,
  LongPolling: 4,
});

/** Log levels, as in `@microsoft/signalr`. */
export const LogLevel = Object.freeze({
  Trace: 0,
  Debug: 1,
  Information: 2,
  Warning: 3,
  Error: 4,
  Critical: 5,
  None: 6,
});

function resolveUrl(url) {
  // Like the official client, a relative URL is resolved against the page's address.
  const base = globalThis.location?.href;
  return base ? new URL(url, base).href : url;
}

/** A connection to a SignalR hub. Create one with `HubConnectionBuilder`. */
export class HubConnection {
  #core;

  /** @internal Use `HubConnectionBuilder.build()`. */
  constructor(core) {
    this.#core = core;
  }

  /** The current state: one of `HubConnectionState`. */
  get state() {
    return this.#core.state;
  }

  /** The server's id for this connection, or null when not connected. */
  get connectionId() {
    return this.#core.connectionId ?? null;
  }

  /** Connects; resolves once the handshake completed. */
  start() {
    return this.#core.start();
  }

  /** Disconnects; resolves once the connection is Disconnected. */
  stop() {
    return this.#core.stop();
  }

  /**
   * Registers `newMethod` for calls of `methodName` from the server (names ignore case).
   * `options.dedupe` = `{ key?(...args), version?(...args), window?: { count?, ms? } }` drops
   * exact repeats (by key, within the window) and stale updates (version not newer, per key).
   */
  on(methodName, newMethod, options) {
    if (!methodName || typeof newMethod !== "function") return;
    this.#core.on(methodName, newMethod, options);
  }

  /** Removes `method` from `methodName`, or every handler of it when `method` is omitted. */
  off(methodName, method) {
    if (!methodName) return;
    this.#core.off(methodName, typeof method === "function" ? method : undefined);
  }

  /** Calls a hub method; resolves with its result, rejects with the server's error. */
  invoke(methodName, ...args) {
    return this.#core.invoke(methodName, args);
  }

  /** Calls a hub method without waiting for it to run; resolves once sent. */
  send(methodName, ...args) {
    return this.#core.send(methodName, args);
  }

  /** Registers a callback for when the connection closes for good (with an Error if it failed). */
  onclose(callback) {
    if (typeof callback === "function") this.#core.onclose(callback);
  }

  /** Registers a callback for when the connection was lost and automatic reconnect begins. */
  onreconnecting(callback) {
    if (typeof callback === "function") this.#core.onreconnecting(callback);
  }

  /** Registers a callback for when the connection is back, groups re-joined, with the new id. */
  onreconnected(callback) {
    if (typeof callback === "function") this.#core.onreconnected(callback);
  }

  /** Registers a callback for every state change: `{ previous, current, reason, attempt, nextRetryInMs, transport, connectionId }`. */
  onstatechange(callback) {
    if (typeof callback === "function") this.#core.onstatechange(callback);
  }

  /** Joins a group by its hub methods, `{ join, leave, args }`, and re-joins it after every reconnect. */
  joinGroup(spec) {
    return this.#core.joinGroup(spec);
  }

  /** Leaves a group joined with `joinGroup` (same spec) and stops re-joining it. */
  leaveGroup(spec) {
    return this.#core.leaveGroup(spec);
  }

  /** A snapshot: `{ state, transport, connectionId, lastMessageAt, rttMs, reconnectCount, duplicatesDropped }`. */
  health() {
    return this.#core.health();
  }

  /** Sends telemetry that is waiting for its batch now. */
  flushTelemetry() {
    this.#core.flushTelemetry();
  }
}

/** Builds a `HubConnection`, as `@microsoft/signalr`'s builder does. */
export class HubConnectionBuilder {
  #settings = {};

  /** The hub URL, with a transport type or an options object. */
  withUrl(url, transportTypeOrOptions) {
    if (typeof url !== "string" || url === "") {
      throw new Error("The 'url' argument is required.");
    }
    const options =
      typeof transportTypeOrOptions === "object" && transportTypeOrOptions !== null
        ? transportTypeOrOptions
        : transportTypeOrOptions === undefined
          ? {}
          : { transport: transportTypeOrOptions };
    const { skipNegotiation, accessTokenFactory, withCredentials, transport } = options;
    Object.assign(this.#settings, { skipNegotiation, accessTokenFactory, withCredentials, transport });
    this.#settings.url = resolveUrl(url);
    return this;
  }

  /** The lowest `LogLevel` written to the console (default Information). */
  configureLogging(logLevel) {
    if (typeof logLevel === "number") this.#settings.logLevel = logLevel;
    return this;
  }

  /** Close the connection when the server is silent for this long (default 30 000 ms). */
  withServerTimeout(milliseconds) {
    this.#settings.serverTimeoutInMilliseconds = milliseconds;
    return this;
  }

  /** Send a ping after this long without sending anything (default 15 000 ms). */
  withKeepAliveInterval(milliseconds) {
    this.#settings.keepAliveIntervalInMilliseconds = milliseconds;
    return this;
  }

  /**
   * Reconnect automatically when the connection is lost. No argument: after 0, 2, 10 and 30 s,
   * then give up (the official default). An array: those delays in ms. An object with
   * `nextRetryDelayInMilliseconds(context)`: that policy (ms, or null to give up). hubwire also
   * takes `{ delays?, jitter?, keepTrying?, retryFirstStart? }`.
   */
  withAutomaticReconnect(retryDelaysOrPolicy) {
    this.#settings.reconnect = retryDelaysOrPolicy ?? true;
    return this;
  }

  /**
   * Where telemetry goes: a callback, or `{ onEvent?, url?, batchSize?, flushIntervalMs?,
   * latencyFields? }` (records are POSTed to `url` in batches, by beacon when the page hides).
   */
  withTelemetry(options) {
    this.#settings.telemetry = options;
    return this;
  }

  /** Follow the browser's online/offline, visibility and back/forward cache events (default true). */
  withBrowserLifecycle(enabled) {
    this.#settings.browserLifecycle = enabled !== false;
    return this;
  }

  /** The configured connection, not yet started. */
  build() {
    if (!this.#settings.url) {
      throw new Error("The 'HubConnectionBuilder.withUrl' method must be called before building the connection.");
    }
    return new HubConnection(new HubConnectionCore({ ...this.#settings }));
  }
}

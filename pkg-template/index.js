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

  /** Registers `newMethod` for calls of `methodName` from the server (names ignore case). */
  on(methodName, newMethod) {
    if (!methodName || typeof newMethod !== "function") return;
    this.#core.on(methodName, newMethod);
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

  /** Registers a callback for when the connection closes (with an Error if it failed). */
  onclose(callback) {
    if (typeof callback === "function") this.#core.onclose(callback);
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

  /** The configured connection, not yet started. */
  build() {
    if (!this.#settings.url) {
      throw new Error("The 'HubConnectionBuilder.withUrl' method must be called before building the connection.");
    }
    return new HubConnection(new HubConnectionCore({ ...this.#settings }));
  }
}

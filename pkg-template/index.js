// hubwire's JavaScript entry: the official client's API shape over the WebAssembly core.
//
// Importing this file has no side effects: the WebAssembly module is instantiated on first use
// (wasm.js), by the first async call that needs it (`start()`, `invoke()`, ...), or by
// `ready()` for apps that preload it. Building a connection and registering handlers stay
// synchronous, as in the official API: until the module is ready the calls are queued
// (LazyCore) and replayed on the core in order. Everything below only adapts call shapes (the
// builder, rest-parameter invoke/send); connection logic lives in the wasm core.

import { TabSharedHubConnection } from "./tabs.js";
import { LazyCore, LazyStart, ready } from "./wasm.js";

export { ready };

/** The library version (the same as the package's and the WebAssembly core's `version()`). */
export const VERSION = "0.1.0";

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

/**
 * A client-to-server stream source: pass it as an argument of `invoke`, `send` or `stream`,
 * then call `next(item)` for each item and `complete()` (or `error(err)`) at the end.
 */
export class Subject {
  #observers = [];

  /** Sends one item. */
  next(item) {
    for (const observer of this.#observers) observer.next?.(item);
  }

  /** Ends the stream with an error. */
  error(err) {
    for (const observer of this.#observers) observer.error?.(err);
  }

  /** Ends the stream. */
  complete() {
    for (const observer of this.#observers) observer.complete?.();
  }

  /** Observes the items (used by the connection). */
  subscribe(observer) {
    this.#observers.push(observer);
    return { dispose: () => (this.#observers = this.#observers.filter((o) => o !== observer)) };
  }
}

function isUpload(value) {
  return value instanceof Subject || (value != null && typeof value === "object" && typeof value[Symbol.asyncIterator] === "function");
}

/** Splits the upload sources (Subjects, async iterables) out of the arguments. */
function splitUploads(args) {
  const plain = [];
  const uploads = [];
  for (const arg of args) (isUpload(arg) ? uploads : plain).push(arg);
  return { plain, uploads };
}

/** Feeds each upload source into its stream id. */
function pumpUploads(core, uploads, streamIds) {
  uploads.forEach((source, index) => {
    const id = streamIds[index];
    const fail = (err) => core.completeUpload(id, String(err?.message ?? err));
    if (source instanceof Subject) {
      source.subscribe({
        next: (item) => core.streamItem(id, item),
        error: fail,
        complete: () => core.completeUpload(id, undefined),
      });
    } else {
      (async () => {
        try {
          for await (const item of source) core.streamItem(id, item);
          core.completeUpload(id, undefined);
        } catch (err) {
          fail(err);
        }
      })();
    }
  });
}

/** Stands in for the core in `stream()` before the module is ready: there is no connection yet. */
const NOT_CONNECTED_CORE = Object.freeze({
  stream() {
    throw new Error("Cannot send data if the connection is not in the 'Connected' State.");
  },
});

function resolveUrl(url) {
  // Like the official client, a relative URL is resolved against the page's address.
  const base = globalThis.location?.href;
  return base ? new URL(url, base).href : url;
}

/** What `health()` answers before the core exists: a connection that never connected. */
const NEVER_CONNECTED_HEALTH = Object.freeze({
  state: "Disconnected",
  transport: null,
  connectionId: null,
  lastMessageAt: null,
  rttMs: null,
  reconnectCount: 0,
  duplicatesDropped: 0,
});

/** A connection to a SignalR hub. Create one with `HubConnectionBuilder`. */
export class HubConnection {
  #core;
  /** start()/stop() while the module may still be loading. */
  #starter;

  /** @internal Use `HubConnectionBuilder.build()`. */
  constructor(settings) {
    this.#core = new LazyCore((wasm) => new wasm.HubConnectionCore(settings));
    this.#starter = new LazyStart(this.#core, "Cannot start a HubConnection that is not in the 'Disconnected' state.");
  }

  /** The current state: one of `HubConnectionState`. */
  get state() {
    if (this.#starter.pending) return HubConnectionState.Connecting;
    return this.#core.current?.state ?? HubConnectionState.Disconnected;
  }

  /** The server's id for this connection, or null when not connected. */
  get connectionId() {
    return this.#core.current?.connectionId ?? null;
  }

  /** Connects (instantiating the WebAssembly module first when needed); resolves once the handshake completed. */
  start() {
    return this.#starter.start();
  }

  /** Disconnects; resolves once the connection is Disconnected. */
  stop() {
    return this.#starter.stop();
  }

  /** Runs `call(core)` once the module is ready; a promise of its result. */
  #whenReady(call) {
    const core = this.#core.current;
    if (core) return call(core);
    return this.#core.get().then(call);
  }

  /**
   * Registers `newMethod` for calls of `methodName` from the server (names ignore case).
   * `options.dedupe` = `{ key?(...args), version?(...args), window?: { count?, ms? } }` drops
   * exact repeats (by key, within the window) and stale updates (version not newer, per key).
   */
  on(methodName, newMethod, options) {
    if (!methodName || typeof newMethod !== "function") return;
    this.#core.later((core) => core.on(methodName, newMethod, options));
  }

  /** Removes `method` from `methodName`, or every handler of it when `method` is omitted. */
  off(methodName, method) {
    if (!methodName) return;
    this.#core.later((core) => core.off(methodName, typeof method === "function" ? method : undefined));
  }

  /** Calls a hub method; resolves with its result, rejects with the server's error. Subjects and async iterables among the arguments are streamed to the hub. */
  invoke(methodName, ...args) {
    const { plain, uploads } = splitUploads(args);
    return this.#whenReady((core) => {
      if (uploads.length === 0) return core.invoke(methodName, plain);
      try {
        const { result, streamIds } = core.invokeWithUploads(methodName, plain, uploads.length);
        pumpUploads(core, uploads, streamIds);
        return result;
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  /** Calls a hub method without waiting for it to run; resolves once sent. */
  send(methodName, ...args) {
    const { plain, uploads } = splitUploads(args);
    return this.#whenReady((core) => {
      if (uploads.length === 0) return core.send(methodName, plain);
      try {
        const { streamIds } = core.sendWithUploads(methodName, plain, uploads.length);
        pumpUploads(core, uploads, streamIds);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  /**
   * Calls a streaming hub method. `subscribe({ next, error, complete })` receives its items
   * and returns `{ dispose() }`, which stops the stream on the hub (CancelInvocation).
   */
  stream(methodName, ...args) {
    // Before the module is ready there is no core, so the connection cannot be Connected.
    const core = this.#core.current ?? NOT_CONNECTED_CORE;
    const { plain, uploads } = splitUploads(args);
    const subscribers = [];
    const buffered = [];
    let ended = null;
    const sink = {
      next: (item) => (subscribers.length ? subscribers.forEach((s) => s.next?.(item)) : buffered.push(item)),
      error: (err) => {
        ended = { err };
        subscribers.forEach((s) => s.error?.(err));
      },
      complete: () => {
        ended = {};
        subscribers.forEach((s) => s.complete?.());
      },
    };
    let id = null;
    try {
      const started = core.stream(methodName, plain, uploads.length, sink);
      id = started.id;
      pumpUploads(core, uploads, started.streamIds);
    } catch (error) {
      ended = { err: error };
    }
    return {
      subscribe(subscriber) {
        subscribers.push(subscriber);
        // Items that arrived before anyone subscribed are handed over first.
        buffered.splice(0).forEach((item) => subscriber.next?.(item));
        if (ended) queueMicrotask(() => (ended.err ? subscriber.error?.(ended.err) : subscriber.complete?.()));
        return {
          dispose() {
            const index = subscribers.indexOf(subscriber);
            if (index >= 0) subscribers.splice(index, 1);
            if (subscribers.length === 0 && id !== null && !ended) {
              core.cancelStream(id);
              ended = {};
            }
          },
        };
      },
    };
  }

  /** Registers a callback for when the connection closes for good (with an Error if it failed). */
  onclose(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.onclose(callback));
  }

  /** Registers a callback for when the connection was lost and automatic reconnect begins. */
  onreconnecting(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.onreconnecting(callback));
  }

  /** Registers a callback for when the connection is back, groups re-joined, with the new id. */
  onreconnected(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.onreconnected(callback));
  }

  /** Registers a callback for every state change: `{ previous, current, reason, attempt, nextRetryInMs, transport, connectionId }`. */
  onstatechange(callback) {
    if (typeof callback !== "function") return;
    this.#starter.addStateListener(callback);
    this.#core.later((core) => core.onstatechange(callback));
  }

  /** Registers a callback for a group whose re-join failed after a reconnect: `{ join, leave, args, error }` (retried at the next reconnect). */
  onrejoinfailed(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.onrejoinfailed(callback));
  }

  /** Joins a group by its hub methods, `{ join, leave, args }`, and re-joins it after every reconnect. */
  joinGroup(spec) {
    return this.#whenReady((core) => core.joinGroup(spec));
  }

  /** Leaves a group joined with `joinGroup` (same spec) and stops re-joining it. */
  leaveGroup(spec) {
    return this.#whenReady((core) => core.leaveGroup(spec));
  }

  /** A snapshot: `{ state, transport, connectionId, lastMessageAt, rttMs, reconnectCount, duplicatesDropped }`. */
  health() {
    return this.#core.current?.health() ?? { ...NEVER_CONNECTED_HEALTH };
  }

  /** Sends telemetry that is waiting for its batch now. */
  flushTelemetry() {
    // Before the core exists nothing was recorded, so there is nothing to send.
    this.#core.current?.flushTelemetry();
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
    const { skipNegotiation, accessTokenFactory, withCredentials, transport, headers, timeout } = options;
    Object.assign(this.#settings, { skipNegotiation, accessTokenFactory, withCredentials, transport, headers, timeout });
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

  /**
   * Stateful reconnect (WebSockets): a dropped socket is replaced by a new one to the same
   * connection and unacknowledged messages are replayed both ways, without a reconnecting
   * event. `bufferSize` bounds the unacknowledged bytes (default 100 000).
   */
  withStatefulReconnect(options) {
    this.#settings.statefulReconnect = { bufferSize: options?.bufferSize };
    return this;
  }

  /** Follow the browser's online/offline, visibility and back/forward cache events (default true). */
  withBrowserLifecycle(enabled) {
    this.#settings.browserLifecycle = enabled !== false;
    return this;
  }

  /** One connection for all tabs with the same URL and `{ key?, userId? }` (tabs.js). */
  withTabSharing(options) {
    this.#tabSharing = { ...options };
    return this;
  }
  #tabSharing = null;

  /**
   * The configured connection, not yet started. Synchronous: when the WebAssembly module is not
   * ready yet, the settings are checked by `start()` (which then rejects) instead of here.
   */
  build() {
    if (!this.#settings.url) {
      throw new Error("The 'HubConnectionBuilder.withUrl' method must be called before building the connection.");
    }
    if (this.#tabSharing) return new TabSharedHubConnection({ ...this.#settings }, this.#tabSharing, HubConnection);
    return new HubConnection({ ...this.#settings });
  }
}

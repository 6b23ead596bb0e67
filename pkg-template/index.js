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
import { HubConnectionState, loggingSetting } from "./signalr-api.js";

export { ready };
export { AbortError, HttpError, TimeoutError } from "./errors.js";
export {
  DefaultHttpClient,
  HttpClient,
  HttpResponse,
  HttpTransportType,
  HubConnectionState,
  JsonHubProtocol,
  LogLevel,
  MessageType,
  NullLogger,
  TransferFormat,
} from "./signalr-api.js";

/** The library version (the same as the package's and the WebAssembly core's `version()`). */
export const VERSION = "0.1.0";

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

/**
 * Whether an argument is a client-to-server stream: anything with a `subscribe` method (the
 * official client's test, so RxJS observables and its own Subject count), or an async iterable.
 */
function isUpload(value) {
  if (value == null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof value.subscribe === "function" || typeof value[Symbol.asyncIterator] === "function";
}

/** Splits the upload sources (observables, async iterables) out of the arguments. */
function splitUploads(args) {
  const plain = [];
  const uploads = [];
  for (const arg of args) (isUpload(arg) ? uploads : plain).push(arg);
  return { plain, uploads };
}

/** An upload source's error as the text of its stream's completion, as the official client words it. */
function uploadErrorText(err) {
  if (err instanceof Error) return err.message;
  if (err && typeof err.toString === "function") return err.toString();
  return "Unknown error";
}

/** Feeds each upload source into its stream id. */
function pumpUploads(core, uploads, streamIds) {
  uploads.forEach((source, index) => {
    const id = streamIds[index];
    const fail = (err) => core.upload(id, uploadErrorText(err), true);
    if (typeof source.subscribe === "function") {
      source.subscribe({
        next: (item) => core.upload(id, item, false),
        error: fail,
        complete: () => core.upload(id, undefined, true),
      });
    } else {
      (async () => {
        try {
          for await (const item of source) core.upload(id, item, false);
          core.upload(id, undefined, true);
        } catch (err) {
          fail(err);
        }
      })();
    }
  });
}

// The core's callback kinds, the numbers `addCallback(kind, callback)` takes (CallbackKind in
// src/web/driver.rs): one export for the five callbacks keeps the module smaller.
const CALLBACK_ONCLOSE = 0;
const CALLBACK_ONRECONNECTING = 1;
const CALLBACK_ONRECONNECTED = 2;
const CALLBACK_ONSTATECHANGE = 3;
const CALLBACK_ONREJOINFAILED = 4;
// What the core's `read(which)` reads (HubConnectionCore::read in src/web/connection.rs).
const READ_STATE = 0;
const READ_BASE_URL = 1;
const READ_CONNECTION_ID = 2;
const READ_SERVER_TIMEOUT = 3;
const READ_KEEP_ALIVE = 4;
const READ_HEALTH = 5;
// What the core's `write(which, value)` changes or does (HubConnectionCore::write).
const WRITE_BASE_URL = 0;
const WRITE_SERVER_TIMEOUT = 1;
const WRITE_KEEP_ALIVE = 2;
const WRITE_CANCEL_STREAM = 3;
const WRITE_FLUSH_TELEMETRY = 4;
// The `mode` of the core's `callWithUploads(name, args, uploads, mode, sink)`.
const CALL_SEND = 0;
const CALL_INVOKE = 1;
const CALL_STREAM = 2;

/** Stands in for the core in `stream()` before the module is ready: there is no connection yet. */
const NOT_CONNECTED_CORE = Object.freeze({
  callWithUploads() {
    throw new Error("Cannot send data if the connection is not in the 'Connected' State.");
  },
});

/**
 * An absolute hub URL: as the official client, a relative URL is resolved against the page's
 * address, and where there is no page (Node) it cannot be.
 */
function resolveUrl(url) {
  if (/^(https?|wss?):\/\//i.test(url)) return url;
  const base = globalThis.location?.href;
  // Without a page (server rendering) the URL stays as given and start() rejects with the
  // official client's error, so a component tree that builds its connection renders on the
  // server (the official client throws from build() there).
  return base ? new URL(url, base).href : url;
}

/** The error start() rejects with when the URL is still relative (no page to resolve it against). */
function unresolvedUrl(url) {
  return /^(https?|wss?):\/\//i.test(url) ? null : new Error(`Cannot resolve '${url}'.`);
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

/** Throws the official client's error for a missing argument. */
function requireArgument(value, name) {
  if (value === null || value === undefined) throw new Error(`The '${name}' argument is required.`);
}

/** Throws unless `value` is a timer interval the core accepts (checked again by the core). */
function requireInterval(value, name) {
  if (typeof value !== "number" || !(value > 0) || value > 2147483647) {
    throw new Error(`'${name}' must be a number of milliseconds above 0 and at most 2147483647.`);
  }
}

/** A connection to a SignalR hub. Create one with `HubConnectionBuilder`. */
export class HubConnection {
  #core;
  /** start()/stop() while the module may still be loading. */
  #starter;
  /** The settings the core is (or will be) built from; also what the getters answer before it exists. */
  #settings;

  /** @internal Use `HubConnectionBuilder.build()`. */
  constructor(settings) {
    // Handlers, callbacks and client-result handlers run with `this` = this connection.
    this.#settings = { ...settings, owner: this };
    // A MessagePack connection needs the full module; MessagePackHubProtocol carries it.
    const messagePack = settings.hubProtocol?.name === "messagepack";
    this.#core = new LazyCore((wasm) => new wasm.HubConnectionCore(this.#settings), messagePack ? ["msgpack"] : [], messagePack ? settings.hubProtocol.module : null);
    this.#starter = new LazyStart(this.#core, "Cannot start a HubConnection that is not in the 'Disconnected' state.");
  }

  /** The current state: one of `HubConnectionState`. */
  get state() {
    if (this.#starter.pending) return HubConnectionState.Connecting;
    return this.#core.current?.read(READ_STATE) ?? HubConnectionState.Disconnected;
  }

  /** The server's id for this connection, or null when not connected. */
  get connectionId() {
    return this.#core.current?.read(READ_CONNECTION_ID) ?? null;
  }

  /** The hub URL. Settable while Disconnected or Reconnecting: the next attempt uses it. */
  get baseUrl() {
    return this.#core.current?.read(READ_BASE_URL) ?? this.#settings.url;
  }

  set baseUrl(url) {
    const state = this.state;
    if (state !== HubConnectionState.Disconnected && state !== HubConnectionState.Reconnecting) {
      throw new Error("The HubConnection must be in the Disconnected or Reconnecting state to change the url.");
    }
    requireArgument(url, "url");
    const resolved = resolveUrl(url);
    this.#settings.url = resolved;
    this.#core.later((core) => core.write(WRITE_BASE_URL, resolved));
  }

  /** Close the connection when the server is silent this long (ms); a change applies from the next message. */
  get serverTimeoutInMilliseconds() {
    return this.#core.current?.read(READ_SERVER_TIMEOUT) ?? this.#settings.serverTimeoutInMilliseconds ?? 30_000;
  }

  set serverTimeoutInMilliseconds(milliseconds) {
    requireInterval(milliseconds, "serverTimeoutInMilliseconds");
    this.#settings.serverTimeoutInMilliseconds = milliseconds;
    this.#core.later((core) => core.write(WRITE_SERVER_TIMEOUT, milliseconds));
  }

  /** Send a ping after this long (ms) without sending; a change applies from the next message. */
  get keepAliveIntervalInMilliseconds() {
    return this.#core.current?.read(READ_KEEP_ALIVE) ?? this.#settings.keepAliveIntervalInMilliseconds ?? 15_000;
  }

  set keepAliveIntervalInMilliseconds(milliseconds) {
    requireInterval(milliseconds, "keepAliveIntervalInMilliseconds");
    this.#settings.keepAliveIntervalInMilliseconds = milliseconds;
    this.#core.later((core) => core.write(WRITE_KEEP_ALIVE, milliseconds));
  }

  /** Connects (instantiating the WebAssembly module first when needed); resolves once the handshake completed. */
  start() {
    const unresolved = unresolvedUrl(this.#settings.url);
    if (unresolved) return Promise.reject(unresolved);
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

  /** Calls a hub method; resolves with its result, rejects with the server's error. Observables (anything with `subscribe`) and async iterables among the arguments are streamed to the hub. */
  invoke(methodName, ...args) {
    const { plain, uploads } = splitUploads(args);
    return this.#whenReady((core) => {
      try {
        const { result, streamIds } = core.callWithUploads(methodName, plain, uploads.length, CALL_INVOKE);
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
      try {
        const { streamIds } = core.callWithUploads(methodName, plain, uploads.length, CALL_SEND);
        pumpUploads(core, uploads, streamIds);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  /**
   * Calls a streaming hub method. `subscribe({ next, error, complete })` receives its items
   * and returns `{ dispose() }`, which stops the stream on the hub (CancelInvocation). A
   * subscriber's `closed` is set once the stream ended for it.
   */
  stream(methodName, ...args) {
    // Before the module is ready there is no core, so the connection cannot be Connected.
    const core = this.#core.current ?? NOT_CONNECTED_CORE;
    const { plain, uploads } = splitUploads(args);
    const subscribers = [];
    const buffered = [];
    let ended = null;
    const close = (subscriber) => {
      if (subscriber && typeof subscriber === "object") subscriber.closed = true;
    };
    const sink = {
      next: (item) => (subscribers.length ? subscribers.forEach((s) => s.next?.(item)) : buffered.push(item)),
      error: (err) => {
        ended = { err };
        subscribers.forEach((s) => (close(s), s.error?.(err)));
      },
      complete: () => {
        ended = {};
        subscribers.forEach((s) => (close(s), s.complete?.()));
      },
    };
    let id = null;
    try {
      const started = core.callWithUploads(methodName, plain, uploads.length, CALL_STREAM, sink);
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
        if (ended) {
          queueMicrotask(() => {
            close(subscriber);
            ended.err ? subscriber.error?.(ended.err) : subscriber.complete?.();
          });
        }
        return {
          dispose() {
            const index = subscribers.indexOf(subscriber);
            if (index >= 0) subscribers.splice(index, 1);
            if (subscribers.length === 0 && id !== null && !ended) {
              core.write(WRITE_CANCEL_STREAM, id);
              ended = {};
            }
          },
        };
      },
    };
  }

  /** Registers a callback for when the connection closes for good (with an Error if it failed). */
  onclose(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(CALLBACK_ONCLOSE, callback));
  }

  /** Registers a callback for when the connection was lost and automatic reconnect begins. */
  onreconnecting(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(CALLBACK_ONRECONNECTING, callback));
  }

  /** Registers a callback for when the connection is back, groups re-joined, with the new id. */
  onreconnected(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(CALLBACK_ONRECONNECTED, callback));
  }

  /** Registers a callback for every state change: `{ previous, current, reason, attempt, nextRetryInMs, transport, connectionId }`. */
  onstatechange(callback) {
    if (typeof callback !== "function") return;
    this.#starter.addStateListener(callback);
    this.#core.later((core) => core.addCallback(CALLBACK_ONSTATECHANGE, callback));
  }

  /** Registers a callback for a group whose re-join failed after a reconnect: `{ join, leave, args, error }` (retried at the next reconnect). */
  onrejoinfailed(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(CALLBACK_ONREJOINFAILED, callback));
  }

  /** Joins a group by its hub methods, `{ join, leave, args }`, and re-joins it after every reconnect. */
  joinGroup(spec) {
    return this.#whenReady((core) => core.group(spec, true));
  }

  /** Leaves a group joined with `joinGroup` (same spec) and stops re-joining it. */
  leaveGroup(spec) {
    return this.#whenReady((core) => core.group(spec, false));
  }

  /** A snapshot: `{ state, transport, connectionId, lastMessageAt, rttMs, reconnectCount, duplicatesDropped }`. */
  health() {
    return this.#core.current?.read(READ_HEALTH) ?? { ...NEVER_CONNECTED_HEALTH };
  }

  /** Sends telemetry that is waiting for its batch now. */
  flushTelemetry() {
    // Before the core exists nothing was recorded, so there is nothing to send.
    this.#core.current?.write(WRITE_FLUSH_TELEMETRY);
  }
}

/** The `withUrl` options the core reads (the official client's, plus hubwire's `headers` use in every request). */
const CONNECTION_OPTIONS = [
  "skipNegotiation",
  "accessTokenFactory",
  "withCredentials",
  "transport",
  "headers",
  "timeout",
  "httpClient",
  "WebSocket",
  "EventSource",
  "logMessageContent",
];

/**
 * The core's `hubProtocol` setting for a MessagePack protocol object: its payload encoder and
 * decoder. hubwire/msgpack's class hands them over under a shared symbol; the official
 * package's class keeps an @msgpack/msgpack Encoder and Decoder built from the same options.
 */
function messagePackSetting(protocol) {
  const codec = protocol[Symbol.for("hubwire.payloadCodec")];
  // `module`: the wasm module with the MessagePack codec (wasm-full.js), which
  // MessagePackHubProtocol carries; the official package's protocol object has none, so the
  // connection imports it when it loads.
  if (codec) return { name: "messagepack", encode: codec.encode, decode: codec.decode, module: codec.module };
  const encoder = protocol._encoder;
  const decoder = protocol._decoder;
  if (typeof encoder?.encode === "function" && typeof decoder?.decode === "function") {
    return { name: "messagepack", encode: (value) => encoder.encode(value), decode: (bytes) => decoder.decode(bytes) };
  }
  throw new Error("A 'messagepack' protocol must be the MessagePackHubProtocol of 'hubwire/msgpack'.");
}

/** Builds a `HubConnection`, as `@microsoft/signalr`'s builder does. */
export class HubConnectionBuilder {
  /** The hub URL given to `withUrl` (as given; resolved by `build()`). */
  url = undefined;
  /** The options given to `withUrl`, merged over earlier calls. */
  httpConnectionOptions = undefined;
  /** The logger or level from `configureLogging`. */
  logger = undefined;
  /** The protocol from `withHubProtocol`. */
  protocol = undefined;
  /** The retry policy from `withAutomaticReconnect`. */
  reconnectPolicy = undefined;
  #settings = {};

  /** The hub URL, with a transport type or an options object. */
  withUrl(url, transportTypeOrOptions) {
    requireArgument(url, "url");
    if (typeof url !== "string" || url === "") throw new Error("The 'url' argument should not be empty.");
    this.url = url;
    this.httpConnectionOptions =
      typeof transportTypeOrOptions === "object" && transportTypeOrOptions !== null
        ? { ...this.httpConnectionOptions, ...transportTypeOrOptions }
        : { ...this.httpConnectionOptions, transport: transportTypeOrOptions };
    return this;
  }

  /**
   * Where log lines go: a `LogLevel` (console, from that level up), a level name ("warn",
   * "information", ...; an unknown one throws) or an `ILogger` (every line, the logger filters).
   */
  configureLogging(logging) {
    requireArgument(logging, "logging");
    this.logger = logging;
    Object.assign(this.#settings, { logger: undefined, logLevel: undefined }, loggingSetting(logging));
    return this;
  }

  /**
   * The hub protocol: `new JsonHubProtocol()` (or any protocol named "json"; the default), or
   * `new MessagePackHubProtocol(options)` from `hubwire/msgpack` (the official package's
   * `MessagePackHubProtocol` is accepted too). Any other throws here, naming it.
   */
  withHubProtocol(protocol) {
    requireArgument(protocol, "protocol");
    if (protocol.name === "json") {
      this.#settings.hubProtocol = undefined;
    } else if (protocol.name === "messagepack") {
      this.#settings.hubProtocol = messagePackSetting(protocol);
    } else {
      throw new Error(`hubwire speaks the 'json' and 'messagepack' hub protocols; '${String(protocol.name)}' is not supported.`);
    }
    this.protocol = protocol;
    return this;
  }

  /** Close the connection when the server is silent for this long (default 30 000 ms). */
  withServerTimeout(milliseconds) {
    requireArgument(milliseconds, "milliseconds");
    this.#settings.serverTimeoutInMilliseconds = milliseconds;
    return this;
  }

  /** Send a ping after this long without sending anything (default 15 000 ms). */
  withKeepAliveInterval(milliseconds) {
    requireArgument(milliseconds, "milliseconds");
    this.#settings.keepAliveIntervalInMilliseconds = milliseconds;
    return this;
  }

  /**
   * Reconnect automatically when the connection is lost. No argument: after 0, 2, 10 and 30 s,
   * then give up (the official default). An array: those delays in ms. An object with
   * `nextRetryDelayInMilliseconds(context)`: that policy (ms, or null to give up), called as a
   * method of the object. hubwire also takes `{ delays?, jitter?, keepTrying?, retryFirstStart? }`.
   * A second call throws, as in the official client.
   */
  withAutomaticReconnect(retryDelaysOrPolicy) {
    if (this.reconnectPolicy) throw new Error("A reconnectPolicy has already been set.");
    this.reconnectPolicy = retryDelaysOrPolicy || true;
    this.#settings.reconnect = this.reconnectPolicy;
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
    if (!this.url) {
      throw new Error("The 'HubConnectionBuilder.withUrl' method must be called before building the connection.");
    }
    const options = this.httpConnectionOptions ?? {};
    const settings = { ...this.#settings, url: resolveUrl(this.url) };
    for (const name of CONNECTION_OPTIONS) if (options[name] !== undefined) settings[name] = options[name];
    // As in the official client, the options' own logger (an ILogger or a LogLevel) wins over
    // configureLogging's for the connection's lines.
    if (options.logger !== undefined && options.logger !== null) {
      Object.assign(settings, { logger: undefined, logLevel: undefined }, loggingSetting(options.logger));
    }
    if (this.#tabSharing) return new TabSharedHubConnection(settings, this.#tabSharing, HubConnection);
    return new HubConnection(settings);
  }
}

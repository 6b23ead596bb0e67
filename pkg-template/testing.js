// hubwire/testing: an in-process SignalR hub for an app's tests (Vitest, Jest, Node's runner).
//
// The hub speaks the real protocol — negotiate (version 1), WebSockets, the JSON hub protocol
// with its 0x1E record separator, handshake, pings, invocations and completions, stream items,
// Close with allowReconnect — to the real hubwire client or to the official @microsoft/signalr
// client, with no network socket and no server process: every line of the client's own logic
// (reconnect schedule, group re-joins, dedupe, polling fallback) runs in the test. Hub methods
// are plain functions the test supplies.
//
// How a client reaches it, from the least to the most invasive:
//   - `withUrl(hub.url, hub.clientOptions)`: the hub's `WebSocket` class and `httpClient`, which
//     hubwire and the official client both take (`hub.fetch` answers the same for other code);
//   - `hub.install()`: the global `fetch` and `WebSocket` (and hubwire's own host classes, which
//     in Node under jsdom are not the globals) answer for the hub's URL and pass everything else
//     on, so an app that changes no connection code talks to the hub;
//   - MSW 2 handlers built on the same hub: `hubwire/testing/msw`.
//
// Time: the hub sends its keep-alive pings with the global `setTimeout`, looked up at each use,
// so under fake timers they come in fake time as a real server's do; everything else it does
// (opening a socket, delivering a frame, answering negotiate) is a promise job, which no fake
// timer API holds back. The client's own clock follows fake timers by itself (the package
// README's "Testing your app" has the recipes).
//
// Nothing here is imported by the other entries: an app bundle that does not import
// hubwire/testing contains none of it.

import { HttpClient, MessageType } from "./signalr-api.js";
import { baseHost, setTestHostOverrides } from "./wasm.js";

const RECORD_SEPARATOR = "\u001e";

/**
 * Real timers for the waits' deadlines and re-checks, which must run while a test's clock is
 * fake: Node's own `node:timers` (fake timers replace the globals, not the module), else the
 * globals as they were when this module was imported.
 */
const realTimers = globalThis.process?.getBuiltinModule?.("node:timers") ?? { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
const realSetTimeout = (callback, ms) => realTimers.setTimeout(callback, ms);
const realClearTimeout = (id) => realTimers.clearTimeout(id);

/** Runs `job` as a promise job: after the current code, before any timer, never faked. */
function later(job) {
  Promise.resolve().then(job);
}

/** The text of what a test threw or passed as an error. */
function errorText(error) {
  if (error == null) return "An error occurred on the test hub.";
  return String(error?.message ?? error);
}

/**
 * A hint for a wait that timed out while `queueMicrotask` is faked (Jest's default fake timers
 * fake it; @sinonjs/fake-timers marks what it installed with `.clock`): hubwire's WebAssembly
 * tasks run on it, so nothing moves until the fake clock does.
 */
function fakeMicrotaskHint() {
  return globalThis.queueMicrotask?.clock
    ? " (queueMicrotask is faked, and hubwire's WebAssembly tasks run on it: fake timers without it, e.g. jest.useFakeTimers({ doNotFake: [\"queueMicrotask\"] }))"
    : "";
}

let hubCount = 0;

function defaultUrl() {
  hubCount += 1;
  return `http://hub-${hubCount}.test/hub`;
}

function resolveUrl(url) {
  const base = globalThis.location?.href;
  return new URL(url, base && /^https?:/.test(base) ? base : "http://localhost/");
}

/** Whether `url` (http(s) or ws(s)) is on `hubUrl`'s origin and path (the query is ignored). */
function samePlace(url, hubUrl, suffix = "") {
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch {
    return false;
  }
  const scheme = parsed.protocol.replace(/^ws/, "http");
  return scheme === hubUrl.protocol && parsed.host === hubUrl.host && parsed.pathname.replace(/\/$/, "") === hubUrl.pathname.replace(/\/$/, "") + suffix;
}

function randomId() {
  return Array.from({ length: 22 }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 62)]).join("");
}

/** Reads a message body (string, ArrayBuffer, typed array, Blob-less) as text. */
function asText(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data) || Object.prototype.toString.call(data) === "[object ArrayBuffer]") {
    return new TextDecoder().decode(data);
  }
  return String(data ?? "");
}

// ---------------------------------------------------------------------------------------------
// The hub
// ---------------------------------------------------------------------------------------------

/** One client connection as the hub sees it. */
class HubSideConnection {
  constructor(hub, id, peer) {
    this.hub = hub;
    this.id = id;
    this.peer = peer;
    this.handshaken = false;
    this.closed = false;
    this.groups = new Set();
    this.buffer = "";
    this.pingTimer = null;
    /** invocationId -> iterator of a stream the hub is sending. */
    this.streams = new Map();
  }

  /** Sends one hub message (and arms the next keep-alive ping). */
  send(message) {
    if (this.closed) return;
    // A raw 0x1E inside a string would end the record early; a real server's JSON writer
    // escapes control characters the same way.
    this.peer.send(JSON.stringify(message).replace(/\u001e/g, "\\u001e") + RECORD_SEPARATOR);
    this.armPing();
  }

  armPing() {
    const interval = this.hub.keepAliveIntervalMs;
    if (!interval || this.closed) return;
    // Looked up now, so the ping comes in fake time when a test fakes timers.
    globalThis.clearTimeout(this.pingTimer);
    this.pingTimer = globalThis.setTimeout(() => {
      this.pingTimer = null;
      this.send({ type: MessageType.Ping });
    }, interval);
    this.pingTimer?.unref?.();
  }

  /** Forgets the connection: timers, streams, group memberships. */
  end() {
    if (this.closed) return;
    this.closed = true;
    globalThis.clearTimeout(this.pingTimer);
    for (const iterator of this.streams.values()) iterator.return?.();
    this.streams.clear();
    for (const group of this.groups) this.hub._leave(group, this.id);
    this.hub._connections.delete(this.id);
    this.hub._changed();
  }
}

/** The context a hub method is called with. */
function methodContext(hub, connection) {
  return {
    /** The calling connection's id. */
    connectionId: connection.id,
    /** The hub (publish, groups, ...). */
    hub,
    /** Adds the calling connection to `group`. */
    addToGroup(group) {
      hub._join(String(group), connection.id);
    },
    /** Removes the calling connection from `group`. */
    removeFromGroup(group) {
      hub._leave(String(group), connection.id);
    },
    /** Calls `target(...args)` on the calling client. */
    send(target, ...args) {
      hub._deliver(connection, target, args);
    },
  };
}

/**
 * An in-process SignalR hub. See `createTestHub`.
 */
export class TestHub {
  #url;
  #methods = new Map();
  #routes = [];
  #invocations = [];
  #attempts = [];
  #tokens = new Map();
  #groups = new Map();
  #refuse = 0;
  #failures = new Map();
  #sendTwice = 0;
  #waiters = new Set();
  #stopped = false;
  /** id -> HubSideConnection (internal to the kit). */
  _connections = new Map();

  constructor(options = {}) {
    this.#url = resolveUrl(options.url ?? defaultUrl());
    for (const [name, method] of Object.entries(options.methods ?? {})) {
      if (typeof method !== "function") throw new TypeError(`createTestHub: methods.${name} is not a function`);
      this.#methods.set(name.toLowerCase(), method);
    }
    for (const [route, answer] of Object.entries(options.http ?? {})) {
      const [method, path] = route.includes(" ") ? route.split(/\s+/, 2) : ["GET", route];
      this.#routes.push({ method: method.toUpperCase(), url: resolveUrl(path), answer });
    }
    this.keepAliveIntervalMs = options.keepAliveIntervalMs ?? 15_000;
    const hub = this;

    /** A WebSocket class whose sockets reach this hub (any other URL fails as unreachable). */
    this.WebSocket = makeWebSocketClass((url) => (hub._ownsSocket(url) ? hub : null), () => null);

    /** A `fetch` that answers this hub's negotiate (and the `http` routes); other URLs get 404. */
    this.fetch = (input, init) => hub._fetch(input, init, null);

    /** An `HttpClient` for @microsoft/signalr's `withUrl(url, { httpClient })`. */
    this.httpClient = new TestHttpClient(this);
  }

  /**
   * Options for a client's `withUrl(hub.url, hub.clientOptions)`: this hub's WebSocket class and
   * HttpClient (hubwire and @microsoft/signalr take both), so nothing global is touched.
   */
  get clientOptions() {
    return { WebSocket: this.WebSocket, httpClient: this.httpClient };
  }

  /** The hub's URL, for `withUrl` (http; its WebSocket is the ws twin). */
  get url() {
    return this.#url.href.replace(/\/$/, "");
  }

  /** Every hub method call the clients made, in order: `{ connectionId, method, args, kind }`. */
  get invocations() {
    return this.#invocations.map((record) => ({ ...record, args: [...record.args] }));
  }

  /** Every connect attempt, in order: `{ at (Date.now() then), kind: "negotiate" | "socket", refused }`. */
  get attempts() {
    return this.#attempts.map((attempt) => ({ ...attempt }));
  }

  /** The live connections: `{ id, groups }`. */
  get connections() {
    return [...this._connections.values()].filter((c) => c.handshaken).map((c) => ({ id: c.id, groups: [...c.groups] }));
  }

  /** Group name -> the ids of its connections (groups with members only). */
  get groups() {
    return Object.fromEntries([...this.#groups].filter(([, ids]) => ids.size > 0).map(([name, ids]) => [name, [...ids]]));
  }

  /**
   * Calls `target(...args)` on every connected client, or on the members of `options.group`,
   * or on one `options.connectionId`; returns how many clients it went to. The frames reach
   * the clients as promise jobs, after the calling code.
   */
  publish(target, args = [], options = {}) {
    const list = Array.isArray(args) ? args : [args];
    let targets = [...this._connections.values()].filter((c) => c.handshaken);
    if (options.group !== undefined) targets = targets.filter((c) => c.groups.has(String(options.group)));
    if (options.connectionId !== undefined) targets = targets.filter((c) => c.id === options.connectionId);
    for (const connection of targets) this._deliver(connection, target, list);
    return targets.length;
  }

  /** Drops every connection (or `options.connectionId`'s) as a network failure would: no Close message, close code 1006. */
  drop(options = {}) {
    for (const connection of this.#select(options)) {
      connection.peer.abort();
      connection.end();
    }
  }

  /** Closes every connection (or one) with a SignalR Close message: `{ error?, allowReconnect?, connectionId? }`. */
  close(options = {}) {
    for (const connection of this.#select(options)) {
      const message = { type: MessageType.Close };
      if (options.error !== undefined) message.error = errorText(options.error);
      if (options.allowReconnect) message.allowReconnect = true;
      connection.send(message);
      connection.peer.close(1000, "");
      connection.end();
    }
  }

  /** Refuses the next `count` connect attempts (negotiate answers 503; a socket without negotiate fails). */
  refuseConnects(count = 1) {
    this.#refuse = Math.max(0, Math.floor(Number(count) || 0));
  }

  /** Makes calls of `method` fail with `error` (the client sees its message); null makes them run again. `options.times` limits how many. */
  failMethod(method, error, options = {}) {
    const key = String(method).toLowerCase();
    if (error === null) this.#failures.delete(key);
    else this.#failures.set(key, { error: errorText(error), left: options.times ?? Infinity });
  }

  /** Sends each of the next `count` published invocations twice (as an at-least-once fan-out may). */
  sendTwice(count = 1) {
    this.#sendTwice = Math.max(0, Math.floor(Number(count) || 0));
  }

  /**
   * Resolves once `check(hub)` returns something truthy (with that value), re-checked whenever
   * the hub sees something happen. A string waits for that many calls (`count`, default 1) of
   * the hub method of that name. Rejects after `timeoutMs` of real time (default 5000),
   * saying what the hub saw.
   */
  waitFor(check, options = {}) {
    const count = options.count ?? 1;
    const callsOf = (method) => this.invocations.filter((call) => call.method.toLowerCase() === method.toLowerCase());
    const predicate = typeof check === "string" ? () => callsOf(check).length >= count && callsOf(check) : check;
    if (typeof predicate !== "function") return Promise.reject(new TypeError("waitFor takes a function or a hub method name"));
    const what = typeof check === "string" ? `${count} call(s) of ${check}` : options.what ?? "the condition";
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          let value;
          try {
            value = predicate(this);
          } catch (error) {
            finish();
            reject(error);
            return;
          }
          if (value) {
            finish();
            resolve(value);
          }
        },
      };
      // Also re-checked every few real milliseconds, for conditions on the client's side
      // that settle after the last frame (a React render, a promise chain).
      const poll = () => {
        waiter.check();
        if (this.#waiters.has(waiter)) waiter.poller = realSetTimeout(poll, 5);
      };
      const timer = realSetTimeout(() => {
        finish();
        reject(new Error(`TestHub.waitFor timed out after ${options.timeoutMs ?? 5000} ms waiting for ${what}; the hub saw ${this.#describe()}${fakeMicrotaskHint()}`));
      }, options.timeoutMs ?? 5000);
      const finish = () => {
        realClearTimeout(timer);
        realClearTimeout(waiter.poller);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      waiter.check();
      if (this.#waiters.has(waiter)) waiter.poller = realSetTimeout(poll, 5);
    });
  }

  /** Makes the global fetch and WebSocket (and hubwire's) reach this hub; returns `uninstall`. */
  install() {
    installHub(this);
    return () => uninstallHub(this);
  }

  /** Removes what `install()` put in place. */
  uninstall() {
    uninstallHub(this);
  }

  /** Drops every connection, stops the timers and uninstalls; the hub takes no more connections. */
  stop() {
    this.drop();
    this.#stopped = true;
    uninstallHub(this);
  }

  // ----- internals (used by the kit's transports) ------------------------------------------

  #describe() {
    const calls = this.#invocations.map((i) => i.method).join(", ") || "no calls";
    return `${this._connections.size} connection(s), ${this.#attempts.length} attempt(s), calls: ${calls}`;
  }

  #select(options) {
    const all = [...this._connections.values()];
    return options.connectionId === undefined ? all : all.filter((c) => c.id === options.connectionId);
  }

  /** @internal Whether a WebSocket to `url` is this hub's. */
  _ownsSocket(url) {
    return samePlace(url, this.#url);
  }

  /** @internal Whether `url` is this hub's (http(s) or ws(s), negotiate included). */
  _owns(url) {
    return samePlace(url, this.#url) || samePlace(url, this.#url, "/negotiate") || this.#routes.some((r) => samePlace(url, r.url));
  }

  /** @internal Re-checks the waiters after anything happened. */
  _changed() {
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  _join(group, id) {
    const connection = this._connections.get(id);
    if (!connection) return;
    connection.groups.add(group);
    if (!this.#groups.has(group)) this.#groups.set(group, new Set());
    this.#groups.get(group).add(id);
    this._changed();
  }

  _leave(group, id) {
    this._connections.get(id)?.groups.delete(group);
    this.#groups.get(group)?.delete(id);
    this._changed();
  }

  _deliver(connection, target, args) {
    const message = { type: MessageType.Invocation, target: String(target), arguments: args };
    connection.send(message);
    if (this.#sendTwice > 0) {
      this.#sendTwice -= 1;
      connection.send(message);
    }
  }

  /** Counts a connect attempt; whether it is refused. */
  #attempt(kind) {
    const refused = this.#stopped || this.#refuse > 0;
    if (this.#refuse > 0) this.#refuse -= 1;
    this.#attempts.push({ at: globalThis.Date.now(), kind, refused });
    this._changed();
    return refused;
  }

  /**
   * @internal Answers an HTTP request for this hub: `{ status, statusText, body, contentType }`,
   * or null when it is not the hub's (`fallback` then decides).
   */
  async _answer(method, url, bodyText) {
    if (samePlace(url, this.#url, "/negotiate")) {
      if (method !== "POST") return { status: 405, statusText: "Method Not Allowed", body: "" };
      if (this.#attempt("negotiate")) return { status: 503, statusText: "Service Unavailable", body: "" };
      const connectionId = randomId();
      const connectionToken = randomId();
      this.#tokens.set(connectionToken, connectionId);
      const version = Number(new URL(url).searchParams.get("negotiateVersion") ?? 0);
      const answer = {
        negotiateVersion: version >= 1 ? 1 : 0,
        connectionId,
        availableTransports: [{ transport: "WebSockets", transferFormats: ["Text", "Binary"] }],
      };
      if (version >= 1) answer.connectionToken = connectionToken;
      else this.#tokens.set(connectionId, connectionId);
      return { status: 200, statusText: "OK", body: JSON.stringify(answer), contentType: "application/json" };
    }
    for (const route of this.#routes) {
      if (route.method === method && samePlace(url, route.url)) {
        try {
          const value = typeof route.answer === "function" ? await route.answer({ url: new URL(url), method, body: bodyText }) : route.answer;
          return { status: 200, statusText: "OK", body: JSON.stringify(value ?? null), contentType: "application/json" };
        } catch (error) {
          return { status: 500, statusText: "Internal Server Error", body: JSON.stringify({ error: errorText(error) }), contentType: "application/json" };
        }
      }
    }
    if (samePlace(url, this.#url)) return { status: 404, statusText: "Not Found", body: "" };
    return null;
  }

  /** @internal fetch() for this hub; `fallback(input, init)` takes other URLs (else 404). */
  async _fetch(input, init, fallback) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : String(input?.url ?? input);
    if (!this._owns(url) && fallback) return fallback(input, init);
    const method = String(init?.method ?? input?.method ?? "GET").toUpperCase();
    let body = init?.body;
    if (body === undefined && typeof input?.text === "function" && method !== "GET" && method !== "HEAD") body = await input.text();
    const answer = (await this._answer(method, url, body == null ? "" : asText(body))) ?? { status: 404, statusText: "Not Found", body: "" };
    return makeResponse(answer, url);
  }

  /**
   * @internal A client socket connected to `url`; `peer` is `{ send(text), close(code,
   * reason), abort() }`. Returns `{ text(data), closed() }` for the client's side, or null
   * when the connection is refused (the caller fails the socket).
   */
  _accept(url, peer) {
    const token = new URL(String(url)).searchParams.get("id");
    let id;
    if (token !== null) {
      id = this.#tokens.get(token);
      this.#tokens.delete(token);
      if (id === undefined || this.#stopped) return null;
    } else {
      if (this.#attempt("socket")) return null;
      id = randomId();
    }
    const connection = new HubSideConnection(this, id, peer);
    this._connections.set(id, connection);
    return {
      text: (data) => this.#receive(connection, asText(data)),
      closed: () => connection.end(),
    };
  }

  #receive(connection, text) {
    if (connection.closed) return;
    connection.buffer += text;
    let end;
    while ((end = connection.buffer.indexOf(RECORD_SEPARATOR)) >= 0) {
      const record = connection.buffer.slice(0, end);
      connection.buffer = connection.buffer.slice(end + 1);
      let message;
      try {
        message = JSON.parse(record);
      } catch {
        this.#fail(connection, "The test hub received a frame that is not JSON.");
        return;
      }
      if (!connection.handshaken) {
        this.#handshake(connection, message);
      } else {
        this.#dispatch(connection, message);
      }
      if (connection.closed) return;
    }
  }

  #handshake(connection, message) {
    if (message?.protocol !== "json" || message?.version !== 1) {
      connection.peer.send(JSON.stringify({ error: `The test hub speaks the 'json' protocol, version 1 (asked: ${message?.protocol} ${message?.version}).` }) + RECORD_SEPARATOR);
      connection.peer.close(1000, "");
      connection.end();
      return;
    }
    connection.handshaken = true;
    connection.peer.send(`{}${RECORD_SEPARATOR}`);
    connection.armPing();
    this._changed();
  }

  #fail(connection, error) {
    connection.send({ type: MessageType.Close, error });
    connection.peer.close(1000, "");
    connection.end();
  }

  #dispatch(connection, message) {
    switch (message?.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        this.#invoke(connection, message);
        return;
      case MessageType.CancelInvocation: {
        const iterator = connection.streams.get(message.invocationId);
        connection.streams.delete(message.invocationId);
        iterator?.return?.();
        return;
      }
      case MessageType.Close:
        connection.peer.close(1000, "");
        connection.end();
        return;
      case MessageType.Ping:
      case MessageType.StreamItem:
      case MessageType.Completion:
      case MessageType.Ack:
      case MessageType.Sequence:
        // Client-to-server stream items and client results are accepted and not used.
        return;
      default:
        this.#fail(connection, `The test hub received an unknown message type: ${message?.type}.`);
    }
  }

  async #invoke(connection, message) {
    const method = String(message.target ?? "");
    const args = Array.isArray(message.arguments) ? message.arguments : [];
    const invocationId = message.invocationId;
    const streaming = message.type === MessageType.StreamInvocation;
    this.#invocations.push({ connectionId: connection.id, method, args, kind: streaming ? "stream" : invocationId === undefined ? "send" : "invoke" });
    this._changed();
    const complete = (fields) => {
      if (invocationId !== undefined) connection.send({ type: MessageType.Completion, invocationId, ...fields });
    };
    const failure = this.#failures.get(method.toLowerCase());
    if (failure) {
      failure.left -= 1;
      if (failure.left <= 0) this.#failures.delete(method.toLowerCase());
      complete({ error: failure.error });
      return;
    }
    const implementation = this.#methods.get(method.toLowerCase()) ?? ((_context, ...values) => values[0]);
    let result;
    try {
      result = await implementation(methodContext(this, connection), ...args);
    } catch (error) {
      complete({ error: errorText(error) });
      return;
    }
    if (!streaming) {
      complete(result === undefined ? {} : { result });
      return;
    }
    // An iterable (not a string) or async iterable gives the items; anything else is one item.
    const iterable = typeof result !== "string" && (result?.[Symbol.asyncIterator] || result?.[Symbol.iterator]);
    const iterator = iterable ? (result[Symbol.asyncIterator] ?? result[Symbol.iterator]).call(result) : [result][Symbol.iterator]();
    connection.streams.set(invocationId, iterator);
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done || !connection.streams.has(invocationId)) break;
        connection.send({ type: MessageType.StreamItem, invocationId, item: step.value });
      }
    } catch (error) {
      if (connection.streams.delete(invocationId)) complete({ error: errorText(error) });
      return;
    }
    if (connection.streams.delete(invocationId)) complete({});
  }
}

/** A fetch Response for an answer (the global class when there is one, else a look-alike). */
function makeResponse({ status, statusText, body, contentType }, url) {
  const headers = contentType ? { "content-type": contentType } : {};
  const Response = globalThis.Response;
  if (typeof Response === "function") {
    return new Response(status === 204 || status === 304 ? null : body, { status, statusText, headers });
  }
  const lower = new Map(Object.entries(headers));
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    url,
    headers: { get: (name) => lower.get(String(name).toLowerCase()) ?? null, has: (name) => lower.has(String(name).toLowerCase()) },
    text: async () => body,
    json: async () => JSON.parse(body),
  };
}

/** `HttpClient` for either client: `send(request)` answers from the hub (get/post/delete come from HttpClient). */
class TestHttpClient extends HttpClient {
  #hub;
  constructor(hub) {
    super();
    this.#hub = hub;
  }

  /** Resolves with `{ statusCode, statusText, content }`; rejects as the official FetchHttpClient does on a non-2xx status. */
  async send(request) {
    const body = request.content === undefined ? "" : asText(request.content);
    const answer = (await this.#hub._answer(String(request.method ?? "GET").toUpperCase(), String(request.url), body)) ?? {
      status: 404,
      statusText: "Not Found",
      body: "",
    };
    if (answer.status < 200 || answer.status > 299) {
      const error = new Error(answer.statusText || `Status code ${answer.status}`);
      error.statusCode = answer.status;
      throw error;
    }
    return { statusCode: answer.status, statusText: answer.statusText, content: answer.body };
  }
}

// ---------------------------------------------------------------------------------------------
// The WebSocket a client constructs
// ---------------------------------------------------------------------------------------------

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * A WebSocket class (the browser's API) whose sockets connect to the hub `findHub(url)` returns;
 * for a URL no hub owns, `fallbackClass()` builds the socket, or (when that gives null) it
 * fails as an unreachable server does (error, then close 1006).
 */
function makeWebSocketClass(findHub, fallbackClass) {
  function TestWebSocket(url, protocols, options) {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator.");
    const hub = findHub(String(url));
    if (!hub) {
      const Fallback = fallbackClass();
      if (Fallback) return Reflect.construct(Fallback, [...arguments].slice(0, Math.max(1, arguments.length)));
    }
    return new TestSocket(String(url), hub);
  }
  for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    Object.defineProperty(TestWebSocket, name, { value, enumerable: true });
  }
  return TestWebSocket;
}

/** One client-side socket of the test hub. */
class TestSocket {
  #listeners = new Map();
  #hubSide = null;

  constructor(url, hub) {
    this.url = url;
    this.protocol = "";
    this.extensions = "";
    this.binaryType = "blob";
    this.bufferedAmount = 0;
    this.readyState = CONNECTING;
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    later(() => {
      if (this.readyState !== CONNECTING) return;
      const peer = {
        send: (text) =>
          later(() => {
            if (this.readyState !== OPEN) return;
            this.#emit("message", { data: text });
            // What the client did with the frame may be what a waitFor waits for.
            later(() => hub._changed());
          }),
        close: (code, reason) => later(() => this.#finish(code, reason, true)),
        abort: () => later(() => this.#finish(1006, "", false)),
      };
      this.#hubSide = hub?._accept(url, peer) ?? null;
      if (!this.#hubSide) {
        this.#emit("error", { message: "The test hub refused the connection." });
        this.#finish(1006, "", false);
        return;
      }
      this.readyState = OPEN;
      this.#emit("open", {});
    });
  }

  send(data) {
    if (this.readyState === CONNECTING) throw new Error("InvalidStateError: the WebSocket is still connecting");
    if (this.readyState !== OPEN) return;
    const hubSide = this.#hubSide;
    later(() => hubSide.text(data));
  }

  close(code = 1000, reason = "") {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    const wasOpen = this.readyState === OPEN;
    this.readyState = CLOSING;
    const hubSide = this.#hubSide;
    later(() => {
      hubSide?.closed();
      this.#finish(wasOpen ? code : 1006, wasOpen ? reason : "", wasOpen);
    });
  }

  addEventListener(type, listener) {
    if (typeof listener !== "function" && typeof listener?.handleEvent !== "function") return;
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
  }

  removeEventListener(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  dispatchEvent(event) {
    this.#emit(event.type, event);
    return true;
  }

  #finish(code, reason, wasClean) {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#hubSide?.closed();
    this.#emit("close", { code, reason, wasClean });
  }

  #emit(type, fields) {
    const event = { ...fields, type, target: this, currentTarget: this };
    const handler = this[`on${type}`];
    if (typeof handler === "function") handler.call(this, event);
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      if (typeof listener === "function") listener.call(this, event);
      else listener.handleEvent(event);
    }
  }
}
for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(TestSocket.prototype, name, { value });
}

// ---------------------------------------------------------------------------------------------
// install(): the globals and hubwire's host classes
// ---------------------------------------------------------------------------------------------

const installed = new Set();
let saved = null;

/** The installed hub that answers HTTP requests to `url`, or null. */
function owner(url) {
  for (const hub of installed) if (hub._owns(url)) return hub;
  return null;
}

/** The installed hub that takes WebSockets to `url`, or null. */
function socketOwner(url) {
  for (const hub of installed) if (hub._ownsSocket(url)) return hub;
  return null;
}

function routingFetch(fallback) {
  return function fetch(input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : String(input?.url ?? input);
    const hub = owner(url);
    if (hub) return hub._fetch(input, init, null);
    const next = fallback();
    if (typeof next !== "function") return Promise.reject(new TypeError(`fetch is not available here (asked for ${url})`));
    return next(input, init);
  };
}

function installHub(hub) {
  if (installed.has(hub)) return;
  installed.add(hub);
  if (installed.size > 1) return;
  saved = { fetch: globalThis.fetch, WebSocket: globalThis.WebSocket };
  const savedNow = saved;
  globalThis.fetch = routingFetch(() => savedNow.fetch);
  globalThis.WebSocket = makeWebSocketClass(socketOwner, () => savedNow.WebSocket ?? null);
  // hubwire's shell may use other classes than the globals (Node under jsdom: `ws`); these
  // route the hub's URLs here and pass the rest to what the shell would have used.
  setTestHostOverrides({ fetch: routingFetch(() => baseHost("fetch")), WebSocket: makeWebSocketClass(socketOwner, () => baseHost("WebSocket") ?? null) });
}

function uninstallHub(hub) {
  if (!installed.delete(hub) || installed.size > 0) return;
  globalThis.fetch = saved.fetch;
  globalThis.WebSocket = saved.WebSocket;
  saved = null;
  setTestHostOverrides(null);
}

/**
 * An in-process SignalR hub for tests.
 *
 *   const hub = createTestHub({ methods: { JoinUserGroup: (ctx, id) => ctx.addToGroup(`user:${id}`) } });
 *
 * `options.url` (default a unique http://hub-N.test/hub), `options.methods` (name -> `(ctx,
 * ...args)`; unnamed methods echo their first argument), `options.http` ("GET /path" -> a JSON
 * value or a function of `{ url, method, body }`: endpoints answered next to the hub, e.g. a
 * poll), `options.keepAliveIntervalMs` (default 15 000; 0: no pings).
 */
export function createTestHub(options) {
  return new TestHub(options);
}

/** Makes hubwire's shell use the global `fetch` and `WebSocket` at each use (for MSW, which replaces them). */
export function useGlobalHostClasses() {
  const follow = (name) =>
    function (...args) {
      return Reflect.construct(globalThis[name], args);
    };
  setTestHostOverrides({ fetch: (...args) => globalThis.fetch(...args), WebSocket: follow("WebSocket") });
  return () => setTestHostOverrides(null);
}

/** Resolves once `connection.state` is `state` (re-checked at each state change); rejects after `timeoutMs` of real time. */
export function waitForState(connection, state, { timeoutMs = 5000 } = {}) {
  if (connection.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = realSetTimeout(() => {
      done = true;
      reject(new Error(`waitForState: still ${connection.state} after ${timeoutMs} ms, not ${state}${fakeMicrotaskHint()}`));
    }, timeoutMs);
    connection.onstatechange?.((change) => {
      if (!done && change.current === state) {
        done = true;
        realClearTimeout(timer);
        resolve();
      }
    });
  });
}

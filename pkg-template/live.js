// hubwire/live: live subscriptions — push when it works, polling when it doesn't, behind a
// feature flag, one deduped stream — over a HubConnection or a plain JSON WebSocket.
//
// Every decision (when to poll, when to fall back, what to deliver, when to read the flag) is
// made by the WebAssembly core (SubscriptionCore). This file only adapts shapes: it normalizes
// the spec, keeps the app's listeners and async iterators, and owns the *push adapter*, which
// uses a connection through its public API on the core's request:
//
//   attach  → listen for the event, join the group, start the connection if it is Disconnected
//   detach  → stop listening, leave the group, stop the connection if a subscription started it
//             and no other subscription still uses it
//
// and reports the connection's health back (pushUp / pushDown) from its state changes. With the
// flag off the core never asks to attach, so no connection is opened for the subscription.
//
// As in index.js, importing does nothing: the classes are built synchronously and their cores
// once the WebAssembly module is ready (LazyCore). A subscription is a use: subscribing loads
// the module and starts the core as soon as it is there.

import { HubConnection } from "./index.js";
import { TabSharedHubConnection, TabSharedPlainConnection } from "./tabs.js";
import { LazyCore, LazyStart, ready } from "./wasm.js";
// Live subscriptions and plain connections are in the full wasm module (cargo feature `live`).
import { fullModule } from "./wasm-full.js";

export { ready };

function resolveUrl(url) {
  // Relative URLs are resolved against the page, as HubConnectionBuilder does; ws(s) URLs and
  // absolute http(s) URLs pass through.
  const base = globalThis.location?.href;
  return base ? new URL(url, base).href : url;
}

function warn(message) {
  console.warn(`[hubwire] ${message}`);
}

// ----- plain JSON WebSocket connections ----------------------------------------------------

// The core's callback kinds, the numbers PlainConnectionCore's `addCallback(kind, callback)`
// takes (CallbackKind in src/web/plain.rs).
const PLAIN_ONCLOSE = 0;
const PLAIN_ONRECONNECTING = 1;
const PLAIN_ONRECONNECTED = 2;
const PLAIN_ONSTATECHANGE = 3;

/**
 * A connection to a WebSocket endpoint whose server sends `{ type, payload }` JSON messages.
 * Managed like a HubConnection: reconnects on the same schedule (`reconnect` takes the shapes of
 * `withAutomaticReconnect`, default 0, 2, 10, 30 s; `false` turns it off), except after a normal
 * closure (code 1000) by the server. `accessTokenFactory`'s token goes in the query
 * (`tokenParam`, default `access_token`).
 */
export class PlainSocketConnection {
  #core;

  constructor(url, options = {}) {
    if (typeof url !== "string" || url === "") throw new Error("The 'url' argument is required.");
    if (options.shareAcrossTabs) {
      // One socket for the tabs of this origin (tabs.js); the leading tab's is an unshared one.
      const unshared = { ...options, shareAcrossTabs: false };
      return new TabSharedPlainConnection(resolveUrl(url), options, () => new PlainSocketConnection(url, unshared), PlainSocketConnection);
    }
    const { accessTokenFactory, tokenParam, reconnect, openTimeoutMs, browserLifecycle, logLevel, telemetry } = options;
    const settings = {
      url: resolveUrl(url),
      accessTokenFactory,
      tokenParam,
      reconnect,
      openTimeoutMs,
      browserLifecycle,
      logLevel,
      telemetry: typeof telemetry === "function" ? telemetry : telemetry?.onEvent,
    };
    this.#core = new LazyCore((wasm) => new wasm.PlainConnectionCore(settings), ["live"], fullModule);
    this.#starter = new LazyStart(this.#core, "The connection is already starting.");
  }

  /** start()/stop() while the module may still be loading. */
  #starter;

  /** The current state: "Disconnected", "Connecting", "Connected", "Reconnecting" or "Disconnecting". */
  get state() {
    if (this.#starter.pending) return "Connecting";
    return this.#core.current?.state ?? "Disconnected";
  }

  /** Successful reconnects so far. */
  get reconnectCount() {
    return this.#core.current?.reconnectCount ?? 0;
  }

  /** Connects (instantiating the WebAssembly module first when needed); resolves once the socket is open. */
  start() {
    return this.#starter.start();
  }

  /** Disconnects; resolves once Disconnected. */
  stop() {
    return this.#starter.stop();
  }

  /** Calls `handler(payload, type)` for every message of `type` (exact match). */
  on(type, handler) {
    if (typeof type === "string" && typeof handler === "function") this.#core.later((core) => core.on(type, handler));
  }

  /** Removes `handler` from `type`, or every handler of it. */
  off(type, handler) {
    if (typeof type === "string") this.#core.later((core) => core.off(type, typeof handler === "function" ? handler : undefined));
  }

  /** Sends `{ type, payload }`; resolves once handed to the socket. */
  send(type, payload) {
    const core = this.#core.current;
    return core ? core.send(type, payload) : this.#core.get().then((core) => core.send(type, payload));
  }

  /** Registers a callback for when the connection ends for good (with an Error if it failed). */
  onclose(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(PLAIN_ONCLOSE, callback));
  }

  /** Registers a callback for when the connection was lost and is being retried. */
  onreconnecting(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(PLAIN_ONRECONNECTING, callback));
  }

  /** Registers a callback for when the connection is back. */
  onreconnected(callback) {
    if (typeof callback === "function") this.#core.later((core) => core.addCallback(PLAIN_ONRECONNECTED, callback));
  }

  /** Registers a callback for every state change, shaped as HubConnection's. */
  onstatechange(callback) {
    if (typeof callback !== "function") return;
    this.#starter.addStateListener(callback);
    this.#core.later((core) => core.addCallback(PLAIN_ONSTATECHANGE, callback));
  }
}

/** A `PlainSocketConnection`, already starting. Start failures show in `state` and `onstatechange`. */
export function connectPlain(url, options) {
  const connection = new PlainSocketConnection(url, options);
  connection.start().catch(() => {});
  return connection;
}

// ----- using a connection on behalf of subscriptions ---------------------------------------

/** Per connection: who uses it, whether a subscription started it, and shared group joins. */
class Lease {
  users = new Set();
  startedHere = false;
  groups = new Map(); // group key -> { count, joined: Promise }

  constructor(connection) {
    this.connection = connection;
    // Registered once per connection (there is no way to unregister), fanned out to the users.
    connection.onstatechange((change) => {
      for (const user of [...this.users]) user.stateChanged(change);
    });
  }

  join(group) {
    const key = JSON.stringify([group.join, group.leave, group.args ?? []]);
    let entry = this.groups.get(key);
    if (!entry) {
      entry = { count: 0, joined: this.connection.joinGroup(group) };
      entry.joined.catch(() => {}); // each user handles the outcome on its own promise
      this.groups.set(key, entry);
    }
    entry.count += 1;
    return entry.joined;
  }

  leave(group) {
    const key = JSON.stringify([group.join, group.leave, group.args ?? []]);
    const entry = this.groups.get(key);
    if (!entry || --entry.count > 0) return;
    this.groups.delete(key);
    this.connection.leaveGroup(group).catch((error) => warn(`leaving ${group.leave} failed: ${error?.message ?? error}`));
  }
}

const leases = new WeakMap();

function leaseOf(connection) {
  let lease = leases.get(connection);
  if (!lease) {
    lease = new Lease(connection);
    leases.set(connection, lease);
  }
  return lease;
}

/** Uses one connection for one subscription, on the core's attach/detach requests. */
class PushAdapter {
  #source;
  #connection = null;
  #name;
  #group;
  #core = null;
  #attachment = 0; // bumped on every attach/detach, so late join answers of an old one are ignored
  #attached = false;
  #groupReady = false;
  #handler = (payload) => this.#core?.pushed(payload);

  constructor(source, name, group) {
    this.#source = source;
    this.#name = name;
    this.#group = group;
  }

  bind(core) {
    this.#core = core;
  }

  #resolve() {
    if (!this.#connection) {
      const connection = typeof this.#source === "function" ? this.#source() : this.#source;
      if (!connection || typeof connection.onstatechange !== "function" || typeof connection.on !== "function") {
        throw new Error("The connection factory must return a HubConnection or PlainSocketConnection.");
      }
      if (this.#group && typeof connection.joinGroup !== "function") {
        throw new Error("A group needs a HubConnection; plain WebSocket connections have no groups.");
      }
      this.#connection = connection;
    }
    return this.#connection;
  }

  get connection() {
    return this.#connection;
  }

  attach() {
    let connection;
    try {
      connection = this.#resolve();
    } catch (error) {
      queueMicrotask(() => this.#core?.pushDown(error.message, false));
      return;
    }
    const attachment = ++this.#attachment;
    const lease = leaseOf(connection);
    this.#attached = true;
    this.#groupReady = !this.#group;
    lease.users.add(this);
    connection.on(this.#name, this.#handler);
    if (this.#group) {
      lease.join(this.#group).then(
        () => {
          if (attachment !== this.#attachment) return;
          this.#groupReady = true;
          if (connection.state === "Connected") this.#core?.pushUp();
        },
        (error) => {
          if (attachment !== this.#attachment) return;
          this.#core?.pushDown(`joining the group failed: ${error?.message ?? error}`, false);
        },
      );
    }
    if (connection.state === "Disconnected") {
      lease.startedHere = true;
      connection.start().catch(() => {}); // a failure arrives as a state change
      return;
    }
    // Report what the connection is doing now, once this call has returned to the core.
    queueMicrotask(() => {
      if (attachment !== this.#attachment) return;
      if (connection.state === "Connected" && this.#groupReady) this.#core?.pushUp();
      else if (connection.state === "Reconnecting") this.#core?.pushDown("reconnecting", true);
    });
  }

  detach() {
    const connection = this.#connection;
    if (!this.#attached || !connection) return;
    this.#attachment += 1;
    this.#attached = false;
    const lease = leaseOf(connection);
    connection.off(this.#name, this.#handler);
    lease.users.delete(this);
    if (this.#group) lease.leave(this.#group);
    if (lease.users.size === 0 && lease.startedHere) {
      lease.startedHere = false;
      connection.stop().catch(() => {});
    }
  }

  stateChanged(change) {
    if (!this.#attached) return;
    switch (change.current) {
      case "Connected":
        // After a reconnect, Connected comes once the groups are re-joined.
        if (this.#groupReady) this.#core?.pushUp();
        break;
      case "Reconnecting":
        this.#core?.pushDown(change.reason || "reconnecting", true);
        break;
      case "Disconnected":
        this.#core?.pushDown(change.reason || "disconnected", false);
        break;
      default:
        break;
    }
  }
}

// ----- subscriptions -------------------------------------------------------------------------

function accessor(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "function") return value;
  if (typeof value === "string") return (item) => item?.[value];
  throw new Error(`'${what}' must be a function or a property name.`);
}

function normalize(connection, spec) {
  if (!spec || typeof spec !== "object") throw new Error("subscribe needs a spec object.");
  const name = spec.event ?? spec.type;
  if (connection && (typeof name !== "string" || name === "")) {
    throw new Error("A subscription over a connection needs the 'event' (hub) or 'type' (plain WebSocket) to listen for.");
  }
  let poll = spec.poll;
  let intervalMs = spec.intervalMs;
  let map = spec.map;
  let pollTimeoutMs = spec.pollTimeoutMs;
  if (poll && typeof poll === "object") {
    intervalMs = poll.intervalMs ?? intervalMs;
    map = poll.map ?? map;
    pollTimeoutMs = poll.timeoutMs ?? pollTimeoutMs;
    poll = poll.url ?? poll.fetch;
  }
  if (poll !== undefined && typeof poll !== "string" && typeof poll !== "function") {
    throw new Error("'poll' must be a URL, an async function, or { url | fetch, intervalMs?, map? }.");
  }
  if (!connection && poll === undefined) throw new Error("A subscription needs a connection, a poll, or both.");
  if (map !== undefined && typeof map !== "function") throw new Error("'map' must be a function.");
  let flag = spec.flag;
  if (flag && typeof flag === "object") flag = { ...flag, url: flag.url && resolveUrl(flag.url) };
  return {
    hasPush: Boolean(connection),
    poll: typeof poll === "string" ? resolveUrl(poll) : poll,
    intervalMs,
    map,
    pollTimeoutMs,
    maxBackoffMs: spec.maxBackoffMs,
    key: accessor(spec.key, "key"),
    version: accessor(spec.version, "version"),
    filter: spec.filter,
    flag,
    flagRefreshMs: spec.flagRefreshMs,
    fallbackAfterMs: spec.fallbackAfterMs,
    withCredentials: spec.withCredentials,
    // A poll URL names the subscription by its path only: its query may carry a token, and
    // the name goes into every telemetry record.
    name: spec.name ?? name ?? (typeof poll === "string" ? poll.split(/[?#]/)[0] : "subscription"),
  };
}

/** `stats()` of a subscription whose core was never made. */
const NO_STATS = Object.freeze({ delivered: 0, pollsMade: 0, pollsFailed: 0, duplicatesDropped: 0, sourceSwitches: 0, fallbacks: 0 });

/**
 * One live value: updates from push and polling, deduped by `key`/`version`, delivered once and
 * never backwards. Create with `subscribe(connection, spec)`.
 */
export class LiveSubscription {
  #lazy;
  #adapter;
  #updateListeners = new Set();
  #sourceListeners = new Set();
  #iterators = new Set();
  #closed = false;
  #final = null; // { current, flag, stats } kept after unsubscribe, once the core is released

  constructor(connection, spec) {
    const options = normalize(connection, spec);
    this.#adapter = connection ? new PushAdapter(connection, spec.event ?? spec.type, spec.group) : null;
    const onTelemetry = typeof spec.onTelemetry === "function" ? spec.onTelemetry : undefined;
    this.#lazy = new LazyCore((wasm) => {
      const core = new wasm.SubscriptionCore(options, {
        attach: () => this.#adapter?.attach(),
        detach: () => this.#adapter?.detach(),
        update: (value, origin) => this.#deliver(value, origin),
        source: (current, previous) => {
          for (const listener of [...this.#sourceListeners]) call(listener, { current, previous });
        },
        telemetry: onTelemetry,
      });
      this.#adapter?.bind(core);
      return core;
    }, ["live"], fullModule);
    if (typeof spec.onUpdate === "function") this.onUpdate(spec.onUpdate);
    this.#lazy.later((core) => core.start());
    // Subscribing is a use: load the module now, so the queued start runs as soon as it can.
    if (!this.#lazy.current) this.#lazy.get().catch((error) => this.#closed || warn(`the subscription could not start: ${error?.message ?? error}`));
  }

  /** The core once the module is ready (null before, and after unsubscribe). */
  get #core() {
    return this.#lazy.current;
  }

  /** The latest value delivered, or undefined before the first. */
  get current() {
    return this.#final ? this.#final.current : this.#core?.current;
  }

  /** Where updates come from now: "push", "polling" or "idle". */
  get source() {
    return this.#final ? "idle" : (this.#core?.source ?? "idle");
  }

  /** The flag in force: true, false, or undefined before it was read. */
  get flag() {
    return this.#final ? this.#final.flag : this.#core?.flag;
  }

  /** The connection this subscription pushes over, once it was first needed. */
  get connection() {
    return this.#adapter?.connection ?? null;
  }

  /** Calls `listener(value, { source: "push" | "poll" })` for every delivered update; returns a remover. */
  onUpdate(listener) {
    if (typeof listener !== "function") return () => {};
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  /** Calls `listener({ current, previous })` when the source changes; returns a remover. */
  onSourceChange(listener) {
    if (typeof listener !== "function") return () => {};
    this.#sourceListeners.add(listener);
    return () => this.#sourceListeners.delete(listener);
  }

  /** Re-reads the flag and polls now; resolves once that poll settled. Never rejects. */
  refresh() {
    if (this.#closed) return Promise.resolve();
    const core = this.#core;
    if (core) return core.refresh();
    return this.#lazy.get().then(
      (core) => (this.#closed ? undefined : core.refresh()),
      () => undefined, // the load failure was reported when subscribing
    );
  }

  /** Counters: `{ delivered, pollsMade, pollsFailed, duplicatesDropped, sourceSwitches, fallbacks }`. */
  stats() {
    if (this.#final) return { ...this.#final.stats };
    return this.#core?.stats() ?? { ...NO_STATS };
  }

  /** Stops for good: no more updates, polls or flag reads; leaves the group; releases the connection. */
  unsubscribe() {
    if (this.#closed) return;
    this.#closed = true;
    const core = this.#core;
    if (!core) {
      // The module was not ready: the core was never made, so there is nothing to release.
      this.#lazy.cancel();
      this.#final = { current: undefined, flag: undefined, stats: { ...NO_STATS } };
      for (const iterator of [...this.#iterators]) iterator.end();
      this.#iterators.clear();
      this.#updateListeners.clear();
      this.#sourceListeners.clear();
      return;
    }
    core.unsubscribe();
    this.#adapter?.bind(null);
    for (const iterator of [...this.#iterators]) iterator.end();
    this.#iterators.clear();
    this.#updateListeners.clear();
    this.#sourceListeners.clear();
    // WebAssembly objects are not garbage-collected: release this one once the current call
    // stack (which may be inside one of its own callbacks) has returned.
    const final = { current: core.current, flag: core.flag, stats: core.stats() };
    queueMicrotask(() => {
      this.#final = final;
      core.free();
    });
  }

  /** `for await (const value of subscription)`: the current value (if any), then every update until unsubscribed. */
  [Symbol.asyncIterator]() {
    const queue = this.current === undefined ? [] : [this.current];
    let wake = null;
    let done = this.#closed;
    const iterators = this.#iterators;
    const iterator = {
      push(value) {
        if (wake) {
          wake({ value, done: false });
          wake = null;
        } else {
          queue.push(value);
        }
      },
      end() {
        done = true;
        if (wake) {
          wake({ value: undefined, done: true });
          wake = null;
        }
      },
      next() {
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return() {
        iterators.delete(iterator);
        queue.length = 0;
        iterator.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    if (!done) iterators.add(iterator);
    return iterator;
  }

  #deliver(value, origin) {
    for (const listener of [...this.#updateListeners]) call(listener, value, { source: origin });
    for (const iterator of this.#iterators) iterator.push(value);
  }
}

function call(listener, ...args) {
  try {
    listener(...args);
  } catch (error) {
    warn(`a subscription listener threw: ${error?.message ?? error}`);
  }
}

/**
 * Subscribes to one live value: `subscribe(connection, spec)` or `subscribe(spec)` with
 * `spec.connection`. `connection` is a HubConnection, a PlainSocketConnection, a function
 * returning one (called the first time push is needed), or null for polling only.
 */
export function subscribe(connectionOrSpec, spec) {
  if (spec === undefined && connectionOrSpec && typeof connectionOrSpec === "object" && !isConnection(connectionOrSpec)) {
    return new LiveSubscription(connectionOrSpec.connection ?? null, connectionOrSpec);
  }
  return new LiveSubscription(connectionOrSpec ?? null, spec);
}

function isConnection(value) {
  return value instanceof HubConnection || value instanceof PlainSocketConnection || value instanceof TabSharedHubConnection || value instanceof TabSharedPlainConnection;
}

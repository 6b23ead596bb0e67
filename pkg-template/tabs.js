// The connections an app holds when it shares one across tabs (`withTabSharing()`,
// `connectPlain(url, { shareAcrossTabs })`): TabSharedHubConnection and TabSharedPlainConnection.
//
// Owns only the facades, which index.js and live.js import statically. The machinery behind
// them (election by Web Locks, the BroadcastChannel, epochs, the leader's bookkeeping: TabLink)
// is in tab-link.js, which this file imports with import() when the first tab-shared
// connection is built, so bundlers split it into its own chunk and an app that never shares a
// connection never downloads it. See tab-link.js for how the sharing works.
//
// The facades stay synchronous to build, as HubConnection does while its wasm loads, and with
// the same tools (wasm.js): each holds its TabLink in a LazyCore, built on tab-link.js as the
// "module", so registrations made before the chunk arrives are queued and replayed in order;
// start() goes through LazyStart. Until then the getters answer what a connection that has not
// connected yet would: state "Disconnected" (or "Connecting" once start() was called), no
// connection id, and `tabSharing` with role "idle" (or "waiting"), since no leader is known.

import { LazyCore, LazyStart } from "./wasm.js";

const NOT_CONNECTED = "Cannot send data if the connection is not in the 'Connected' State.";
const ALREADY_STARTING = "Cannot start a connection that is not in the 'Disconnected' state.";

/** Why tab sharing cannot work in this runtime, or null when it can. */
export function tabSharingUnavailable() {
  if (typeof globalThis.BroadcastChannel !== "function") return "this browser has no BroadcastChannel";
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof locks.request !== "function" || typeof locks.query !== "function") return "this browser has no Web Locks API";
  return null;
}

function randomId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto?.getRandomValues?.(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") || String(Math.random()).slice(2);
}

function errorText(error) {
  return String(error?.message ?? error ?? "unknown error");
}

/** A stream result that has already failed (also tab-link.js's). */
export function endedStream(error) {
  return {
    subscribe(subscriber) {
      queueMicrotask(() => subscriber.error?.(error));
      return { dispose() {} };
    },
  };
}

/** Links a facade's prototype to the class it stands for, once, so `instanceof` holds. */
const linked = new WeakSet();
function linkPrototype(Facade, Base) {
  if (linked.has(Facade) || typeof Base !== "function") return;
  linked.add(Facade);
  Object.setPrototypeOf(Facade.prototype, Base.prototype);
}

/**
 * tab-link.js, imported once for every tab-shared connection of the page. It has the shape
 * LazyCore asks of a module (`loaded`, `glue`, `ready()`), the "glue" being the imported file's
 * exports. A failed import is not kept: the next start() tries again.
 */
const tabLinkCode = {
  glue: null,
  loading: null,
  get loaded() {
    return this.glue !== null;
  },
  ready() {
    this.loading ??= import("./tab-link.js").then(
      (exports) => {
        this.glue = exports;
      },
      (error) => {
        this.loading = null;
        throw new Error(`hubwire: the tab-sharing code (tab-link.js) could not be loaded: ${errorText(error)}`, { cause: error });
      },
    );
    return this.loading;
  },
};

/**
 * A facade's TabLink, made once tab-link.js is there (at once when it already is). `owner` is
 * the facade (`this` of the app's handlers); `tab` its `{ tabId, unavailable }`.
 */
function lazyLink(owner, kind, url, options, makeInner, telemetry, tab) {
  const link = new LazyCore(
    (code) => {
      const made = new code.TabLink(kind, url, options, makeInner, telemetry, tab);
      made.owner = owner;
      return made;
    },
    [],
    tabLinkCode,
  );
  // Fetched from now on, so that start() seldom waits; a failure is start()'s to report.
  if (!tabLinkCode.loaded) tabLinkCode.ready().catch(() => {});
  return link;
}

/**
 * Runs `op(link)` after the calls queued before it (at once when the link exists); a promise of
 * what it returns, rejected when tab-link.js cannot be loaded.
 */
function whenLinked(lazy, op) {
  const link = lazy.current;
  if (link) return op(link);
  return new Promise((resolve, reject) => {
    // A call rejected because the file could not be loaded is dropped: a later start() that
    // loads it must not perform it behind the app's back (registrations, by contrast, stay).
    let settled = false;
    lazy.later((made) => {
      if (settled) return;
      settled = true;
      try {
        resolve(op(made));
      } catch (error) {
        reject(error);
      }
    });
    lazy.get().catch((error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

/** `health().tabSharing` (and `tabSharing`) while this tab cannot know a leader: before tab-link.js is there, or while start() waits for it. */
function sharingBeforeLink(tab, starting) {
  if (tab.unavailable) return { shared: false, role: "alone", reason: tab.unavailable, tabId: tab.tabId, leaderTabId: null, failovers: 0 };
  return { shared: true, role: starting ? "waiting" : "idle", tabId: tab.tabId, leaderTabId: null, failovers: 0 };
}

const NEVER_CONNECTED_HEALTH = Object.freeze({
  state: "Disconnected",
  transport: null,
  connectionId: null,
  lastMessageAt: null,
  rttMs: null,
  reconnectCount: 0,
  duplicatesDropped: 0,
});

/**
 * A HubConnection shared across tabs (`HubConnectionBuilder.withTabSharing()`): the same API,
 * over the leading tab's real connection.
 */
export class TabSharedHubConnection {
  /** LazyCore of this tab's TabLink. */
  #link;
  #starter;
  #settings;
  #tab;

  /** @internal Use `HubConnectionBuilder.withTabSharing(options).build()`. */
  constructor(settings, options, HubConnectionClass) {
    linkPrototype(TabSharedHubConnection, HubConnectionClass);
    this.#settings = { ...settings };
    this.#tab = { tabId: randomId(), unavailable: tabSharingUnavailable() };
    this.#link = lazyLink(this, "hub", settings.url, options, () => new HubConnectionClass({ ...this.#settings }), settings.telemetry, this.#tab);
    this.#starter = new LazyStart(this.#link, ALREADY_STARTING);
  }

  /** The hub URL. It names the sharing, so it cannot change (build another connection). */
  get baseUrl() {
    return this.#link.current?.inner?.baseUrl ?? this.#settings.url;
  }

  set baseUrl(url) {
    throw new Error("The url of a tab-shared HubConnection cannot change: it names the connection the tabs share. Build another connection.");
  }

  /** As HubConnection's; a change applies to the real connection when this tab leads, and whenever it takes the lead. */
  get serverTimeoutInMilliseconds() {
    return this.#link.current?.inner?.serverTimeoutInMilliseconds ?? this.#settings.serverTimeoutInMilliseconds ?? 30_000;
  }

  set serverTimeoutInMilliseconds(milliseconds) {
    const inner = this.#link.current?.inner;
    if (inner) inner.serverTimeoutInMilliseconds = milliseconds; // checks the value
    this.#settings.serverTimeoutInMilliseconds = milliseconds;
  }

  get keepAliveIntervalInMilliseconds() {
    return this.#link.current?.inner?.keepAliveIntervalInMilliseconds ?? this.#settings.keepAliveIntervalInMilliseconds ?? 15_000;
  }

  set keepAliveIntervalInMilliseconds(milliseconds) {
    const inner = this.#link.current?.inner;
    if (inner) inner.keepAliveIntervalInMilliseconds = milliseconds;
    this.#settings.keepAliveIntervalInMilliseconds = milliseconds;
  }

  get state() {
    if (this.#starter.pending) return "Connecting";
    const link = this.#link.current;
    if (!link) return "Disconnected";
    return link.role === "alone" ? link.inner.state : link.state;
  }

  get connectionId() {
    const link = this.#starter.pending ? null : this.#link.current;
    if (!link) return null;
    return link.role === "alone" ? link.inner.connectionId : link.connectionId;
  }

  /** Joins the sharing (loading tab-link.js first when needed); resolves once the shared connection is Connected. */
  start() {
    return this.#starter.start();
  }

  stop() {
    return this.#starter.stop();
  }

  on(methodName, newMethod, options) {
    if (!methodName || typeof newMethod !== "function") return;
    this.#link.later((link) => link.on(methodName, newMethod, options));
  }

  off(methodName, method) {
    if (methodName) this.#link.later((link) => link.off(methodName, method));
  }

  invoke(methodName, ...args) {
    return whenLinked(this.#link, (link) => link.call("invoke", methodName, args));
  }

  send(methodName, ...args) {
    return whenLinked(this.#link, (link) => link.call("send", methodName, args));
  }

  stream(methodName, ...args) {
    // Without the link this tab has not joined a shared connection, so it is not Connected.
    const link = this.#link.current;
    if (!link) return endedStream(new Error(NOT_CONNECTED));
    return link.stream(methodName, args);
  }

  onclose(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("close", callback));
  }

  onreconnecting(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("reconnecting", callback));
  }

  onreconnected(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("reconnected", callback));
  }

  onstatechange(callback) {
    if (typeof callback !== "function") return;
    // A start that fails because tab-link.js cannot load is told here (the link never existed).
    this.#starter.addStateListener((change) => callback.call(this, change));
    this.#link.later((link) => link.listen("statechange", callback));
  }

  onrejoinfailed(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("rejoinfailed", callback));
  }

  joinGroup(spec) {
    return whenLinked(this.#link, (link) => link.joinGroup(spec));
  }

  leaveGroup(spec) {
    return whenLinked(this.#link, (link) => link.leaveGroup(spec));
  }

  /** The shared connection's health, with `tabSharing`: this tab's part and the leader. */
  health() {
    const link = this.#starter.pending ? null : this.#link.current;
    if (!link) return { ...NEVER_CONNECTED_HEALTH, state: this.state, tabSharing: sharingBeforeLink(this.#tab, this.#starter.pending) };
    const base = link.health() ?? { ...NEVER_CONNECTED_HEALTH };
    const shared = link.role === "alone" ? {} : { state: link.state, connectionId: link.connectionId };
    return { ...base, ...shared, tabSharing: link.sharing() };
  }

  flushTelemetry() {
    this.#link.current?.flushTelemetry();
  }
}

/**
 * A PlainSocketConnection shared across tabs (`connectPlain(url, { shareAcrossTabs: true })`).
 * `shareAcrossTabs` may be `true` or `{ key?, userId? }`.
 */
export class TabSharedPlainConnection {
  /** LazyCore of this tab's TabLink. */
  #link;
  #starter;
  #tab;

  /** @internal Use `new PlainSocketConnection(url, { shareAcrossTabs })`. */
  constructor(url, options, makeInner, PlainClass) {
    linkPrototype(TabSharedPlainConnection, PlainClass);
    const sharing = typeof options.shareAcrossTabs === "object" ? options.shareAcrossTabs : {};
    this.#tab = { tabId: randomId(), unavailable: tabSharingUnavailable() };
    this.#link = lazyLink(this, "plain", url, sharing, makeInner, options.telemetry, this.#tab);
    this.#starter = new LazyStart(this.#link, ALREADY_STARTING);
  }

  get state() {
    if (this.#starter.pending) return "Connecting";
    const link = this.#link.current;
    if (!link) return "Disconnected";
    return link.role === "alone" ? link.inner.state : link.state;
  }

  get reconnectCount() {
    const link = this.#link.current;
    if (!link) return 0;
    return link.role === "alone" ? link.inner.reconnectCount : link.reconnectCount;
  }

  /** This tab's part in the sharing, as `HubConnection.health().tabSharing`. */
  get tabSharing() {
    const link = this.#starter.pending ? null : this.#link.current;
    return link ? link.sharing() : sharingBeforeLink(this.#tab, this.#starter.pending);
  }

  start() {
    return this.#starter.start();
  }

  stop() {
    return this.#starter.stop();
  }

  on(type, handler) {
    if (typeof type === "string" && typeof handler === "function") this.#link.later((link) => link.on(type, handler));
  }

  off(type, handler) {
    if (typeof type === "string") this.#link.later((link) => link.off(type, handler));
  }

  send(type, payload) {
    return whenLinked(this.#link, (link) => link.plainSend(type, payload));
  }

  onclose(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("close", callback));
  }

  onreconnecting(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("reconnecting", callback));
  }

  onreconnected(callback) {
    if (typeof callback === "function") this.#link.later((link) => link.listen("reconnected", callback));
  }

  onstatechange(callback) {
    if (typeof callback !== "function") return;
    this.#starter.addStateListener((change) => callback.call(this, change));
    this.#link.later((link) => link.listen("statechange", callback));
  }
}

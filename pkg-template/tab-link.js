// The engine of hubwire's tab sharing: one real connection for all the tabs of an origin that use
// the same hub URL and sharing key (`withTabSharing()`, `connectPlain(url, { shareAcrossTabs })`).
// tabs.js (the facades the app holds) imports this file with import() when a tab-shared
// connection is built, so bundlers put it in a chunk of its own that apps without tab sharing
// never download; nothing else imports it.
//
// Owns the election, the messages between tabs and the per-tab view of the shared connection.
// It does not touch the connection logic: the leading tab holds an ordinary HubConnection (or
// PlainSocketConnection), made by the factory index.js / live.js pass in, and uses only its
// public API. Every tab, the leader included, sees the connection through the same facade:
//
//   election   a Web Lock named for the key; whoever holds it leads. The browser frees a lock
//              when its tab closes or crashes, and hands it to the next tab waiting for it, so
//              failover needs no timers. A leader silent for FROZEN_LEADER_MS that does not
//              answer a ping either (frozen, or stuck) is replaced by stealing the lock.
//   messages   a BroadcastChannel named for the key. Every message the leader sends carries its
//              epoch (a new one per leadership); tabs act only on the current leader's, so an
//              event is never delivered twice across a change of leader.
//   presence   each tab holds a second lock of its own while it uses the connection; the leader
//              asks `navigator.locks.query()` which tabs are alive and drops the group
//              memberships of the ones that are gone.
//
// Where the browser has no Web Locks or no BroadcastChannel, the facade runs alone: the tab
// holds its own connection, as without sharing, and `health().tabSharing` says why.
//
// Nothing secret crosses the channel: settings (and so the access token factory) stay in each
// tab; the leader connects with its own. Only method names, arguments, results, events and
// state travel, as structured clones.

import { Subject } from "./index.js";
import { endedStream } from "./tabs.js";

/** How often the leader tells the other tabs it is alive (with a fresh health snapshot). */
const BEAT_MS = 1_000;
/**
 * A leader not heard from for this long is pinged; one that does not answer the ping within
 * PING_ANSWER_MS is taken to be frozen, and replaced. (A background tab's timers may be slowed
 * to once a minute, so its beats can stop while it still answers messages at once.)
 */
const FROZEN_LEADER_MS = 5_000;
const PING_ANSWER_MS = 1_000;
/** How long a tab taking over waits for the other tabs' groups before it connects. */
const GATHER_MS = 100;
/** How often the leader checks which tabs are still alive. */
const PRESENCE_MS = 2_000;
/** How long a leader whose connection closed for good keeps its lock (see #leave). */
const CLOSED_LINGER_MS = 500;

const NOT_CONNECTED = "Cannot send data if the connection is not in the 'Connected' State.";
const LEADER_GONE = "The tab holding the shared connection went away before the hub answered.";

/** The sharing key: the URL, plus the app's key and user id when given (two users never share). */
function sharingKey(url, options) {
  // JSON keeps the parts apart whatever they contain: no key can pass for another user's.
  const part = (value) => (value === undefined || value === null ? null : String(value));
  return JSON.stringify([url, part(options?.key), part(options?.userId)]);
}

function errorText(error) {
  return String(error?.message ?? error ?? "unknown error");
}

/** Calls an app callback with `this` = its connection, as the connection itself does; what it returns, or undefined when it threw. */
function call(owner, listener, ...args) {
  try {
    return listener.apply(owner, args);
  } catch (error) {
    console.error(`[hubwire] a handler threw: ${errorText(error)}`);
    return undefined;
  }
}

/** A client-to-server stream source, as index.js tells them: anything with `subscribe`, or an async iterable. */
function isUpload(value) {
  if (value == null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof value.subscribe === "function" || typeof value[Symbol.asyncIterator] === "function";
}

const groupKey = (spec) => JSON.stringify([spec?.join, spec?.leave, spec?.args ?? []]);

/**
 * The per-tab engine of one shared connection: election, channel, the shared state as this tab
 * sees it, and the leader's bookkeeping. `kind` is "hub" or "plain"; `makeInner()` builds the
 * real connection (only in the leading tab, or the lone one).
 */
export class TabLink {
  kind;
  tabId;
  #key;
  #makeInner;
  #telemetry;
  #unavailable;

  /** This tab's part: "idle" (not started), "waiting", "following", "leading" or "alone". */
  role = "idle";
  /** The real connection, in the leading (or lone) tab. */
  inner = null;
  #channel = null;
  #stopLeading = null; // resolves the lock callback: gives up the lead
  #waitAbort = null; // aborts the queued lock request
  #releasePresence = null;
  #epoch = null; // the current leader's epoch as this tab knows it
  #leaderTabId = null;
  #leadCount = 0;
  #lastLeaderHeard = 0;
  #pingedAt = null; // when this tab pinged a silent leader, until it answers
  #presenceTimer = null; // the leader's check of which tabs are alive
  #announced = null; // a leader announced while this tab still led
  #timers = [];
  #failovers = 0;
  #takingOver = false;

  // The shared connection's state as this tab sees it.
  state = "Disconnected";
  connectionId = null;
  #health = null;
  reconnectCount = 0;

  // App-side registrations of this tab.
  #handlers = new Map(); // event key -> [{ name, handler }]
  #listeners = { statechange: [], reconnecting: [], reconnected: [], close: [], rejoinfailed: [] };
  #groups = new Map(); // group key -> { spec, count }: this tab's memberships
  #starting = null; // { resolve, reject } of start()

  // Follower side: calls and streams waiting for the leader.
  #nextId = 1;
  #pending = new Map(); // id -> { resolve, reject }
  #streams = new Map(); // id -> sink

  // Leader side.
  #forwarded = new Map(); // event key -> { forwarder, deduped }: what the inner connection forwards
  #dedupe = new Map(); // event key -> the first `on` options with `dedupe` this tab gave
  #members = new Map(); // group key -> { spec, tabs: Map<tabId, count>, joined: Promise | null }
  #remoteStreams = new Map(); // `${tab}:${id}` -> { dispose }
  #remoteUploads = new Map(); // `${tab}:${id}:${index}` -> Subject

  /**
   * `tab` is what the facade decided before this file was loaded: `{ tabId, unavailable }` (this
   * tab's id, and why sharing cannot work here, or null), so both answer the same.
   */
  constructor(kind, url, options, makeInner, telemetry, tab) {
    this.kind = kind;
    this.tabId = tab.tabId;
    this.#key = sharingKey(url, options);
    this.#makeInner = makeInner;
    this.#telemetry = telemetry;
    this.#unavailable = tab.unavailable;
    if (this.#unavailable) {
      // Alone from the start: the tab's own connection, registrations go straight to it.
      this.role = "alone";
      this.inner = makeInner();
    }
  }

  get #lockName() {
    return `hubwire:lead:${this.#key}`;
  }

  /** What `health().tabSharing` shows. */
  sharing() {
    if (this.#unavailable) return { shared: false, role: "alone", reason: this.#unavailable, tabId: this.tabId, leaderTabId: null, failovers: 0 };
    return {
      shared: true,
      role: this.role,
      tabId: this.tabId,
      leaderTabId: this.role === "leading" ? this.tabId : this.#leaderTabId,
      failovers: this.#failovers,
    };
  }

  // ----- the app's registrations -------------------------------------------------------------

  eventKey(name) {
    return this.kind === "hub" ? String(name).toLowerCase() : String(name);
  }

  /** In a lone tab: `handler` run with `this` = the facade (one wrapper per handler, so `off` finds it). */
  #alone(handler) {
    let wrapper = this.#wrappers.get(handler);
    if (!wrapper) {
      const owner = this.owner;
      wrapper = function (...args) {
        return handler.apply(owner, args);
      };
      this.#wrappers.set(handler, wrapper);
    }
    return wrapper;
  }
  #wrappers = new WeakMap();

  on(name, handler, options) {
    if (this.role === "alone") return this.inner.on(name, this.#alone(handler), options);
    const key = this.eventKey(name);
    const list = this.#handlers.get(key) ?? [];
    list.push(handler);
    this.#handlers.set(key, list);
    if (options?.dedupe && !this.#dedupe.has(key)) this.#dedupe.set(key, options);
    if (this.role === "leading") this.#forward(key, name);
    else if (this.role !== "idle") this.#post({ t: "listen", from: this.tabId, name, lead: this.#epoch });
  }

  off(name, handler) {
    if (this.role === "alone") return this.inner.off(name, typeof handler === "function" ? this.#wrappers.get(handler) ?? handler : undefined);
    const key = this.eventKey(name);
    if (typeof handler !== "function") this.#handlers.delete(key);
    else this.#handlers.set(key, (this.#handlers.get(key) ?? []).filter((h) => h !== handler));
  }

  listen(kind, callback) {
    if (this.role === "alone") {
      const method = kind === "close" ? "onclose" : `on${kind}`;
      return this.inner[method]?.(this.#alone(callback));
    }
    this.#listeners[kind].push(callback);
  }

  /** The facade the app holds: `this` of its handlers and callbacks. */
  owner = null;

  /** Runs this tab's handlers of an event; the first value one returns (a client result, in the leader). */
  #dispatch(key, args) {
    let result;
    for (const handler of [...(this.#handlers.get(key) ?? [])]) {
      const value = call(this.owner, handler, ...args);
      if (result === undefined) result = value;
    }
    return result;
  }

  #emit(kind, ...args) {
    for (const callback of [...this.#listeners[kind]]) call(this.owner, callback, ...args);
  }

  // ----- start and stop ----------------------------------------------------------------------

  start() {
    if (this.role === "alone") return this.inner.start();
    if (this.role !== "idle") return Promise.reject(new Error("Cannot start a connection that is not in the 'Disconnected' state."));
    const started = new Promise((resolve, reject) => (this.#starting = { resolve, reject }));
    this.#enter();
    return started;
  }

  stop() {
    if (this.role === "alone") return this.inner.stop();
    if (this.role === "idle") return Promise.resolve();
    const stopped = this.#leave();
    this.#setState({ current: "Disconnected", reason: "stopped", connectionId: null });
    this.#settleStart(new Error("The connection was stopped before it started."));
    this.#emit("close", undefined);
    return stopped;
  }

  #enter() {
    this.role = "waiting";
    this.#epoch = null;
    this.#leaderTabId = null;
    this.#setState({ current: "Connecting", reason: "start", connectionId: null });
    this.#channel = new BroadcastChannel(`hubwire:tabs:${this.#key}`);
    this.#channel.onmessage = (event) => this.#receive(event.data);
    const locks = globalThis.navigator.locks;
    locks.request(`hubwire:tab:${this.#key}:${this.tabId}`, () => new Promise((resolve) => (this.#releasePresence = resolve))).catch(() => {});
    this.#requestLead(false);
    // Whoever leads now answers with the shared connection's state.
    this.#hello();
    this.#every(BEAT_MS, () => this.#beat());
    this.#pageHooks(true);
  }

  /** Queues for the lead (or takes it from a frozen leader, with `steal`). */
  #requestLead(steal) {
    const abort = steal ? null : new AbortController();
    this.#waitAbort = abort;
    const options = steal ? { steal: true } : { signal: abort.signal };
    globalThis.navigator.locks
      .request(this.#lockName, options, () => {
        if (this.role === "idle") return undefined;
        return new Promise((resolve) => {
          this.#stopLeading = resolve;
          this.#lead();
        });
      })
      .catch((error) => {
        // Aborted (this tab stopped) or stolen (this tab was taken for frozen): either way this
        // tab no longer leads.
        if (error?.name !== "AbortError" || this.role !== "leading") return;
        this.#demote();
      });
  }

  /**
   * Leaves the sharing: gives up the lead or the place in the queue, and tells the others.
   * `lingerMs` keeps the lead lock a little longer, so the tabs waiting for it read the message
   * just posted (the connection closed for good) before one of them could take it over.
   */
  #leave(lingerMs = 0) {
    const wasLeading = this.role === "leading";
    this.role = "idle";
    this.#pageHooks(false);
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    clearInterval(this.#presenceTimer);
    this.#presenceTimer = null;
    this.#waitAbort?.abort();
    this.#waitAbort = null;
    this.#releasePresence?.();
    this.#releasePresence = null;
    this.#failPending(new Error("The connection was stopped."));
    let stopped = Promise.resolve();
    if (wasLeading) {
      this.#post({ t: "resign", epoch: this.#epoch, from: this.tabId });
      stopped = this.#dropInner();
      const release = this.#stopLeading;
      this.#stopLeading = null;
      if (lingerMs > 0) setTimeout(() => release?.(), lingerMs);
      else release?.();
    } else {
      this.#post({ t: "bye", from: this.tabId });
    }
    this.#channel?.close();
    this.#channel = null;
    return stopped;
  }

  #dropInner() {
    const inner = this.inner;
    this.inner = null;
    this.#forwarded.clear();
    this.#members.clear();
    for (const stream of this.#remoteStreams.values()) stream.dispose();
    this.#remoteStreams.clear();
    this.#remoteUploads.clear();
    return inner ? inner.stop().catch(() => {}) : Promise.resolve();
  }

  #pageHooks(on) {
    if (typeof globalThis.addEventListener !== "function") return;
    if (on) {
      this.#onPageHide ??= (event) => {
        // A page going into the back/forward cache comes back with pageshow; one being closed
        // does not. Either way it hands the connection on now, rather than when the browser
        // frees its locks.
        if (this.role === "idle") return;
        this.#resume = event.persisted;
        this.#leave();
        this.#setState({ current: "Disconnected", reason: "page hidden", connectionId: null });
      };
      this.#onPageShow ??= (event) => {
        if (!event.persisted || !this.#resume || this.role !== "idle") return;
        this.#resume = false;
        this.#enter();
      };
      globalThis.addEventListener("pagehide", this.#onPageHide);
      globalThis.addEventListener("pageshow", this.#onPageShow);
    } else if (this.#onPageHide && !this.#resume) {
      globalThis.removeEventListener("pagehide", this.#onPageHide);
      globalThis.removeEventListener("pageshow", this.#onPageShow);
    }
  }
  #onPageHide = null;
  #onPageShow = null;
  #resume = false;

  #every(ms, tick) {
    this.#timers.push(setInterval(tick, ms));
  }

  #settleStart(error) {
    const starting = this.#starting;
    this.#starting = null;
    if (!starting) return;
    if (error) starting.reject(error);
    else starting.resolve();
  }

  // ----- the shared state --------------------------------------------------------------------

  /** Applies a state change of the shared connection to this tab (and tells its listeners). */
  #setState(change) {
    const previous = this.state;
    this.state = change.current;
    this.connectionId = change.connectionId ?? (change.current === "Connected" ? this.connectionId : null);
    if (change.reconnectCount !== undefined) this.reconnectCount = change.reconnectCount;
    if (change.health) this.#health = change.health;
    if (previous === change.current) return;
    this.#emit("statechange", {
      previous,
      current: change.current,
      reason: change.reason ?? "",
      attempt: change.attempt ?? 0,
      nextRetryInMs: change.nextRetryInMs ?? null,
      transport: change.transport ?? null,
      connectionId: this.connectionId,
    });
    if (change.current === "Connected") this.#settleStart(null);
  }

  /** What the leader tells every tab, and does itself. */
  #share(message) {
    const full = { ...message, epoch: this.#epoch, from: this.tabId };
    this.#post(full);
    this.#apply(full);
  }

  #apply(message) {
    switch (message.t) {
      case "state":
        this.#setState(message.change);
        break;
      case "reconnecting":
        this.#emit("reconnecting", message.error ? new Error(message.error) : undefined);
        break;
      case "reconnected":
        this.#emit("reconnected", message.connectionId ?? undefined);
        break;
      case "rejoinfailed":
        this.#emit("rejoinfailed", { ...message.spec, error: new Error(message.error) });
        break;
      case "closed": {
        // The shared connection ended for good (its reconnects gave up, or a first start
        // failed): every tab is out, as a lone connection's app would be.
        const error = message.error ? new Error(message.error) : undefined;
        this.#leave(CLOSED_LINGER_MS);
        this.#setState({ current: "Disconnected", reason: message.error ?? "closed", connectionId: null });
        this.#settleStart(error ?? new Error("The connection closed before it started."));
        this.#emit("close", error);
        break;
      }
      default:
        break;
    }
  }

  health() {
    if (this.role === "leading" || this.role === "alone") return this.inner?.health?.() ?? this.#health;
    return this.#health;
  }

  // ----- leading -----------------------------------------------------------------------------

  #lead() {
    if (this.role === "idle") {
      this.#stopLeading?.();
      return;
    }
    const failover = this.role === "following" && this.state !== "Connecting";
    const previous = this.#leaderTabId;
    this.role = "leading";
    this.#takingOver = failover;
    this.#epoch = `${this.tabId}:${++this.#leadCount}`;
    this.#leaderTabId = this.tabId;
    this.#failPending(new Error(LEADER_GONE));
    this.#post({ t: "leader", epoch: this.#epoch, from: this.tabId });
    if (failover) {
      this.#failovers += 1;
      this.#share({ t: "state", change: { current: "Reconnecting", reason: "the tab holding the connection went away; this tab takes over", connectionId: null } });
      this.#share({ t: "reconnecting", error: "the tab holding the connection went away" });
    }
    this.#record({ type: "tabLeader", tabId: this.tabId, previousTabId: previous, failover, failovers: this.#failovers });
    const inner = this.#makeInner();
    this.inner = inner;
    this.#watchInner(inner);
    // This tab's own registrations; the other tabs' arrive as they answer "leader".
    for (const [key, list] of this.#handlers) if (list.length) this.#forward(key, key);
    for (const [key, { spec, count }] of this.#groups) this.#hold(this.tabId, key, spec, count).catch(() => {});
    this.#presenceTimer ??= setInterval(() => this.#prune(), PRESENCE_MS);
    const gather = failover ? new Promise((resolve) => setTimeout(resolve, GATHER_MS)) : Promise.resolve();
    gather
      .then(() => (this.inner === inner ? inner.start() : undefined))
      .then(async () => {
        if (this.inner !== inner) return;
        if (!this.#takingOver) return;
        // Every group any tab holds is joined again before the tabs hear "reconnected".
        await Promise.allSettled([...this.#members.values()].map((m) => m.joined));
        this.#takingOver = false;
        if (this.inner !== inner) return;
        this.#share({ t: "state", change: this.#innerChange("Connected", "taken over") });
        this.#share({ t: "reconnected", connectionId: inner.connectionId });
      })
      .catch((error) => {
        if (this.inner !== inner) return;
        this.#takingOver = false;
        this.#share({ t: "closed", error: errorText(error) });
      });
  }

  #innerChange(current, reason) {
    const health = this.inner?.health?.() ?? null;
    return {
      current,
      reason,
      connectionId: this.inner?.connectionId ?? null,
      transport: health?.transport ?? null,
      health,
      reconnectCount: this.kind === "plain" ? this.inner?.reconnectCount : health?.reconnectCount,
    };
  }

  #watchInner(inner) {
    inner.onstatechange((change) => {
      if (this.inner !== inner || this.#takingOver) return;
      const health = inner.health?.() ?? null;
      this.#share({
        t: "state",
        change: { ...change, health, reconnectCount: this.kind === "plain" ? inner.reconnectCount : health?.reconnectCount },
      });
    });
    inner.onreconnecting((error) => {
      if (this.inner === inner && !this.#takingOver) this.#share({ t: "reconnecting", error: error ? errorText(error) : null });
    });
    inner.onreconnected((connectionId) => {
      if (this.inner === inner && !this.#takingOver) this.#share({ t: "reconnected", connectionId: connectionId ?? null });
    });
    inner.onrejoinfailed?.((failure) => {
      if (this.inner !== inner) return;
      const { join, leave, args, error } = failure;
      this.#share({ t: "rejoinfailed", spec: { join, leave, args }, error: errorText(error) });
    });
    inner.onclose((error) => {
      if (this.inner !== inner || this.#takingOver) return;
      this.#share({ t: "closed", error: error ? errorText(error) : null });
    });
  }

  /**
   * Makes the real connection forward `key`'s events to every tab (once per key). Dedupe runs
   * here, once for all tabs, with this tab's options for the event (tabs of one app register
   * the same); its functions cannot travel to another tab.
   */
  #forward(key, name) {
    if (!this.inner) return;
    const options = this.#dedupe.get(key);
    const existing = this.#forwarded.get(key);
    if (existing && (existing.deduped || !options)) return;
    if (existing) this.inner.off(name, existing.forwarder);
    const forwarder = (...args) => {
      if (this.role !== "leading") return undefined;
      this.#post({ t: "event", epoch: this.#epoch, key, args });
      // A call that wants a client result gets the leading tab's handlers' answer.
      return this.#dispatch(key, args);
    };
    this.#forwarded.set(key, { forwarder, deduped: Boolean(options) });
    this.inner.on(name, forwarder, options);
  }

  /** Adds `count` memberships of `tab` to a group; the hub is asked to join on the first. */
  #hold(tab, key, spec, count = 1) {
    let member = this.#members.get(key);
    if (!member) {
      member = { spec, tabs: new Map(), joined: null };
      this.#members.set(key, member);
    }
    member.tabs.set(tab, (member.tabs.get(tab) ?? 0) + count);
    if (!member.joined) {
      const inner = this.inner;
      member.joined = inner.joinGroup(spec);
      member.joined.catch(() => {
        // A join the hub refused is no membership: the next join asks again.
        if (this.#members.get(key) === member && this.inner === inner) this.#members.delete(key);
      });
    }
    return member.joined;
  }

  /** Removes one membership of `tab`; the hub is asked to leave when no tab holds the group. */
  #release(tab, key, all = false) {
    const member = this.#members.get(key);
    if (!member) return Promise.resolve();
    const left = all ? 0 : (member.tabs.get(tab) ?? 0) - 1;
    if (left > 0) member.tabs.set(tab, left);
    else member.tabs.delete(tab);
    if (member.tabs.size > 0) return Promise.resolve();
    this.#members.delete(key);
    return this.inner.leaveGroup(member.spec);
  }

  #forgetTab(tab) {
    for (const key of [...this.#members.keys()]) this.#release(tab, key, true).catch(() => {});
    for (const [id, stream] of [...this.#remoteStreams]) {
      if (id.startsWith(`${tab}:`)) {
        stream.dispose();
        this.#remoteStreams.delete(id);
      }
    }
  }

  /** Drops the memberships of tabs that are gone without saying so (crashed, killed). */
  async #prune() {
    if (this.role !== "leading") return;
    let snapshot;
    try {
      snapshot = await globalThis.navigator.locks.query();
    } catch {
      return;
    }
    const prefix = `hubwire:tab:${this.#key}:`;
    const alive = new Set((snapshot.held ?? []).map((lock) => lock.name).filter((name) => name?.startsWith(prefix)).map((name) => name.slice(prefix.length)));
    alive.add(this.tabId);
    const known = new Set();
    for (const member of this.#members.values()) for (const tab of member.tabs.keys()) known.add(tab);
    for (const tab of known) if (!alive.has(tab)) this.#forgetTab(tab);
  }

  #beat() {
    if (this.role === "leading") {
      this.#post({ t: "beat", epoch: this.#epoch, from: this.tabId, health: this.inner?.health?.() ?? null });
    } else if (this.role === "following" && Date.now() - this.#lastLeaderHeard > FROZEN_LEADER_MS) {
      if (this.#pingedAt === null) {
        this.#pingedAt = Date.now();
        this.#post({ t: "ping", from: this.tabId, lead: this.#epoch });
      } else if (Date.now() - this.#pingedAt > PING_ANSWER_MS) {
        // The leader holds the lock but answers nothing: frozen, or stuck. Take over, once.
        this.#pingedAt = null;
        this.#lastLeaderHeard = Date.now();
        this.#waitAbort?.abort();
        this.#requestLead(true);
      }
    }
  }

  /** A leader whose lock was stolen (it was taken for frozen) goes back to following. */
  #demote() {
    this.role = "following";
    clearInterval(this.#presenceTimer);
    this.#presenceTimer = null;
    this.#dropInner();
    this.#stopLeading = null;
    if (this.#announced && this.#announced.epoch !== this.#epoch) {
      this.#epoch = this.#announced.epoch;
      this.#leaderTabId = this.#announced.from;
      this.#lastLeaderHeard = Date.now();
      this.#failovers += 1;
    }
    this.#announced = null;
    this.#requestLead(false);
    this.#hello();
  }

  // ----- following ---------------------------------------------------------------------------

  /** Tells the leader everything this tab listens to and holds (it may be said again: the leader sets, not adds). */
  #hello() {
    this.#post({ t: "hello", from: this.tabId, lead: this.#epoch, ...this.#registrations() });
  }

  #registrations() {
    return {
      events: [...this.#handlers].filter(([, list]) => list.length).map(([key]) => key),
      groups: [...this.#groups.values()].map(({ spec, count }) => ({ spec, count })),
    };
  }

  /** Posts to the other tabs; the error when the message cannot be copied (a function, a DOM node among the arguments), else null. */
  #post(message) {
    try {
      this.#channel?.postMessage(message);
      return null;
    } catch (error) {
      return error;
    }
  }

  #receive(message) {
    if (!message || typeof message !== "object" || this.role === "idle") return;
    if (this.role === "leading") this.#serve(message);
    else this.#follow(message);
  }

  /** Leader: a request from another tab. */
  #serve(message) {
    // After a steal two tabs may lead for a moment: each serves only what was meant for it.
    if (message.lead != null && message.lead !== this.#epoch) return;
    const from = message.from;
    const reply = (fields) => this.#post({ to: from, epoch: this.#epoch, from: this.tabId, ...fields });
    switch (message.t) {
      case "hello": {
        // A tab's hello lists all it holds: the memberships become exactly those.
        for (const key of message.events ?? []) this.#forward(key, key);
        const wanted = new Map((message.groups ?? []).map(({ spec, count }) => [groupKey(spec), { spec, count }]));
        for (const [key, member] of [...this.#members]) if (member.tabs.has(from) && !wanted.has(key)) this.#release(from, key, true).catch(() => {});
        for (const [key, { spec, count }] of wanted) {
          const member = this.#members.get(key);
          if (member?.tabs.has(from)) member.tabs.set(from, count);
          else this.#hold(from, key, spec, count).catch(() => {});
        }
        const health = this.inner?.health?.() ?? null;
        reply({
          t: "welcome",
          change: this.#takingOver ? { current: "Reconnecting", reason: "taking over" } : this.#innerChange(this.inner?.state ?? "Disconnected", "shared"),
          health,
        });
        break;
      }
      case "listen":
        this.#forward(this.eventKey(message.name), message.name);
        break;
      case "ping":
        this.#post({ t: "beat", epoch: this.#epoch, from: this.tabId, health: this.inner?.health?.() ?? null });
        break;
      case "bye":
        this.#forgetTab(from);
        break;
      case "call": {
        const args = this.#withUploads(from, message.id, message.args, message.uploads);
        const run = () => (message.op === "send" ? this.inner.send(message.method, ...args) : this.inner.invoke(message.method, ...args));
        Promise.resolve()
          .then(run)
          .then(
            (value) => reply({ t: "reply", id: message.id, ok: true, value: value === undefined ? null : value }),
            (error) => reply({ t: "reply", id: message.id, ok: false, error: errorText(error) }),
          );
        break;
      }
      case "plainSend":
        Promise.resolve()
          .then(() => this.inner.send(message.type, message.payload))
          .then(
            () => reply({ t: "reply", id: message.id, ok: true, value: null }),
            (error) => reply({ t: "reply", id: message.id, ok: false, error: errorText(error) }),
          );
        break;
      case "upload": {
        const subject = this.#remoteUploads.get(`${from}:${message.id}:${message.index}`);
        if (!subject) break;
        if (message.end) {
          this.#remoteUploads.delete(`${from}:${message.id}:${message.index}`);
          if (message.error) subject.error(new Error(message.error));
          else subject.complete();
        } else {
          subject.next(message.item);
        }
        break;
      }
      case "stream": {
        const args = this.#withUploads(from, message.id, message.args, message.uploads);
        const id = `${from}:${message.id}`;
        const subscription = this.inner.stream(message.method, ...args).subscribe({
          next: (item) => reply({ t: "item", id: message.id, item }),
          error: (error) => {
            this.#remoteStreams.delete(id);
            reply({ t: "end", id: message.id, error: errorText(error) });
          },
          complete: () => {
            this.#remoteStreams.delete(id);
            reply({ t: "end", id: message.id });
          },
        });
        this.#remoteStreams.set(id, subscription);
        break;
      }
      case "cancel": {
        const id = `${from}:${message.id}`;
        this.#remoteStreams.get(id)?.dispose();
        this.#remoteStreams.delete(id);
        break;
      }
      case "group": {
        const key = groupKey(message.spec);
        const settled = message.op === "join" ? this.#hold(from, key, message.spec) : this.#release(from, key);
        settled.then(
          () => reply({ t: "reply", id: message.id, ok: true, value: null }),
          (error) => reply({ t: "reply", id: message.id, ok: false, error: errorText(error) }),
        );
        break;
      }
      case "leader":
        // Another tab leads now (it took the lock from this one): the lock's rejection demotes
        // this tab, which then follows the leader announced here.
        this.#announced = { epoch: message.epoch, from: message.from };
        break;
      default:
        break;
    }
  }

  /** The arguments of a call from another tab, with a Subject for each upload it streams. */
  #withUploads(from, id, args, uploads) {
    if (!uploads) return args;
    return args.map((arg, index) => {
      if (!uploads.includes(index)) return arg;
      const subject = new Subject();
      this.#remoteUploads.set(`${from}:${id}:${index}`, subject);
      return subject;
    });
  }

  /** Follower: news from the leader. */
  #follow(message) {
    if (message.t === "leader") {
      if (message.epoch === this.#epoch) return;
      // A new leader: what the old one had not answered is lost with it.
      this.#failPending(new Error(LEADER_GONE));
      this.#epoch = message.epoch;
      this.#leaderTabId = message.from;
      this.#lastLeaderHeard = Date.now();
      if (this.role === "following" && this.state !== "Connecting") this.#failovers += 1;
      this.#hello();
      return;
    }
    if (message.to !== undefined && message.to !== this.tabId) return;
    if (message.t === "welcome") {
      if (this.#epoch !== null && message.epoch !== this.#epoch) return;
      this.#epoch = message.epoch;
      this.#leaderTabId = message.from;
      this.#lastLeaderHeard = Date.now();
      if (this.role === "waiting") this.role = "following";
      this.#setState({ ...message.change, health: message.health });
      return;
    }
    if (message.epoch !== this.#epoch) return; // an old leader's, or one this tab has not met
    this.#lastLeaderHeard = Date.now();
    this.#pingedAt = null;
    switch (message.t) {
      case "event":
        this.#dispatch(message.key, message.args ?? []);
        break;
      case "beat":
        this.#health = message.health;
        break;
      case "resign":
        // The next tab in the queue gets the lock and says so; until then nothing answers.
        this.#failPending(new Error(LEADER_GONE));
        break;
      case "reply": {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
        break;
      }
      case "item":
        this.#streams.get(message.id)?.next(message.item);
        break;
      case "end": {
        const sink = this.#streams.get(message.id);
        this.#streams.delete(message.id);
        if (message.error) sink?.error(new Error(message.error));
        else sink?.complete();
        break;
      }
      default:
        this.#apply(message);
        break;
    }
  }

  #failPending(error) {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const sink of this.#streams.values()) sink.error(error);
    this.#streams.clear();
  }

  /** Asks the leader to do something; settles with its answer. */
  request(fields) {
    if (this.state !== "Connected" || this.role !== "following") return Promise.reject(new Error(NOT_CONNECTED));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const error = this.#post({ ...fields, id, from: this.tabId, lead: this.#epoch });
      if (error) {
        this.#pending.delete(id);
        reject(new Error(`The arguments cannot be passed to the tab holding the connection: ${errorText(error)}`));
      }
    });
  }

  /** invoke / send from this tab: straight to the real connection when leading, else through the leader. */
  call(op, method, args) {
    if (this.role === "alone" || this.role === "leading") {
      if (!this.inner) return Promise.reject(new Error(NOT_CONNECTED));
      return op === "send" ? this.inner.send(method, ...args) : this.inner.invoke(method, ...args);
    }
    const uploads = [];
    const plain = args.map((arg, index) => (isUpload(arg) ? (uploads.push(index), null) : arg));
    if (uploads.length === 0) return this.request({ t: "call", op, method, args: plain });
    if (this.state !== "Connected" || this.role !== "following") return Promise.reject(new Error(NOT_CONNECTED));
    const id = this.#nextId++;
    const answered = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    const error = this.#post({ t: "call", op, method, args: plain, uploads, id, from: this.tabId, lead: this.#epoch });
    if (error) {
      this.#pending.delete(id);
      return Promise.reject(new Error(`The arguments cannot be passed to the tab holding the connection: ${errorText(error)}`));
    }
    this.#pumpUploads(id, args, uploads);
    return op === "send" ? Promise.resolve() : answered;
  }

  #pumpUploads(id, args, uploads) {
    for (const index of uploads) {
      const source = args[index];
      const post = (fields) => this.#post({ t: "upload", id, index, from: this.tabId, lead: this.#epoch, ...fields });
      if (typeof source.subscribe === "function") {
        source.subscribe({ next: (item) => post({ item }), error: (error) => post({ end: true, error: errorText(error) }), complete: () => post({ end: true }) });
      } else {
        (async () => {
          try {
            for await (const item of source) post({ item });
            post({ end: true });
          } catch (error) {
            post({ end: true, error: errorText(error) });
          }
        })();
      }
    }
  }

  plainSend(type, payload) {
    if (this.role === "alone" || this.role === "leading") {
      if (!this.inner) return Promise.reject(new Error("The connection is not open."));
      return this.inner.send(type, payload);
    }
    return this.request({ t: "plainSend", type, payload });
  }

  joinGroup(spec) {
    if (this.role === "alone") return this.inner.joinGroup(spec);
    const key = groupKey(spec);
    const mine = this.#groups.get(key) ?? { spec, count: 0 };
    mine.count += 1;
    this.#groups.set(key, mine);
    const undo = (error) => {
      if (--mine.count <= 0) this.#groups.delete(key);
      throw error;
    };
    if (this.role === "leading") return this.#hold(this.tabId, key, spec).catch(undo);
    if (this.role === "idle") return Promise.resolve(); // joined by the leader once this tab starts
    if (this.state !== "Connected") {
      // Before the shared connection is up, the group travels in a hello; the leader joins it
      // when it connects.
      this.#hello();
      return Promise.resolve();
    }
    return this.request({ t: "group", op: "join", spec }).catch(undo);
  }

  leaveGroup(spec) {
    if (this.role === "alone") return this.inner.leaveGroup(spec);
    const key = groupKey(spec);
    const mine = this.#groups.get(key);
    if (!mine) return Promise.resolve();
    if (--mine.count <= 0) this.#groups.delete(key);
    if (this.role === "leading") return this.#release(this.tabId, key);
    if (this.role === "idle") return Promise.resolve();
    if (this.state !== "Connected") {
      this.#hello();
      return Promise.resolve();
    }
    return this.request({ t: "group", op: "leave", spec });
  }

  /** stream from this tab: an IStreamResult fed by the real connection or by the leader. */
  stream(method, args) {
    if (this.role === "alone" || this.role === "leading") {
      if (!this.inner) return endedStream(new Error(NOT_CONNECTED));
      return this.inner.stream(method, ...args);
    }
    if (this.state !== "Connected" || this.role !== "following") return endedStream(new Error(NOT_CONNECTED));
    const id = this.#nextId++;
    const uploads = [];
    const plain = args.map((arg, index) => (isUpload(arg) ? (uploads.push(index), null) : arg));
    const result = bufferedStream(() => {
      this.#streams.delete(id);
      this.#post({ t: "cancel", id, from: this.tabId, lead: this.#epoch });
    });
    this.#streams.set(id, result.sink);
    const error = this.#post({ t: "stream", method, args: plain, uploads: uploads.length ? uploads : undefined, id, from: this.tabId, lead: this.#epoch });
    if (error) {
      this.#streams.delete(id);
      return endedStream(new Error(`The arguments cannot be passed to the tab holding the connection: ${errorText(error)}`));
    }
    if (uploads.length) this.#pumpUploads(id, args, uploads);
    return result.stream;
  }

  flushTelemetry() {
    this.inner?.flushTelemetry?.();
  }

  /** A tab-sharing telemetry record, to this tab's own sink (callback and URL). */
  #record(fields) {
    const telemetry = this.#telemetry;
    if (!telemetry) return;
    const record = { ...fields, at: Date.now() };
    const onEvent = typeof telemetry === "function" ? telemetry : telemetry.onEvent;
    if (typeof onEvent === "function") call(this.owner, onEvent, record);
    if (typeof telemetry.url === "string" && typeof globalThis.fetch === "function") {
      globalThis.fetch(new URL(telemetry.url, globalThis.location?.href).href, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([record]), keepalive: true }).catch(() => {});
    }
  }
}

/** A stream result whose items arrive by `sink`; items before the first subscriber are kept. */
function bufferedStream(cancel) {
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
  const stream = {
    subscribe(subscriber) {
      subscribers.push(subscriber);
      buffered.splice(0).forEach((item) => subscriber.next?.(item));
      if (ended) queueMicrotask(() => (ended.err ? subscriber.error?.(ended.err) : subscriber.complete?.()));
      return {
        dispose() {
          const index = subscribers.indexOf(subscriber);
          if (index >= 0) subscribers.splice(index, 1);
          if (subscribers.length === 0 && !ended) {
            ended = {};
            cancel();
          }
        },
      };
    },
  };
  return { sink, stream };
}

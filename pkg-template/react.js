// hubwire/react: React hooks over one hub connection per <HubProvider>.
//
// Plain JavaScript with React.createElement (no JSX build step); types in react.d.ts.
//
// One idea carries the whole module: everything a component holds on a connection (the started
// connection itself, a group membership, a live subscription) is a *shared, counted hold*. The
// first holder opens it, later holders reuse it, and the last release closes it one macrotask
// later unless someone takes it again first. React's StrictMode mounts, unmounts and remounts
// every effect synchronously in development; with deferred release that dance reuses the same
// start, join or subscription instead of stopping and redoing it, so the hub sees exactly one
// negotiate, one join, one subscription. Two components asking for the same group share one
// membership the same way.
//
// Connection APIs beyond the basic start/stop/on/off/invoke/onclose (onstatechange,
// onreconnecting, onreconnected, joinGroup/leaveGroup, health) are feature-detected, so the
// hooks work with any connection-shaped object (a PlainSocketConnection from hubwire/live, a
// test double). Live subscriptions come from hubwire/live, loaded the first time a component
// subscribes.
//
// Server rendering (renderToString, renderToPipeableStream) is safe: building a connection
// touches nothing (the WebAssembly module loads on start), effects do not run on the server, and
// the state hooks answer Disconnected there; hydration in the browser then starts the connection.

import * as React from "react";
import { HubConnectionBuilder, HubConnectionState } from "./index.js";
import { expectModule } from "./wasm.js";

const { createContext, createElement, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } = React;

// Server rendering runs no effects, and React 18 warns about useLayoutEffect there: outside a
// DOM the provider's start-before-children effect is an ordinary (never run) effect instead.
const useClientLayoutEffect = typeof document === "undefined" ? useEffect : useLayoutEffect;

const HubContext = createContext(null);
HubContext.displayName = "HubContext";

// ---------------------------------------------------------------------------------------------
// Shared, counted holds with deferred release
// ---------------------------------------------------------------------------------------------

/** connection -> Map(key -> { holders, timer, resource }) */
const holdTables = new WeakMap();

/**
 * Takes a hold on the resource `key` of `connection`, opening it with `open()` (which returns
 * `{ value, close() }`) when nobody holds it. Returns `{ value, release }`; `release` is
 * idempotent. The last release closes the resource one macrotask later, unless it is held again
 * before then (StrictMode's remount, a component moving in the tree).
 */
function hold(connection, key, open) {
  let table = holdTables.get(connection);
  if (!table) {
    table = new Map();
    holdTables.set(connection, table);
  }
  let entry = table.get(key);
  if (!entry) {
    entry = { holders: 0, timer: null, resource: open() };
    table.set(key, entry);
  }
  entry.holders += 1;
  if (entry.timer !== null) {
    clearTimeout(entry.timer);
    entry.timer = null;
  }
  let released = false;
  return {
    value: entry.resource.value,
    release() {
      if (released) return;
      released = true;
      entry.holders -= 1;
      if (entry.holders > 0) return;
      entry.timer = setTimeout(() => {
        entry.timer = null;
        if (entry.holders > 0 || table.get(key) !== entry) return;
        table.delete(key);
        entry.resource.close();
      }, 0);
    },
  };
}

/** A tiny external store for useSyncExternalStore: a snapshot and the listeners to tell. */
function createStore(initial) {
  let snapshot = Object.freeze(initial);
  const listeners = new Set();
  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Replaces the snapshot when any field differs, then tells every listener. */
    set(next) {
      if (shallowEqual(snapshot, next)) return;
      snapshot = Object.freeze(next);
      for (const listener of [...listeners]) listener();
    },
  };
}

function shallowEqual(a, b) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

const noop = () => {};

/** A stable key for a plain-data spec (functions inside it are not part of the key). */
function specKey(spec) {
  if (spec === null || spec === undefined || spec === false) return null;
  return JSON.stringify(spec);
}

// ---------------------------------------------------------------------------------------------
// Connection state
// ---------------------------------------------------------------------------------------------

/** connection -> its state store, created once (onclose and friends cannot be unregistered). */
const stateStores = new WeakMap();

/** `connection.health()` when the connection has it and answers synchronously, else null. */
function healthOf(connection) {
  if (typeof connection.health !== "function") return null;
  try {
    const health = connection.health();
    return health && typeof health === "object" && typeof health.then !== "function" ? health : null;
  } catch {
    return null;
  }
}

/**
 * The snapshot useConnectionState returns. `change` is the last onstatechange event (with the
 * time it arrived as `at`); its details count only while the connection is still in the state
 * that event moved to. `error` is the last close or failed-start error, shown until Connected.
 */
function readState(connection, change, error, changedNow = false) {
  // While an onstatechange callback runs, its event is the truth even if `state` lags behind.
  const state = (changedNow ? change.current : connection.state) ?? change?.current ?? HubConnectionState.Disconnected;
  const fresh = change && change.current === state ? change : null;
  const connected = state === HubConnectionState.Connected;
  const health = healthOf(connection);
  const nextRetryInMs = typeof fresh?.nextRetryInMs === "number" ? fresh.nextRetryInMs : null;
  return {
    state,
    attempt: typeof fresh?.attempt === "number" ? fresh.attempt : 0,
    nextRetryInMs,
    nextRetryAt: nextRetryInMs === null ? null : fresh.at + nextRetryInMs,
    transport: fresh?.transport ?? (connected ? (health?.transport ?? connection.transport ?? null) : null),
    connectionId: connection.connectionId ?? fresh?.connectionId ?? null,
    source: fresh?.source ?? health?.source ?? (connected ? "push" : "idle"),
    error: connected ? null : error,
  };
}

/** The state store of `connection`: listens to it once, for as long as the connection lives. */
function stateStoreFor(connection) {
  let entry = stateStores.get(connection);
  if (entry) return entry;
  let lastChange = null;
  let lastError = null;
  const store = createStore(readState(connection, lastChange, lastError));
  entry = {
    subscribe: store.subscribe,
    getSnapshot: store.getSnapshot,
    /** Re-reads the connection after `change` (an onstatechange event) or a close/start `error`. */
    refresh({ change, error } = {}) {
      if (change) lastChange = { ...change, at: Date.now() };
      if (error !== undefined) lastError = error ?? null;
      store.set(readState(connection, lastChange, lastError, Boolean(change)));
    },
  };
  stateStores.set(connection, entry);
  if (typeof connection.onstatechange === "function") {
    connection.onstatechange((change) => entry.refresh({ change }));
  }
  if (typeof connection.onreconnecting === "function") {
    connection.onreconnecting((error) => entry.refresh({ error: error ?? null }));
  }
  if (typeof connection.onreconnected === "function") {
    connection.onreconnected(() => entry.refresh({ error: null }));
  }
  if (typeof connection.onclose === "function") {
    connection.onclose((error) => entry.refresh({ error: error ?? null }));
  }
  return entry;
}

/** connection -> the stop a provider began and that has not finished yet. */
const stopping = new WeakMap();

/** Runs `fn` and returns its outcome as a promise, a synchronous throw becoming a rejection. */
function promiseOf(fn) {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Starts `connection` for a provider when it is Disconnected (or being stopped by an earlier
 * provider: then once that stop is done); stops it on close when it was started here.
 */
function openConnection(connection) {
  const store = stateStoreFor(connection);
  const pendingStop = stopping.get(connection);
  const startedHere =
    pendingStop !== undefined || connection.state === undefined || connection.state === HubConnectionState.Disconnected;
  if (startedHere) {
    // Started synchronously when nothing is in the way, so the state is Connecting right away.
    const started = pendingStop ? pendingStop.then(() => connection.start()) : promiseOf(() => connection.start());
    started.then(
      () => store.refresh({ error: null }),
      (error) => store.refresh({ error }),
    );
  }
  store.refresh();
  return {
    value: connection,
    close() {
      if (!startedHere) return;
      const stopped = promiseOf(() => connection.stop()).then(noop, noop);
      stopping.set(connection, stopped);
      store.refresh();
      stopped.then(() => {
        if (stopping.get(connection) === stopped) stopping.delete(connection);
        store.refresh();
      });
    },
  };
}

function buildConnection(url, options, configure, shareAcrossTabs) {
  if (typeof url !== "string" || url === "") {
    throw new Error("<HubProvider> needs a `url` (the hub's address) or a ready `connection`.");
  }
  const builder = new HubConnectionBuilder().withUrl(url, options);
  if (shareAcrossTabs) builder.withTabSharing(shareAcrossTabs === true ? {} : shareAcrossTabs);
  const configured = typeof configure === "function" ? configure(builder) : undefined;
  return (configured && typeof configured.build === "function" ? configured : builder).build();
}

// ---------------------------------------------------------------------------------------------
// Components and hooks
// ---------------------------------------------------------------------------------------------

/**
 * Gives its children one hub connection. Built from `url` (+ `options` for `withUrl`, and
 * `configure(builder)` for anything else) or taken ready as `connection`. Started on mount when
 * it is Disconnected, stopped on unmount when the provider started it. `options`,
 * `configure` and `shareAcrossTabs` (`true` or `{ key?, userId? }`: `withTabSharing`) are read
 * when the connection is built; a new `url` builds a new connection.
 */
export function HubProvider({ url, options, configure, shareAcrossTabs, connection: given, children }) {
  // Building has no side effects (nothing connects before start), so a render React throws
  // away costs nothing. `options` and `configure` are deliberately not dependencies: inline
  // objects and arrow functions are new on every render.
  const connection = useMemo(() => given ?? buildConnection(url, options, configure, shareAcrossTabs), [given, url]);
  // A layout effect runs before every passive effect of the children, so the provider starts
  // the connection (and owns stopping it) before their hooks join groups or subscribe; a
  // subscription that found it Disconnected would start it itself, and stop it when it ends.
  useClientLayoutEffect(() => hold(connection, "connection", () => openConnection(connection)).release, [connection]);
  return createElement(HubContext.Provider, { value: connection }, children);
}

/** The connection of the nearest `<HubProvider>`. Throws outside of one. */
export function useHubConnection() {
  const connection = useContext(HubContext);
  if (!connection) {
    throw new Error("hubwire/react: this hook must be used inside a <HubProvider>.");
  }
  return connection;
}

/**
 * Calls `handler` for every call of the client method `name` from the hub. The latest
 * `handler` is always the one called; the hub subscription is made once per name, not per
 * render. `options` (e.g. `{ dedupe }`) go to `connection.on` and are read when subscribing.
 */
export function useHubEvent(name, handler, options) {
  const connection = useHubConnection();
  const latest = useRef(handler);
  useClientLayoutEffect(() => {
    latest.current = handler;
  });
  const optionsRef = useRef(options);
  optionsRef.current = options;
  useEffect(() => {
    if (!name) return undefined;
    const listener = (...args) => (typeof latest.current === "function" ? latest.current(...args) : undefined);
    if (optionsRef.current === undefined) connection.on(name, listener);
    else connection.on(name, listener, optionsRef.current);
    return () => connection.off(name, listener);
  }, [connection, name]);
}

/**
 * The connection's state, re-rendering when it changes:
 * `{ state, attempt, nextRetryInMs, nextRetryAt, transport, connectionId, source, error }`.
 */
export function useConnectionState() {
  const store = stateStoreFor(useHubConnection());
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

const IDLE_INVOCATION = Object.freeze({ loading: false, error: null, data: undefined });

/**
 * Calls the hub method `name`: `{ invoke(...args), loading, error, data }`. `invoke` returns a
 * promise of the result that never rejects (it resolves with `undefined` on failure; the
 * failure is in `error`). `data` keeps the last successful result. When calls overlap, the
 * latest call's outcome is the one shown.
 */
export function useInvoke(name) {
  const connection = useHubConnection();
  const [status, setStatus] = useState(IDLE_INVOCATION);
  const lastCall = useRef(0);
  const invoke = useCallback(
    async (...args) => {
      const call = ++lastCall.current;
      setStatus((s) => (s.loading && s.error === null ? s : { ...s, loading: true, error: null }));
      try {
        const data = await connection.invoke(name, ...args);
        if (call === lastCall.current) setStatus({ loading: false, error: null, data });
        return data;
      } catch (error) {
        if (call === lastCall.current) setStatus((s) => ({ loading: false, error, data: s.data }));
        return undefined;
      }
    },
    [connection, name],
  );
  return useMemo(() => ({ invoke, ...status }), [invoke, status]);
}

const NOT_JOINED = Object.freeze({ joined: false, error: null });
const NO_STORE = { subscribe: () => noop, getSnapshot: () => NOT_JOINED };

/** Joins a group membership spec; closes by leaving it. Resolves its store as the hub answers. */
function openGroup(connection, spec) {
  const store = createStore(NOT_JOINED);
  if (typeof connection.joinGroup !== "function") {
    store.set({ joined: false, error: new Error("useGroup needs connection.joinGroup(spec), which this hubwire connection does not have.") });
    return { value: store, close: noop };
  }
  let closed = false;
  Promise.resolve()
    .then(() => connection.joinGroup(spec))
    .then(
      () => closed || store.set({ joined: true, error: null }),
      (error) => closed || store.set({ joined: false, error }),
    );
  return {
    value: store,
    close() {
      closed = true;
      if (typeof connection.leaveGroup !== "function") return;
      Promise.resolve()
        .then(() => connection.leaveGroup(spec))
        .catch(noop);
    },
  };
}

/**
 * Holds a group membership while mounted: `spec` is `{ join, leave, args }` (hub method names
 * and their arguments), joined through `connection.joinGroup(spec)` and left through
 * `connection.leaveGroup(spec)` on unmount; the connection keeps it across reconnects. Pass
 * `null` to hold nothing. Returns `{ joined, error }`. Components holding an equal spec share
 * one membership.
 */
export function useGroup(spec) {
  const connection = useHubConnection();
  const key = specKey(spec);
  const specRef = useRef(spec);
  specRef.current = spec;
  const [store, setStore] = useState(null);
  useEffect(() => {
    if (key === null) {
      setStore(null);
      return undefined;
    }
    const held = hold(connection, `group:${key}`, () => openGroup(connection, specRef.current));
    setStore(() => held.value);
    return held.release;
  }, [connection, key]);
  const current = store ?? NO_STORE;
  return useSyncExternalStore(current.subscribe, current.getSnapshot, current.getSnapshot);
}

const NO_VALUE = Object.freeze({ value: undefined, source: "idle", error: null });
const resolved = () => Promise.resolve();
const NO_SUBSCRIPTION = { subscribe: () => noop, getSnapshot: () => NO_VALUE, refresh: resolved };

/** Holds the subscriptions made outside any `<HubProvider>` (polling only, or `spec.connection`). */
const NO_CONNECTION = {};

/**
 * Subscribes with `connection.subscribe(spec)` when the connection has it, else with
 * hubwire/live's `subscribe(connection, spec)` (loaded on first use, so apps that never
 * subscribe do not load it); closes by unsubscribing. `spec.connection`, when given, wins.
 */
function openSubscription(connection, spec) {
  const store = createStore(NO_VALUE);
  let closed = false;
  let handle = null;
  const show = (value) => {
    if (closed || !handle) return;
    const current = handle.current;
    store.set({ value: current === undefined ? value : current, source: handle.source ?? "idle", error: null });
  };
  const fail = (error) => closed || store.set({ ...store.getSnapshot(), error });
  const attach = (h) => {
    if (closed) {
      h?.unsubscribe?.();
      return;
    }
    handle = h;
    h.onUpdate((value) => show(value));
    if (typeof h.onSourceChange === "function") {
      h.onSourceChange((change) => closed || store.set({ ...store.getSnapshot(), source: change?.current ?? h.source }));
    }
    if (typeof h.onError === "function") h.onError(fail);
    if (h.current !== undefined || (h.source && h.source !== "idle")) show(h.current);
  };
  const pushOver = spec.connection !== undefined ? spec.connection : connection;
  const subscribing =
    pushOver && typeof pushOver.subscribe === "function"
      ? promiseOf(() => pushOver.subscribe(spec))
      : importLive().then((live) => live.subscribe(pushOver ?? null, spec));
  subscribing.then(attach, fail);
  return {
    value: {
      subscribe: store.subscribe,
      getSnapshot: store.getSnapshot,
      /** Polls now (and re-reads the flag) when the subscription can; never rejects. */
      refresh: () => (handle && typeof handle.refresh === "function" ? promiseOf(() => handle.refresh()).then(noop, noop) : resolved()),
    },
    close() {
      closed = true;
      try {
        handle?.unsubscribe();
      } catch {
        // Unsubscribing a subscription that already ended is not the app's problem.
      }
    },
  };
}

/** hubwire/live, imported once, when the first live subscription hook renders. */
let liveImport = null;
function importLive() {
  liveImport ??= expectModule(import("./live.js"));
  return liveImport;
}

/**
 * The latest value of a live subscription (hubwire/live: push when the hub delivers, polling
 * when it does not, deduped): `{ value, source, error, refresh }`, `source` being "push",
 * "polling" or "idle". Pushes over the provider's connection (or `spec.connection`); outside a
 * provider it polls only. Resubscribes when the spec's data changes; functions in the spec are
 * taken when subscribing. Pass `null` to subscribe to nothing. Components passing an equal spec
 * share one subscription.
 */
export function useLiveSubscription(spec) {
  const connection = useContext(HubContext);
  // Started while rendering, before the provider's layout effect starts its connection: that
  // connection then waits for hubwire/live and is built on the same (full) wasm module.
  if (spec && !(typeof (spec.connection ?? connection)?.subscribe === "function")) importLive();
  const key = specKey(spec);
  const specRef = useRef(spec);
  specRef.current = spec;
  const [store, setStore] = useState(null);
  useEffect(() => {
    if (key === null) {
      setStore(null);
      return undefined;
    }
    const held = hold(connection ?? NO_CONNECTION, `subscription:${key}`, () => openSubscription(connection, specRef.current));
    setStore(() => held.value);
    return held.release;
  }, [connection, key]);
  const current = store ?? NO_SUBSCRIPTION;
  const snapshot = useSyncExternalStore(current.subscribe, current.getSnapshot, current.getSnapshot);
  const { refresh } = current;
  return useMemo(() => ({ ...snapshot, refresh }), [snapshot, refresh]);
}

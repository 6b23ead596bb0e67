// hubwire's WebAssembly loader: the one place the module is instantiated, and the host classes
// the shell uses in Node. Importing this file does nothing; `ready()` does the work, once.
//
// Where the bytes come from:
//   - Node (also under jsdom, happy-dom, Jest, Vitest): read from the package's own
//     hubwire_bg.wasm next to this file; nothing is fetched.
//   - Browsers: the wasm-bindgen glue's `new URL("hubwire_bg.wasm", import.meta.url)`, which
//     Vite and webpack 5 turn into an asset and a plain <script type="module"> fetches.
//
// Host classes in Node (see src/web/platform.rs, which looks them up at each use): a global
// WebSocket (EventSource) is used when it is the runtime's own; under a DOM emulation (jsdom,
// happy-dom), whose WebSocket trips over Node's own Event class, or where there is none, the
// optional peer package `ws` (`eventsource`) is used when installed. `fetch` is the global one;
// where a test environment has none (Jest's jsdom), Node's own fetch, Request, Headers and
// AbortController are taken together from Node's main realm, so they recognise each other.
//
// LazyCore is how every class of the npm package stays synchronous to build while the wasm is
// awaited inside its async methods: it holds the calls made before the module is ready and
// replays them, in order, on the core object once it exists.

import initWasm, * as glue from "./hubwire.js";
import { AbortError, createError } from "./errors.js";

let loading = null;
let loaded = false;

/** Whether the runtime is Node (or a runtime that answers as Node: Bun, Deno's Node mode). */
function isNode() {
  return typeof process === "object" && process !== null && process.release?.name === "node";
}

// Node built-ins are loaded by a name in a variable and with the bundlers' ignore comments, so
// Vite and webpack leave them out of browser bundles (the browser path never reaches them).
const NODE_MODULE = "node:module";

/** A require that resolves like Node's own, next to this file (Jest's would pick `browser` builds). */
async function nodeRequire() {
  const { createRequire } = await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_MODULE);
  const requireHere = createRequire(import.meta.url);
  // Jest hands the code it runs its own `module` built-in, whose createRequire resolves with
  // Jest's export conditions (`browser`: ws's stub that throws) into Jest's realm. Node's main
  // context has the real one (process.getBuiltinModule: Node 20.16 and later).
  const mainProcess = requireHere("node:vm").runInThisContext("process");
  const nodeModule = typeof mainProcess?.getBuiltinModule === "function" ? mainProcess.getBuiltinModule("node:module") : null;
  return nodeModule ? nodeModule.createRequire(import.meta.url) : requireHere;
}

/** `require(name)` of an optional peer dependency, or null when it is not installed. */
function optional(nodeRequired, name) {
  try {
    return nodeRequired(name);
  } catch (error) {
    if (error?.code === "MODULE_NOT_FOUND" || error?.code === "ERR_MODULE_NOT_FOUND") return null;
    throw error;
  }
}

/** The host classes the shell should use in this Node process instead of the globals. */
function nodeHostOverrides(nodeRequired) {
  const overrides = {};
  const emulatedDom = /\b(jsdom|HappyDOM)\b/i.test(String(globalThis.navigator?.userAgent ?? ""));
  if (typeof globalThis.WebSocket !== "function" || emulatedDom) {
    const ws = optional(nodeRequired, "ws");
    if (ws) overrides.WebSocket = ws.WebSocket ?? ws;
  }
  if (typeof globalThis.EventSource !== "function" || emulatedDom) {
    const eventsource = optional(nodeRequired, "eventsource");
    if (eventsource) overrides.EventSource = eventsource.EventSource ?? eventsource;
  }
  // The family is taken whole when any member is missing (a test kit may have put a `fetch` in
  // a scope that has no Request), so the four recognise each other.
  const fetchFamily = ["fetch", "Request", "Headers", "AbortController"];
  if (fetchFamily.some((name) => typeof globalThis[name] !== "function")) {
    // runInThisContext runs in Node's main context even when this module runs inside a vm
    // context (Jest), so these are Node's own, from one realm.
    const main = nodeRequired("node:vm").runInThisContext("globalThis");
    if (typeof main.fetch === "function") {
      for (const name of fetchFamily) overrides[name] = main[name];
    }
  }
  return overrides;
}

async function load() {
  if (isNode()) {
    const nodeRequired = await nodeRequire();
    const bytes = nodeRequired("node:fs").readFileSync(nodeRequired.resolve("./hubwire_bg.wasm"));
    await initWasm({ module_or_path: bytes });
    nodeOverrides = nodeHostOverrides(nodeRequired);
  } else {
    await initWasm();
  }
  // Errors the shell raises are instances of the package's exported classes (errors.js).
  glue.setErrorFactory(createError);
  loaded = true;
  applyHostOverrides();
}

/** The Node host classes chosen at load (empty in browsers and before the load). */
let nodeOverrides = {};
/** Host classes hubwire/testing put over those (null when none). */
let testOverrides = null;

function applyHostOverrides() {
  if (loaded && (testOverrides || Object.keys(nodeOverrides).length > 0)) glue.setHostOverrides({ ...nodeOverrides, ...testOverrides });
}

/**
 * @internal For hubwire/testing only: host classes (`WebSocket`, `fetch`, ...) that the shell
 * uses instead of the ones chosen above, now or once the module loads; null puts those back.
 */
export function setTestHostOverrides(overrides) {
  testOverrides = overrides ?? null;
  if (loaded) glue.setHostOverrides({ ...nodeOverrides, ...testOverrides });
}

/** @internal For hubwire/testing: the host value `name` the shell would use without its overrides. */
export function baseHost(name) {
  return nodeOverrides[name] ?? globalThis[name];
}

/**
 * Instantiates the WebAssembly module (once; later calls return the same promise). Every async
 * method awaits it by itself; call it to preload, or to fail early where the module cannot load.
 * A failed load is not cached: the next call tries again.
 */
export function ready() {
  if (!loading) {
    loading = load().catch((error) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}

/** Whether the module is instantiated (so cores can be built synchronously). */
export function isReady() {
  return loaded;
}

/** The wasm-bindgen exports (classes and functions of the core); only after `ready()`. */
export { glue as wasm };

/**
 * A core object (a wasm class instance) that exists once the module is ready. Calls made
 * before that are queued by `later` and replayed in order when the core is made.
 */
export class LazyCore {
  #make;
  #core = null;
  #queue = [];
  #cancelled = false;
  #failure = null; // the constructor's error, when making the core failed
  #replayError = null; // the first error a queued call raised, until get() reports it

  /**
   * `make(wasm)` builds the core: right here when the module is ready (so its errors throw
   * here, as a synchronous constructor's would), else when the module is.
   */
  constructor(make) {
    this.#make = make;
    if (loaded) this.#core = make(glue);
  }

  /** The core, or null while the module is not ready (or the core could not be made). */
  get current() {
    if (!this.#core && loaded && !this.#cancelled && !this.#failure) this.#materialize();
    return this.#core;
  }

  /** Runs `op(core)` now when there is a core, else when it is made. */
  later(op) {
    const core = this.current;
    if (core) op(core);
    else if (!this.#cancelled && !this.#failure) this.#queue.push(op);
  }

  /**
   * Resolves with the core, instantiating the module first when needed. Rejects with the load
   * error, the core's constructor error (its settings are checked there), or the first error a
   * queued call raised (the other queued calls still ran).
   */
  async get() {
    await ready();
    if (this.#cancelled) throw new Error("hubwire: this object was closed before the WebAssembly module was ready.");
    const core = this.current;
    if (this.#failure) throw this.#failure;
    if (this.#replayError) {
      const error = this.#replayError;
      this.#replayError = null;
      throw error;
    }
    return core;
  }

  /** Forgets the queued calls and never makes the core. */
  cancel() {
    this.#cancelled = true;
    this.#queue = [];
  }

  #materialize() {
    try {
      this.#core = this.#make(glue);
    } catch (error) {
      this.#failure = error;
      this.#queue = [];
      return;
    }
    for (const op of this.#queue.splice(0)) {
      try {
        op(this.#core);
      } catch (error) {
        this.#replayError ??= error;
      }
    }
  }
}

/**
 * start() and stop() of a connection whose core may not exist yet (HubConnection and
 * PlainSocketConnection share it). A start made while the module loads reads as "Connecting",
 * waits for the core and then starts it; a stop meanwhile calls it off (it rejects). When the
 * module cannot load, the core that would have told the onstatechange listeners never
 * existed, so this tells them (Connecting → Disconnected, with the reason) before rejecting.
 */
export class LazyStart {
  #core;
  #alreadyStarting;
  /** The start waiting for the module (an object, compared by identity), or null. */
  #waiting = null;
  /** onstatechange callbacks, told when a start fails before the core exists. */
  #stateListeners = [];

  /** `core` is the connection's LazyCore; `alreadyStarting` the error text of a second start. */
  constructor(core, alreadyStarting) {
    this.#core = core;
    this.#alreadyStarting = alreadyStarting;
  }

  /** Whether a start waits for the module. */
  get pending() {
    return this.#waiting !== null;
  }

  /** Remembers an onstatechange callback for a failure before the core exists. */
  addStateListener(callback) {
    this.#stateListeners.push(callback);
  }

  start() {
    const core = this.#core.current;
    if (core) return core.start();
    if (this.#waiting) return Promise.reject(new Error(this.#alreadyStarting));
    const attempt = {};
    this.#waiting = attempt;
    return this.#core.get().then(
      (core) => {
        // As the official client's stop() during start(): the start rejects with an AbortError.
        if (this.#waiting !== attempt) throw new AbortError("The connection was stopped during negotiation.");
        this.#waiting = null;
        return core.start();
      },
      (error) => {
        if (this.#waiting === attempt) {
          this.#waiting = null;
          const reason = String(error?.message ?? error);
          for (const listener of this.#stateListeners) {
            listener({ previous: "Connecting", current: "Disconnected", reason, attempt: 0, nextRetryInMs: null, transport: null, connectionId: null });
          }
        }
        throw error;
      },
    );
  }

  stop() {
    const core = this.#core.current;
    if (core) return core.stop();
    // A start still waiting for the module is called off (it rejects); nothing else is open.
    this.#waiting = null;
    return Promise.resolve();
  }
}

// hubwire's WebAssembly loader: the one place a module is instantiated, and the host classes
// the shell uses in Node. Importing this file does nothing; `ready()` does the work, once.
//
// The package has two modules, built from one crate with different cargo features
// (scripts/build-wasm.sh): the core module (`hubwire_bg.wasm`: the JSON hub connection) and the
// full module (`hubwire_full_bg.wasm`: the same plus MessagePack and live subscriptions). Each
// is a `WasmModule`: this file makes the core one, `wasm-full.js` the full one, and both glue
// files are loaded with import(), so a bundler splits each into its own chunk and an app
// downloads only the one it uses. Which one: the full module serves everything once its file
// is imported (`hubwire/live` and `hubwire/msgpack` import it; one module per app, never two
// downloads), else the core one; a connection that needs a feature the core module lacks (an
// official MessagePackHubProtocol object without `hubwire/msgpack`) imports the full one then.
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
// replays them, in order, on the core object once it exists. (tabs.js uses it the same way
// while tab-link.js, the tab-sharing code, is being imported.)

import { AbortError, createError } from "./errors.js";

/** Every module this bundle holds (the core one, and the full one once wasm-full.js is imported). */
const modules = [];

/** One of the package's wasm modules with its glue, loaded at most once. */
export class WasmModule {
  /** The wasm-bindgen exports once loaded (classes and functions of the core), else null. */
  glue = null;
  #loading = null;

  /**
   * `importGlue()` imports the module's wasm-bindgen glue; `wasmFile` is the .wasm next to it;
   * `features` are the cargo features built in ("msgpack", "live").
   */
  constructor(name, importGlue, wasmFile, features) {
    this.name = name;
    this.features = features;
    this.#importGlue = importGlue;
    this.#wasmFile = wasmFile;
    modules.push(this);
  }

  #importGlue;
  #wasmFile;

  /** Whether the module is instantiated (so cores can be built synchronously). */
  get loaded() {
    return this.glue !== null;
  }

  /** Whether the module has every feature in `needs`. */
  covers(needs) {
    return needs.every((feature) => this.features.includes(feature));
  }

  /** Instantiates the module (once; a failed load is not cached: the next call tries again). */
  ready() {
    if (!this.#loading) {
      this.#loading = this.#load().catch((error) => {
        this.#loading = null;
        throw error;
      });
    }
    return this.#loading;
  }

  async #load() {
    const glue = await this.#importGlue();
    if (isNode()) {
      const nodeRequired = await nodeRequire();
      const bytes = nodeRequired("node:fs").readFileSync(nodeRequired.resolve(`./${this.#wasmFile}`));
      await glue.default({ module_or_path: bytes });
      nodeOverrides = nodeHostOverrides(nodeRequired);
    } else {
      await glue.default();
    }
    // Errors the shell raises are instances of the package's exported classes (errors.js).
    glue.setErrorFactory(createError);
    this.glue = glue;
    applyHostOverrides(this);
  }
}

/** The core module: the JSON hub connection. */
export const coreModule = new WasmModule("core", () => import("./hubwire.js"), "hubwire_bg.wasm", []);

/**
 * The module a new core object with the features `needs` is built on: the richest module this
 * bundle holds, when it covers them (one module per app); null when none does.
 */
export function moduleFor(needs = []) {
  const richest = modules.reduce((best, module) => (module.features.length > best.features.length ? module : best));
  return richest.covers(needs) ? richest : (modules.find((module) => module.covers(needs)) ?? null);
}

/** Imports under way that bring a module with them (react.js importing live.js). */
const expected = new Set();

/**
 * @internal For react.js: `promise` (an import of an entry that imports wasm-full.js) brings a
 * module; cores not yet built wait for it before choosing theirs, so an app whose React hooks
 * load hubwire/live downloads one module, not two. Returns `promise`.
 */
export function expectModule(promise) {
  const settled = promise.then(noop, noop).finally(() => expected.delete(settled));
  expected.add(settled);
  return promise;
}

function noop() {}

/**
 * The module with `needs` for a core about to be built: after the imports under way, the
 * richest held (moduleFor), else the full module, imported now.
 */
async function moduleWith(needs) {
  while (expected.size > 0) await Promise.all([...expected]);
  const module = moduleFor(needs);
  if (module) return module;
  const { fullModule } = await import("./wasm-full.js");
  return fullModule;
}

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

/** The Node host classes chosen at load (empty in browsers and before the load). */
let nodeOverrides = {};
/** Host classes hubwire/testing put over those (null when none). */
let testOverrides = null;

/** Hands the host overrides to `module` (when loaded), or to every loaded module. */
function applyHostOverrides(module) {
  const overrides = { ...nodeOverrides, ...testOverrides };
  for (const each of module ? [module] : modules) {
    if (each.loaded && (testOverrides || Object.keys(overrides).length > 0)) each.glue.setHostOverrides(overrides);
  }
}

/**
 * @internal For hubwire/testing only: host classes (`WebSocket`, `fetch`, ...) that the shell
 * uses instead of the ones chosen above, now or once the module loads; null puts those back.
 */
export function setTestHostOverrides(overrides) {
  testOverrides = overrides ?? null;
  for (const module of modules) {
    if (module.loaded) module.glue.setHostOverrides({ ...nodeOverrides, ...testOverrides });
  }
}

/** @internal For hubwire/testing: the host value `name` the shell would use without its overrides. */
export function baseHost(name) {
  return nodeOverrides[name] ?? globalThis[name];
}

/**
 * Instantiates the WebAssembly module new connections use (once; later calls return the same
 * promise). Every async method awaits it by itself; call it to preload, or to fail early where
 * the module cannot load. A failed load is not cached: the next call tries again.
 */
export function ready() {
  return moduleFor().ready();
}

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

  #module; // the WasmModule this core is built on (null until chosen)
  #choosing = null; // the choice under way (get())
  #needs;

  /**
   * `make(wasm)` builds the core: right here when the module is ready (so its errors throw
   * here, as a synchronous constructor's would), else when the module is. `needs` lists the
   * cargo features the core needs ("msgpack", "live"); `module` is the module to build it on
   * (else `moduleFor(needs)` chooses). Any loader shaped like a WasmModule (`loaded`, `glue`,
   * `ready()`) will do: tabs.js builds its TabLinks on the import of tab-link.js this way.
   */
  constructor(make, needs = [], module = null) {
    this.#make = make;
    this.#needs = needs;
    // Without a given module the choice waits for the first get() (an import under way may
    // bring a richer one), unless the module it would be is loaded and nothing is under way.
    this.#module = module;
    const now = module ?? moduleFor(needs);
    if (now?.loaded && (module || expected.size === 0)) {
      this.#module = now;
      this.#core = make(now.glue);
    }
  }

  /** The core, or null while the module is not ready (or the core could not be made). */
  get current() {
    if (!this.#core && this.#module?.loaded && !this.#cancelled && !this.#failure) this.#materialize();
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
    this.#choosing ??= this.#module ? Promise.resolve(this.#module) : moduleWith(this.#needs);
    this.#module = await this.#choosing;
    await this.#module.ready();
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
      this.#core = this.#make(this.#module.glue);
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

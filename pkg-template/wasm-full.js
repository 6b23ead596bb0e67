// The package's full WebAssembly module: the core module's JSON hub connection plus the
// MessagePack hub protocol and live subscriptions (cargo features `msgpack` and `live`). Only
// `hubwire/live` and `hubwire/msgpack` import this file, so apps that use neither never bundle
// or download the module (see wasm.js for how the module is chosen).

import { WasmModule } from "./wasm.js";

/** The full module: what `hubwire/live` and `hubwire/msgpack` need. */
export const fullModule = new WasmModule("full", () => import("./hubwire_full.js"), "hubwire_full_bg.wasm", ["msgpack", "live"]);

// The hubwire client behind the benchmark page's client interface (see ../bench.js).
// Groups are joined with joinGroup, so hubwire re-joins them by itself after a reconnect and
// fires onreconnected once they are back.

import { HubConnectionBuilder, HttpTransportType, LogLevel, VERSION, ready } from "/pkg/index.js";
import init from "/pkg/hubwire.js";

export async function createClient({ url, delays }) {
  // ready() instantiates the module (once, lazily); init() then hands back that instance's
  // exports, for the memory figures.
  await ready();
  const wasm = await init();
  const connection = new HubConnectionBuilder()
    .withUrl(url, { transport: HttpTransportType.WebSockets })
    // The recovery steps drop the connection as soon as it is back, which hubwire's no-storm
    // rule reads as a flapping server (a loss within 5 s continues the retry schedule: 2 s,
    // then 10 s...). The official client has no such rule; for a like-for-like recovery time
    // the threshold is 1 ms here.
    .withAutomaticReconnect({ delays, stableConnectionThresholdInMilliseconds: 1 })
    .configureLogging(LogLevel.None)
    // Only for the recovery breakdown: connectionOpened marks the new connection being up,
    // before the re-joins (the state turns Connected only after them). No per-message records:
    // no latency fields are set.
    .withTelemetry({ onEvent: (record) => record.type === "connectionOpened" && connected() })
    .build();
  let recovered = () => {};
  let connected = () => {};
  let lost = () => {};
  connection.onreconnecting(() => lost());
  connection.onreconnected(() => recovered());
  return {
    name: "hubwire",
    version: VERSION,
    start: () => connection.start(),
    stop: () => connection.stop(),
    on: (target, handler) => connection.on(target, handler),
    invoke: (method, ...args) => connection.invoke(method, ...args),
    async joinGroups(ids) {
      for (const id of ids) {
        await connection.joinGroup({ join: "JoinContractorGroup", leave: "LeaveContractorGroup", args: [id] });
      }
    },
    onRecovered(callback) {
      recovered = callback;
    },
    onConnected(callback) {
      connected = callback;
    },
    onLost(callback) {
      lost = callback;
    },
    wasmBytes: () => wasm.memory.buffer.byteLength,
  };
}

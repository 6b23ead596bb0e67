// Differential tests: every scenario of tests/differential/scenarios.mjs runs on the official
// @microsoft/signalr client and on hubwire (the built pkg/), on each transport, against the mock
// hub; the two records of what the app observed (and what the hub received) must be equal,
// except for the deliberate differences in tests/differential/allowed-differences.json.
//
// Every scenario runs again with the MessagePack hub protocol (the official client with
// @microsoft/signalr-protocol-msgpack, hubwire with hubwire/msgpack) on WebSockets and Long
// Polling, the transports that carry it.
//
// Run: node --test tests/js/differential.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)
// Some tests: HUBWIRE_DIFF_ONLY="send" node --test tests/js/differential.test.mjs (a part of
// the test name: a scenario's name, or "MessagePack")

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as official from "@microsoft/signalr";
import * as hubwire from "../../pkg/index.js";
import { MessagePackHubProtocol as OfficialMessagePack } from "@microsoft/signalr-protocol-msgpack";
import { MessagePackHubProtocol as HubwireMessagePack } from "../../pkg/msgpack.js";
import { startMock } from "./support/mock.mjs";
import { Recorder, differences, normaliseHubLog, pathMatches, sleep } from "../differential/observe.mjs";
import { TRANSPORTS, scenarios } from "../differential/scenarios.mjs";

const TEST_TIMEOUT_MS = 60_000;
/** How long the hub may take to notice that the scenario's connections are gone. */
const SETTLE_MS = 3_000;

const allowList = JSON.parse(await readFile(new URL("../differential/allowed-differences.json", import.meta.url), "utf8")).allowed;
const mocks = new Map(); // mock flags (joined) -> running mock

before(async () => {
  // The module load is not part of any scenario: hubwire's start() would otherwise wait for it once.
  await hubwire.ready();
});

after(async () => {
  for (const mock of mocks.values()) await (await mock).stop();
  // The official client leaves the EventSource of a refused Server-Sent Events connect open
  // (its connect rejects without closing it), and the `eventsource` package then retries the
  // stopped hub forever, which would keep this process alive after the last test. Nothing else
  // is left running: exit once the results are out.
  setTimeout(() => process.exit(), 1_000).unref();
});

function mockFor(args = []) {
  const key = args.join(" ");
  if (!mocks.has(key)) mocks.set(key, startMock(args));
  return mocks.get(key);
}

async function resetMock(mock) {
  await mock.control("DELETE /control/faults");
  await mock.control("/control/auth", { token: null });
  await mock.control("/control/redirect", { enabled: false });
}

/** Waits until the hub has no live connection (or SETTLE_MS passed). */
async function settled(mock) {
  const deadline = Date.now() + SETTLE_MS;
  while (Date.now() < deadline) {
    if ((await mock.control("/control/connections")).length === 0) return;
    await sleep(50);
  }
}

/** The hub protocols every scenario runs with, and the transports each can use. */
const PROTOCOLS = [
  { name: "JSON", suffix: "", transports: TRANSPORTS },
  { name: "MessagePack", suffix: ", MessagePack", transports: ["WebSockets", "LongPolling"] },
];

/** A factory of `lib`'s protocol object for `protocol` (undefined for JSON, the default). */
function protocolFor(lib, protocol) {
  if (protocol.name !== "MessagePack") return undefined;
  return lib === official ? () => new OfficialMessagePack() : () => new HubwireMessagePack();
}

/** Runs one scenario on one library: `{ events, hub }`. */
async function record(lib, scenario, transport, mock, protocol = PROTOCOLS[0]) {
  await resetMock(mock);
  await settled(mock);
  await mock.control("DELETE /control/log");
  const rec = new Recorder(lib);
  const connections = [];
  const env = {
    lib,
    rec,
    transport,
    hubProtocol: protocolFor(lib, protocol),
    url: new URL("hub", mock.url).href,
    mockUrl: mock.url,
    control: mock.control,
    track: (connection) => connections.push(connection),
  };
  try {
    await scenario.run(env);
  } catch (error) {
    rec.push("scenario threw", { error: rec.error(error), stack: String(error.stack).split("\n").slice(0, 3).join(" | ") });
  }
  for (const connection of connections) {
    await Promise.race([connection.stop().catch(() => {}), sleep(SETTLE_MS)]);
  }
  await resetMock(mock);
  await settled(mock);
  const hub = scenario.hubLog === false ? "<not compared>" : normaliseHubLog(rec, await mock.control("/control/log"), { transport });
  return { events: rec.entries, hub };
}

function allowed(scenario, transport, row) {
  return allowList.some(
    (entry) =>
      (entry.scenario === "*" || entry.scenario === scenario.name) &&
      (entry.transport === "*" || entry.transport === transport) &&
      pathMatches(entry.path, row.path),
  );
}

test("every allow-list entry names a scenario, a transport, a path, a reason and a README anchor that exist", async () => {
  const readme = await readFile(new URL("../../pkg-template/README.md", import.meta.url), "utf8");
  // GitHub's anchors: headings lower-cased, punctuation dropped, spaces to dashes.
  const anchors = new Set(
    [...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")),
  );
  // The section every entry's anchor points into.
  assert.ok(anchors.has("deliberate-differences"), [...anchors].join(", "));
  for (const entry of allowList) {
    assert.ok(entry.scenario === "*" || scenarios.some((s) => s.name === entry.scenario), `unknown scenario: ${entry.scenario}`);
    assert.ok(entry.transport === "*" || TRANSPORTS.includes(entry.transport), `unknown transport: ${entry.transport}`);
    assert.match(entry.path, /^\//, "a path starts with /");
    assert.ok(typeof entry.reason === "string" && entry.reason.length > 20, `a reason for ${entry.path}`);
    assert.ok(anchors.has(String(entry.readme).replace(/^#/, "")), `README anchor ${entry.readme} exists`);
  }
});

const only = process.env.HUBWIRE_DIFF_ONLY;
for (const protocol of PROTOCOLS) for (const scenario of scenarios) {
  if (scenario.hubProtocols && !scenario.hubProtocols.includes(protocol.name)) continue;
  for (const transport of (scenario.transports ?? TRANSPORTS).filter((t) => protocol.transports.includes(t))) {
    const name = `${scenario.name} [${transport}${protocol.suffix}]`;
    if (only && !name.includes(only)) continue;
    test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
      const mock = await mockFor(scenario.mockArgs);
      const officialRecord = await record(official, scenario, transport, mock, protocol);
      const hubwireRecord = await record(hubwire, scenario, transport, mock, protocol);
      const rows = differences(officialRecord, hubwireRecord).filter((row) => !allowed(scenario, transport, row));
      if (rows.length > 0) {
        // One line per entry keeps the two records side by side readable.
        const show = (value) =>
          Array.isArray(value)
            ? value.map((entry) => `   ${JSON.stringify(entry)}`).join("\n")
            : `   ${JSON.stringify(value)}`;
        const showRecord = (r) => ` events:\n${show(r.events)}\n hub:\n${show(r.hub)}`;
        assert.fail(
          `${rows.length} difference(s) not on the allow-list:\n${rows.map((r) => `  ${r.path}: official ${JSON.stringify(r.official)} / hubwire ${JSON.stringify(r.hubwire)}`).join("\n")}\n` +
            `official record:\n${showRecord(officialRecord)}\nhubwire record:\n${showRecord(hubwireRecord)}`,
        );
      }
    });
  }
}

// Which of the package's two wasm modules a page downloads (see pkg-template/wasm.js), in every
// browser engine: an app that imports only `hubwire` fetches the core module and its glue and
// nothing of the full one; one that imports `hubwire/msgpack` or `hubwire/live` fetches only
// the full module, its plain JSON connections included; an official MessagePackHubProtocol
// object (no `hubwire/msgpack`) makes the connection fetch the full module when it starts.
// What was fetched is read from the page's own resource timing entries.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";

import { ENGINES, launch } from "./support/engines.mjs";
import { workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

// Each page connects, echoes one value over its protocol and stops, then lists the package
// files it fetched. `@msgpack/msgpack` resolves to the copy the mock serves.
const SCENARIOS = {
  json: `import { HubConnectionBuilder } from "/pkg/index.js";
    const build = () => new HubConnectionBuilder().withUrl("/hub").build();`,
  msgpack: `import { HubConnectionBuilder } from "/pkg/index.js";
    import { MessagePackHubProtocol } from "/pkg/msgpack.js";
    const build = () => new HubConnectionBuilder().withUrl("/hub").withHubProtocol(new MessagePackHubProtocol()).build();`,
  live: `import { HubConnectionBuilder } from "/pkg/index.js";
    import { subscribe } from "/pkg/live.js";
    window.liveImported = typeof subscribe;
    const build = () => new HubConnectionBuilder().withUrl("/hub").build();`,
  // The shape of @microsoft/signalr-protocol-msgpack's protocol object, which hubwire accepts:
  // name "messagepack" and an _encoder/_decoder pair.
  "official-protocol-object": `import { HubConnectionBuilder } from "/pkg/index.js";
    import { Encoder, Decoder } from "@msgpack/msgpack";
    const official = { name: "messagepack", version: 2, transferFormat: 2, _encoder: new Encoder(), _decoder: new Decoder() };
    const build = () => new HubConnectionBuilder().withUrl("/hub").withHubProtocol(official).build();`,
};

const page = (script) => `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "@msgpack/msgpack": "/vendor/msgpack/index.mjs" } }</script>
<script type="module">
  ${script}
  try {
    const connection = build();
    await connection.start();
    const echoed = await connection.invoke("Echo", { n: [1, 2.5], ok: true });
    await connection.stop();
    const fetched = performance.getEntriesByType("resource").map((entry) => new URL(entry.name).pathname)
      .filter((file) => file.startsWith("/pkg/hubwire") || file.startsWith("/pkg/wasm"))
      .map((file) => file.slice("/pkg/".length)).sort();
    window.outcome = { echoed, fetched: [...new Set(fetched)] };
  } catch (error) {
    window.outcome = { error: String(error?.message ?? error) };
  }
</script>`;

const ECHOED = { n: [1, 2.5], ok: true };
const CORE = ["hubwire.js", "hubwire_bg.wasm", "wasm.js"];
const FULL = ["hubwire_full.js", "hubwire_full_bg.wasm", "wasm-full.js", "wasm.js"];
const EXPECTED = { json: CORE, msgpack: FULL, live: FULL, "official-protocol-object": FULL };

for (const engine of ENGINES) {
  describe(`${engine}: which wasm module a page downloads`, () => {
    let work;
    let mock;
    let browser;
    let tab;

    before(async () => {
      work = await workDir(`module-choice-${engine}`);
      for (const [name, script] of Object.entries(SCENARIOS)) await writeFile(path.join(work.path, `${name}.html`), page(script));
      mock = await startMock(["--www", work.path, "--pkg", "pkg"]);
      browser = await launch(engine);
      tab = await browser.newPage();
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    for (const [name, files] of Object.entries(EXPECTED)) {
      test(`[${engine}] ${name}: fetches ${files.filter((f) => f.endsWith(".wasm")).join(", ")} and no other module`, async () => {
        await tab.goto(`${mock.url}${name}.html`);
        const outcome = await tab.waitForFunction(() => window.outcome, null, { timeout: 20_000, what: `the ${name} page's outcome` });
        assert.deepEqual(outcome, { echoed: ECHOED, fetched: files });
      });
    }
  });
}

// Loading the package twice in one page, in every browser engine: a static import and a dynamic
// import() of /pkg/index.js while the static one is still loading.
//
// Found by running: while the package instantiated its wasm with top-level await, WebKit
// (WebKitGTK 2.50) settled such an import() before the module had finished evaluating, so
// reading its exports threw "ReferenceError: Cannot access uninitialized variable." (every load
// of the page below); Chromium and Firefox waited, as the spec says. The package's lazy
// initialisation (no top-level await: the wasm loads on first use) removed the hazard; this
// suite keeps it removed in every engine, so an app that lazy-loads hubwire while another part
// of the page imports it works in Safari too.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";

import { ENGINES, launch } from "./support/engines.mjs";
import { workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const LOADS = 12;

// The first module script imports the package statically; the second runs while the first is
// still in its top-level await and imports it again. `window.outcome` says what the second saw.
const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">import { HubConnectionBuilder } from "/pkg/index.js"; window.staticImport = typeof HubConnectionBuilder;</script>
<script type="module">
  const mode = new URLSearchParams(location.search).get("mode");
  if (mode === "after") while (!window.staticImport) await new Promise((r) => setTimeout(r, 10));
  try {
    const { HubConnectionBuilder } = await import("/pkg/index.js");
    new HubConnectionBuilder().withUrl("/hub").build();
    window.outcome = "ok";
  } catch (error) {
    window.outcome = String(error);
  }
</script>`;

for (const engine of ENGINES) {
  describe(`${engine}: loading the package twice in a page`, () => {
    let work;
    let mock;
    let browser;
    let page;

    before(async () => {
      work = await workDir(`module-loading-${engine}`);
      await writeFile(path.join(work.path, "index.html"), PAGE);
      mock = await startMock(["--www", work.path, "--pkg", "pkg"]);
      browser = await launch(engine);
      page = await browser.newPage();
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    /** What the second import saw on each of LOADS page loads, counted. */
    async function outcomes(mode) {
      const counts = {};
      for (let i = 0; i < LOADS; i++) {
        await page.goto(`${mock.url}index.html?mode=${mode}&load=${i}`);
        const outcome = await page.waitForFunction(() => window.outcome, null, { timeout: 20_000, what: "the second import's outcome" });
        counts[outcome] = (counts[outcome] ?? 0) + 1;
      }
      return counts;
    }

    test(`[${engine}] import() while the page's own import is still loading waits for it and works`, async () => {
      assert.deepEqual(await outcomes("during"), { ok: LOADS });
    });

    test(`[${engine}] import() after the page's own import has settled works`, async () => {
      assert.deepEqual(await outcomes("after"), { ok: LOADS });
    });
  });
}
